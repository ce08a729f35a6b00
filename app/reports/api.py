from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.kit.clock import shanghai_date
from app.kit.conditional import PRIVATE_REVALIDATE, IfNoneMatch, content_language, etag_matches
from app.kit.db import SessionDep
from app.kit.errors import problem_responses
from app.kit.guards import scoped
from app.kit.i18n import LangDep
from app.kit.principal import Principal
from app.kit.routing import domain_router
from app.kit.settings import Settings, settings_of
from app.questionnaires.service import CatalogDep
from app.reports import service
from app.reports.pdf import ReportRenderer

router = domain_router(tags=["reports"])

ReportReader = Annotated[Principal, Depends(scoped("reports:read"))]


def get_renderer(app: FastAPI) -> ReportRenderer:
    """The app's renderer (its thread pool), made on first use."""
    renderer: ReportRenderer | None = getattr(app.state, "report_renderer", None)
    if renderer is None:
        settings: Settings = app.state.settings
        renderer = ReportRenderer(
            static_dir=settings.STATIC_DIR, concurrency=settings.REPORT_RENDER_CONCURRENCY
        )
        app.state.report_renderer = renderer
    return renderer


@router.get(
    "/assessments/{assessment_id}/report.pdf",
    operation_id="reports_pdf",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The report as a PDF (A4), in the chosen language.",
        },
        304: {"description": "Not modified: the PDF named by If-None-Match is current."},
        **problem_responses(404),
    },
    summary="The PDF report of a submitted assessment (zh or en), made from its stored result",
    description=(
        "Both languages are rendered in the background right after submission and stored, so "
        "this usually answers at once. A request that comes first (within seconds of submit, "
        "or after the firm's name changed) renders the report itself: the answer is the same "
        "PDF, later (about a second or two). There is no 202: one GET always returns the PDF."
    ),
)
async def get_report_pdf(
    assessment_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: ReportReader,
    catalog: CatalogDep,
    lang: LangDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    renderer = get_renderer(request.app)
    located = await run_in_threadpool(
        service.locate, session, principal, catalog, assessment_id, lang
    )
    key = located.key
    headers = {"ETag": key.etag, **PRIVATE_REVALIDATE, **content_language(lang)}
    if etag_matches(if_none_match, key.etag):
        return Response(status_code=304, headers=headers)
    pdf = await run_in_threadpool(service.stored, session, key)
    if pdf is None:  # the worker has not rendered it yet (or the firm was renamed since)
        settings = settings_of(request)
        context = await run_in_threadpool(service.context_for, session, settings, located, lang)
        pdf = await renderer.render_async(key, context)
        await run_in_threadpool(service.store, session, located, pdf)
    submitted = located.assessment.submitted_at
    day = shanghai_date(submitted).strftime("%Y%m%d") if submitted else "draft"
    filename = f"zhizao-report-{day}-{located.assessment.id.hex[:8]}-{lang}.pdf"
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return Response(pdf, media_type="application/pdf", headers=headers)
