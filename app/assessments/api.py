from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import WithJsonSchema

from app.assessments import service
from app.assessments.schemas import (
    AnswersUpdate,
    AssessmentCreate,
    AssessmentRead,
    HistoryItem,
)
from app.kit.conditional import (
    PRIVATE_REVALIDATE,
    IfNoneMatch,
    content_language,
    json_response,
    model_response,
)
from app.kit.cursor import Page, PageDep
from app.kit.db import SessionDep
from app.kit.errors import problem_responses
from app.kit.guards import scoped
from app.kit.i18n import LangDep
from app.kit.idempotency import fingerprint
from app.kit.principal import Principal
from app.kit.routing import domain_router, single_statement_writes
from app.questionnaires.service import CatalogDep
from app.results.schemas import ResultRead

router = domain_router(tags=["assessments"])

Reader = Annotated[Principal, Depends(scoped("assessments:read"))]
Writer = Annotated[Principal, Depends(scoped("assessments:write"))]
IfMatch = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=1000,
        description="The ETag of the assessment as you last read it (required on writes).",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    # 1 to 255 characters (the service says so with a 422): the document states the bound.
    WithJsonSchema(
        {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 255}, {"type": "null"}]},
        mode="validation",
    ),
    Header(
        max_length=255,
        description="Makes the submit safe to retry: the same key and request replay the first "
        "response.",
    ),
]


def _with_etag(view: AssessmentRead, response: Response) -> AssessmentRead:
    response.headers["ETag"] = view.etag
    return view


@router.post(
    "/enterprises/{enterprise_id}/assessments",
    operation_id="assessments_create",
    status_code=status.HTTP_201_CREATED,
    response_model=AssessmentRead,
    responses=problem_responses(422),
    summary="Start an assessment (latest questionnaire version unless one is named)",
)
def create_assessment(
    enterprise_id: uuid.UUID,
    body: AssessmentCreate,
    session: SessionDep,
    principal: Writer,
    catalog: CatalogDep,
    lang: LangDep,
    response: Response,
) -> AssessmentRead:
    assessment = service.create(session, principal, catalog, enterprise_id, body)
    response.headers["Location"] = f"/api/v1/assessments/{assessment.id}"
    return _with_etag(service.view(session, catalog, assessment, lang), response)


@router.get(
    "/enterprises/{enterprise_id}/assessments",
    operation_id="assessments_history",
    response_model=Page[HistoryItem],
    summary="The enterprise's assessments, newest first, with the change between submissions",
)
def list_history(
    enterprise_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    catalog: CatalogDep,
    lang: LangDep,
    page: PageDep,
) -> Page[HistoryItem]:
    return service.history(
        session, principal, catalog, enterprise_id, cursor=page.cursor, limit=page.limit, lang=lang
    )


@router.get(
    "/assessments/{assessment_id}",
    operation_id="assessments_get",
    response_model=AssessmentRead,
    summary="An assessment: answers, progress per stage, the questions that apply, ETag",
)
def get_assessment(
    assessment_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    catalog: CatalogDep,
    lang: LangDep,
    response: Response,
) -> AssessmentRead:
    assessment = service.get_visible(session, principal, assessment_id, with_enterprise=True)
    return _with_etag(service.view(session, catalog, assessment, lang), response)


@router.put(
    "/assessments/{assessment_id}/answers",
    operation_id="assessments_put_answers",
    response_model=AssessmentRead,
    responses=problem_responses(409, 412, 422, 428),
    summary="Save some answers (any stage); all or none is saved",
)
@single_statement_writes  # AssessmentRepository.save_draft on PostgreSQL
def put_answers(
    assessment_id: uuid.UUID,
    body: AnswersUpdate,
    session: SessionDep,
    principal: Writer,
    catalog: CatalogDep,
    lang: LangDep,
    if_match: IfMatch = None,
) -> Response:
    view = service.update_answers(session, principal, catalog, assessment_id, body, if_match, lang)
    return model_response(view, {"ETag": view.etag})


@router.post(
    "/assessments/{assessment_id}/submit",
    operation_id="assessments_submit",
    response_model=ResultRead,
    responses=problem_responses(409, 412, 422, 428),
    summary="Submit: score the answers and keep the result (safe to retry with Idempotency-Key)",
)
async def submit_assessment(
    assessment_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Writer,
    catalog: CatalogDep,
    lang: LangDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    from fastapi.concurrency import run_in_threadpool

    body = await request.body()
    outcome = await run_in_threadpool(
        service.submit,
        session,
        principal,
        catalog,
        assessment_id,
        if_match=if_match,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint(request.method, request.url.path, body),
        lang=lang,
        programmes=request.app.state.subsidies.programmes,
    )
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)


@router.get(
    "/assessments/{assessment_id}/result",
    operation_id="assessments_result",
    response_model=ResultRead,
    responses={304: {"description": "Not modified: the result named by If-None-Match."}},
    summary="The result kept at submission: scores, rung, why, roadmap, crosswalk, subsidies",
)
def get_result(
    assessment_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    catalog: CatalogDep,
    lang: LangDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    stored = service.get_result_json(session, principal, catalog, assessment_id, lang)
    return json_response(stored, if_none_match, PRIVATE_REVALIDATE | content_language(lang))
