"""``/api/v1/verification``: confirm firms (admins; district officials in their district)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import Query

from app.kit.cursor import MAX_LIMIT, CursorQuery, Page
from app.kit.db import SessionDep
from app.kit.errors import problem_responses
from app.kit.guards import Verifier
from app.kit.routing import domain_router
from app.verification import service
from app.verification.schemas import FlagUpdate, VerificationItem, VerificationUpdate

router = domain_router(prefix="/verification", tags=["verification"])


@router.get(
    "/enterprises",
    operation_id="verification_list",
    response_model=Page[VerificationItem],
    summary="Firms to confirm (a district official's district; admins all)",
)
def list_enterprises(
    session: SessionDep,
    principal: Verifier,
    status: Annotated[Literal["pending", "verified"] | None, Query()] = None,
    district_code: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Page[VerificationItem]:
    return service.listing(
        session,
        principal,
        status=status,
        district_code=district_code,
        cursor=cursor,
        limit=limit,
    )


@router.put(
    "/enterprises/{enterprise_id}",
    operation_id="verification_set",
    response_model=VerificationItem,
    summary="Confirm a firm, or withdraw the confirmation (admins)",
    responses=problem_responses(403),
    description="Admins and the district official of the firm's district confirm; only admins "
    "withdraw (403 otherwise). One change per firm per 24 hours (429).",
)
def set_verification(
    enterprise_id: uuid.UUID,
    body: VerificationUpdate,
    session: SessionDep,
    principal: Verifier,
) -> VerificationItem:
    enterprise = service.set_verified(session, principal, enterprise_id, body.verified)
    return VerificationItem.model_validate(enterprise)


@router.put(
    "/enterprises/{enterprise_id}/flag",
    operation_id="verification_flag",
    response_model=VerificationItem,
    summary="Flag a firm for an admin, or clear the flag (admins)",
    description="Admins and the district official of the firm's district flag; only admins "
    "clear a flag (403 otherwise).",
    responses=problem_responses(403),
)
def set_flag(
    enterprise_id: uuid.UUID,
    body: FlagUpdate,
    session: SessionDep,
    principal: Verifier,
) -> VerificationItem:
    enterprise = service.set_flag(session, principal, enterprise_id, body.flagged, body.reason)
    return VerificationItem.model_validate(enterprise)
