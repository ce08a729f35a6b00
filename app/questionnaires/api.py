from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from app.kit.conditional import (
    IfNoneMatch,
    JsonBody,
    LruCache,
    content_language,
    json_body,
    json_response,
)
from app.kit.errors import NotFound
from app.kit.guards import PUBLIC_OPERATION
from app.kit.i18n import Lang, LangDep, html_lang
from app.kit.routing import domain_router
from app.questionnaires.schemas import QuestionnaireOut, QuestionnaireSummary, localize, summarize
from app.questionnaires.service import CatalogDep

router = domain_router(prefix="/questionnaires", tags=["questionnaires"])

#: Localised questionnaires by (catalogue, id, version, language): the catalogue is loaded at
#: start-up and never changes, so each is serialised once per process.
_LOCALIZED: LruCache[tuple[int, str, int, Lang], JsonBody] = LruCache(64)
#: Public, but revalidated: a deployment that adds a version changes the body (and its ETag).
REVALIDATE = {"Cache-Control": "no-cache", "Vary": "Accept-Language"}


@router.get(
    "",
    operation_id="questionnaires_list",
    openapi_extra=PUBLIC_OPERATION,
    response_model=list[QuestionnaireSummary],
    summary="The questionnaires served (latest version of each)",
)
def list_questionnaires(
    catalog: CatalogDep, lang: LangDep, response: Response
) -> list[QuestionnaireSummary]:
    response.headers["Content-Language"] = html_lang(lang)
    return [summarize(q, catalog.versions(q.id), lang) for q in catalog.latest()]


@router.get(
    "/{questionnaire_id}",
    operation_id="questionnaires_get",
    openapi_extra=PUBLIC_OPERATION,
    response_model=QuestionnaireOut,
    responses={304: {"description": "Not modified: the questionnaire named by If-None-Match."}},
    summary="A questionnaire with its stages and questions, localised",
)
async def get_questionnaire(
    questionnaire_id: str,
    catalog: CatalogDep,
    lang: LangDep,
    version: Annotated[int | None, Query(ge=1, description="Default: the latest version.")] = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    questionnaire = catalog.get(questionnaire_id, version)
    if questionnaire is None:
        raise NotFound("No questionnaire with this id and version.")
    stored = _LOCALIZED.get_or_make(
        (id(catalog), questionnaire.id, questionnaire.version, lang),
        lambda: json_body(localize(questionnaire, catalog.versions(questionnaire_id), lang)),
    )
    return json_response(stored, if_none_match, {**REVALIDATE, **content_language(lang)})
