"""``GET /enterprises/{id}/export`` (JSON) and ``/export.csv``: the firm's own data to take
elsewhere (its users and admins; to integrators, officials and other firms the firm is absent)."""

from __future__ import annotations

import uuid

from fastapi import Response

from app.kit.db import SessionDep
from app.kit.guards import FirmMember
from app.kit.i18n import LangDep
from app.kit.routing import domain_router
from app.portability import service
from app.portability.schemas import EnterpriseExport
from app.questionnaires.service import CatalogDep

router = domain_router(prefix="/enterprises", tags=["privacy"])


@router.get(
    "/{enterprise_id}/export",
    operation_id="enterprises_export",
    response_model=EnterpriseExport,
    summary="The firm's own data: profile, people, assessments with answers and results, "
    "grants, consent records and what integrators were given; for its owners also requests to "
    "join, invitations, mails and the audit trail (format zhizao-enterprise-export/3)",
)
def export_json(
    enterprise_id: uuid.UUID,
    session: SessionDep,
    principal: FirmMember,
    catalog: CatalogDep,
    lang: LangDep,
) -> EnterpriseExport:
    return service.export(session, principal, catalog, enterprise_id, lang)


@router.get(
    "/{enterprise_id}/export.csv",
    operation_id="enterprises_export_csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 with a byte-order mark"}},
    summary="The firm's assessments and answers as CSV, one row per answer (opens in Excel)",
)
def export_csv(
    enterprise_id: uuid.UUID,
    session: SessionDep,
    principal: FirmMember,
    catalog: CatalogDep,
    lang: LangDep,
) -> Response:
    body = service.export(session, principal, catalog, enterprise_id, lang)
    return csv_response(service.to_csv(body, lang), enterprise_id)


def csv_response(text: str, enterprise_id: uuid.UUID) -> Response:
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="zhizao-{enterprise_id}.csv"',
            "Cache-Control": "no-store",
        },
    )
