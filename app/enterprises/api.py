from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, status

from app.auth.principal import Principal
from app.auth.scopes import require_scope
from app.db import SessionDep
from app.enterprises import service
from app.enterprises.schemas import EnterpriseRead, EnterpriseRegistration
from app.errors import NotFound, problem_responses
from app.routing import domain_router

router = domain_router(prefix="/enterprises", tags=["enterprises"])


def _may_register(
    principal: Annotated[Principal, Depends(require_scope("enterprises:write"))],
) -> Principal:
    if not (principal.is_admin or principal.is_integrator):
        # Enterprise users register through /accounts/register; to others the route is absent.
        raise NotFound()
    return principal


@router.post(
    "",
    operation_id="enterprises_create",
    status_code=status.HTTP_201_CREATED,
    response_model=EnterpriseRead,
    responses=problem_responses(409, 422),
    summary="Register an enterprise (admins, integrators with the firm's consent)",
)
def create_enterprise(
    body: EnterpriseRegistration,
    session: SessionDep,
    principal: Annotated[Principal, Depends(_may_register)],
) -> EnterpriseRead:
    enterprise = service.register_by_principal(session, principal, body)
    return EnterpriseRead.model_validate(enterprise)


@router.get(
    "/{enterprise_id}",
    operation_id="enterprises_get",
    response_model=EnterpriseRead,
    summary="An enterprise's profile",
)
def get_enterprise(
    enterprise_id: uuid.UUID,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require_scope("assessments:read"))],
) -> EnterpriseRead:
    return EnterpriseRead.model_validate(service.get_visible(session, principal, enterprise_id))
