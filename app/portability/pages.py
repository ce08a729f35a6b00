"""The settings page's downloads: the firm's export as JSON and as CSV."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from app.kit.db import SessionDep
from app.kit.routing import domain_router
from app.kit.web.deps import EnterpriseUser, PageLang
from app.portability import service
from app.portability.api import csv_response
from app.questionnaires.service import CatalogDep

router = domain_router(include_in_schema=False)


@router.get("/settings/export.json", name="export")
def export_json(
    request: Request,
    session: SessionDep,
    principal: EnterpriseUser,
    catalog: CatalogDep,
    lang: PageLang,
) -> Response:
    assert principal.enterprise_id is not None
    body = service.export(session, principal, catalog, principal.enterprise_id, lang)
    return Response(
        body.model_dump_json(indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": (
                f'attachment; filename="zhizao-export-{principal.enterprise_id}.json"'
            ),
            "Cache-Control": "no-store",
        },
    )


@router.get("/settings/export.csv", name="export_csv")
def export_csv(
    request: Request,
    session: SessionDep,
    principal: EnterpriseUser,
    catalog: CatalogDep,
    lang: PageLang,
) -> Response:
    assert principal.enterprise_id is not None
    body = service.export(session, principal, catalog, principal.enterprise_id, lang)
    return csv_response(service.to_csv(body, lang), principal.enterprise_id)
