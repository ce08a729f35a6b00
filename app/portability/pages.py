"""The settings page's downloads: the firm's export as JSON and as CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.responses import Response

from app.kit.db import SessionDep
from app.kit.routing import domain_router
from app.kit.web.deps import EnterpriseUser, PageLang
from app.portability import service
from app.portability.api import csv_response
from app.portability.schemas import EnterpriseExport
from app.questionnaires.service import CatalogDep

router = domain_router(include_in_schema=False)


def own_export(
    session: SessionDep, principal: EnterpriseUser, catalog: CatalogDep, lang: PageLang
) -> EnterpriseExport:
    """The signed-in user's own firm's export, in the page's language."""
    return service.export(session, principal, catalog, principal.own_enterprise_id, lang)


OwnExport = Annotated[EnterpriseExport, Depends(own_export)]


@router.get("/settings/export.json", name="export")
def export_json(body: OwnExport) -> Response:
    return Response(
        body.model_dump_json(indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": (
                f'attachment; filename="zhizao-export-{body.enterprise.id}.json"'
            ),
            "Cache-Control": "no-store",
        },
    )


@router.get("/settings/export.csv", name="export_csv")
def export_csv(body: OwnExport, lang: PageLang) -> Response:
    return csv_response(service.to_csv(body, lang), body.enterprise.id)
