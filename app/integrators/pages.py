"""Pages: a firm grants an integrator access to its data, or revokes it (the forms are on the
enterprise's settings page, ``app.enterprises.pages``)."""

from __future__ import annotations

import uuid

from fastapi import Request
from fastapi.responses import Response

from app.integrators import service as integrator_service
from app.kit.db import SessionDep
from app.kit.errors import InvalidInput
from app.kit.i18n import N_
from app.kit.routing import domain_router
from app.kit.web.csrf import check_same_origin
from app.kit.web.deps import EnterpriseUser, FormDep, form_str
from app.kit.web.flash import flash_message, flash_redirect

router = domain_router(include_in_schema=False)

GRANTED = flash_message(
    "grant.created", N_("Access granted. The integrator sees your latest result now.")
)
REVOKED = flash_message(
    "grant.revoked", N_("Access revoked. The integrator can no longer read your data.")
)


@router.post("/settings/grants", name="grant_create")
def grant(
    request: Request, session: SessionDep, principal: EnterpriseUser, form: FormDep
) -> Response:
    check_same_origin(request)
    assert principal.enterprise_id is not None
    try:
        client_id = uuid.UUID(form_str(form, "client_id"))
    except ValueError as exc:
        raise InvalidInput("Choose an integrator.") from exc
    integrator_service.grant_access(
        session, principal, principal.enterprise_id, client_id, method="web"
    )
    return flash_redirect(request, "/settings#integrators", GRANTED)


@router.post("/settings/grants/{client_id}/revoke", name="grant_revoke")
def revoke(
    request: Request, client_id: uuid.UUID, session: SessionDep, principal: EnterpriseUser
) -> Response:
    check_same_origin(request)
    assert principal.enterprise_id is not None
    integrator_service.revoke_access(session, principal, principal.enterprise_id, client_id)
    return flash_redirect(request, "/settings#integrators", REVOKED)
