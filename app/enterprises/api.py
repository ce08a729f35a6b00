from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, status

from app.enterprises import service
from app.enterprises.schemas import EnterpriseRead, EnterpriseRegistration, FactsUpdate
from app.kit.db import SessionDep
from app.kit.errors import NotFound, problem_responses
from app.kit.guards import PUBLIC_OPERATION, scoped
from app.kit.i18n import LangDep
from app.kit.principal import Principal
from app.kit.routing import domain_router
from scoring.facts import FACTS

router = domain_router(prefix="/enterprises", tags=["enterprises"])


def _may_register(
    principal: Annotated[Principal, Depends(scoped("enterprises:write"))],
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
    principal: Annotated[Principal, Depends(scoped("assessments:read"))],
) -> EnterpriseRead:
    return EnterpriseRead.model_validate(service.get_visible(session, principal, enterprise_id))


@router.put(
    "/{enterprise_id}/facts",
    operation_id="enterprises_put_facts",
    response_model=EnterpriseRead,
    responses=problem_responses(422),
    summary="Declare optional facts subsidy matching needs (planned investment, R&D spend, ...)",
)
def put_facts(
    enterprise_id: uuid.UUID,
    body: FactsUpdate,
    session: SessionDep,
    principal: Annotated[Principal, Depends(scoped("enterprises:write"))],
) -> EnterpriseRead:
    enterprise = service.update_facts(session, principal, enterprise_id, dict(body.facts))
    return EnterpriseRead.model_validate(enterprise)


facts_router = domain_router(tags=["enterprises"])


@facts_router.get(
    "/facts",
    operation_id="facts_list",
    openapi_extra=PUBLIC_OPERATION,
    response_model=list[dict[str, Any]],
    summary="The optional facts an enterprise may declare: names, types, units, bounds",
)
def list_facts(lang: LangDep) -> list[dict[str, Any]]:
    return [fact.to_dict(lang) for fact in FACTS if not fact.derived]
