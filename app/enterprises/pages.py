"""Pages: the enterprise's settings — profile, integrator access, export, deletion."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from app.auth.dependencies import SESSION_COOKIE
from app.auth.principal import Principal
from app.db import SessionDep
from app.enterprises import data as data_service
from app.enterprises import service
from app.errors import InvalidInput, NotFound
from app.i18n import Lang
from app.reference import DISTRICTS, INDUSTRIES
from app.routing import domain_router
from app.web.csrf import check_same_origin
from app.web.deps import EnterpriseUser, FormDep, PageLang, base_context, form_str
from app.web.htmx import redirect
from app.web.templating import render, tr

router = domain_router(include_in_schema=False)


def _settings_page(
    request: Request,
    session: Any,
    principal: Principal,
    lang: Lang,
    *,
    notice: str | None = None,
    delete_error: str | None = None,
    status_code: int = 200,
) -> Response:
    from app.integrators import service as integrator_service

    assert principal.enterprise_id is not None
    enterprise = service.get_visible(session, principal, principal.enterprise_id)
    grants = integrator_service.list_grants(session, principal, enterprise.id)
    granted = {g.client.id for g in grants if g.active}
    directory = [
        c for c in integrator_service.integrator_directory(session, principal) if c.id not in granted
    ]
    context = base_context(request, principal, lang) | {
        "enterprise": enterprise,
        "district": DISTRICTS.get(enterprise.district_code),
        "industry": INDUSTRIES.get(enterprise.industry_code),
        "grants": grants,
        "directory": directory,
        "notice": notice,
        "delete_error": delete_error,
    }
    return render(request, "pages/settings.html", context, lang=lang, status_code=status_code)


@router.get("/settings", response_class=HTMLResponse, name="settings")
def settings_page(
    request: Request, session: SessionDep, principal: EnterpriseUser, lang: PageLang
) -> Response:
    notices = {
        "granted": tr(lang, "Access granted."),
        "revoked": tr(lang, "Access revoked. The integrator can no longer read your data."),
    }
    notice = notices.get(request.query_params.get("done", ""))
    return _settings_page(request, session, principal, lang, notice=notice)


@router.post("/settings/grants", name="grant_create")
def grant(
    request: Request, session: SessionDep, principal: EnterpriseUser, form: FormDep
) -> Response:
    from app.integrators import service as integrator_service

    check_same_origin(request)
    assert principal.enterprise_id is not None
    try:
        client_id = uuid.UUID(form_str(form, "client_id"))
    except ValueError as exc:
        raise InvalidInput("Choose an integrator.") from exc
    integrator_service.grant_access(
        session, principal, principal.enterprise_id, client_id, method="web"
    )
    return redirect(request, "/settings?done=granted#integrators")


@router.post("/settings/grants/{client_id}/revoke", name="grant_revoke")
def revoke(
    request: Request, client_id: uuid.UUID, session: SessionDep, principal: EnterpriseUser
) -> Response:
    from app.integrators import service as integrator_service

    check_same_origin(request)
    assert principal.enterprise_id is not None
    integrator_service.revoke_access(session, principal, principal.enterprise_id, client_id)
    return redirect(request, "/settings?done=revoked#integrators")


@router.get("/settings/export.json", name="export")
def export(request: Request, session: SessionDep, principal: EnterpriseUser) -> Response:
    """Everything held about the firm, as a JSON download (the export is audited)."""
    assert principal.enterprise_id is not None
    body = data_service.export_data(session, principal, principal.enterprise_id)
    return Response(
        json.dumps(body, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="zhizao-export-{principal.enterprise_id}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/settings/delete", name="delete_data")
def delete(
    request: Request,
    session: SessionDep,
    principal: EnterpriseUser,
    lang: PageLang,
    form: FormDep,
) -> Response:
    """Delete the firm's data once the user typed the firm's credit code to confirm."""
    check_same_origin(request)
    assert principal.enterprise_id is not None
    enterprise = service.get_visible(session, principal, principal.enterprise_id)
    typed = form_str(form, "confirm").upper().replace(" ", "")
    if typed != enterprise.credit_code:
        return _settings_page(
            request, session, principal, lang,
            delete_error=tr(lang, "Type your credit code exactly to confirm the deletion."),
            status_code=422,
        )
    try:
        data_service.delete_data(session, principal, enterprise.id)
    except NotFound:  # deleted by a colleague a moment ago
        session.rollback()
    response = redirect(request, "/?deleted=1")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
