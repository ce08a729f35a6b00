"""Pages: a firm grants an integrator access to its data, or revokes it (the forms are on the
enterprise's settings page, ``app.enterprises.pages``)."""

from __future__ import annotations

import uuid

from fastapi.responses import Response

from app.integrators import service as integrator_service
from app.kit.errors import InvalidInput
from app.kit.i18n import N_
from app.kit.routing import domain_router
from app.kit.web.deps import FirmActionDep, FirmPost
from app.kit.web.flash import flash_message, flash_redirect

router = domain_router(include_in_schema=False)

GRANTED = flash_message(
    "grant.created", N_("Access granted. The integrator sees your latest result now.")
)
REVOKED = flash_message(
    "grant.revoked", N_("Access revoked. The integrator can no longer read your data.")
)


@router.post("/settings/grants", name="grant_create")
def grant(post: FirmPost) -> Response:
    try:
        client_id = uuid.UUID(post.field("client_id"))
    except ValueError as exc:
        raise InvalidInput("Choose an integrator.") from exc
    integrator_service.grant_access(
        post.session, post.principal, post.enterprise_id, client_id, method="web"
    )
    return flash_redirect(post.request, "/settings#integrators", GRANTED)


@router.post("/settings/grants/{client_id}/revoke", name="grant_revoke")
def revoke(action: FirmActionDep, client_id: uuid.UUID) -> Response:
    integrator_service.revoke_access(
        action.session, action.principal, action.enterprise_id, client_id
    )
    return flash_redirect(action.request, "/settings#integrators", REVOKED)
