"""Privacy rights over the JSON API (PIPL): export, deletion, contact persons.

For the firm's own users and admins; to integrators, officials and other firms the firm is
absent (404).
"""

from __future__ import annotations

import uuid

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from app.enterprises import data as data_service
from app.enterprises import privacy
from app.enterprises import service as enterprise_service
from app.enterprises.schemas_privacy import (
    ContactRead,
    ContactsUpdate,
    DeletionRead,
    DeletionRequest,
)
from app.kit.db import SessionDep
from app.kit.errors import FieldError, InvalidInput, NotFound, problem_responses
from app.kit.guards import FirmMember, SignedIn, require_firm_member
from app.kit.routing import domain_router
from app.kit.settings import settings_of

router = domain_router(prefix="/enterprises", tags=["privacy"])


@router.delete(
    "/{enterprise_id}",
    operation_id="enterprises_delete",
    response_model=DeletionRead,
    responses=problem_responses(422),
    summary="Delete everything held about the enterprise (its owners and admins; an audit "
    "tombstone stays)",
)
async def delete_enterprise(
    enterprise_id: uuid.UUID,
    body: DeletionRequest,
    request: Request,
    session: SessionDep,
    principal: SignedIn,
) -> DeletionRead:
    def delete() -> dict[str, int]:
        require_firm_member(session, principal, enterprise_id)
        enterprise = enterprise_service.get_visible(session, principal, enterprise_id)
        if not data_service.may_delete(principal, enterprise_id):
            raise NotFound("Only the firm's owner may delete its data.")
        typed = body.confirm_credit_code.upper().replace(" ", "")
        if typed != enterprise.credit_code:
            raise InvalidInput(
                "Type the enterprise's credit code to confirm the deletion.",
                errors=[FieldError("body.confirm_credit_code", "does not match", "mismatch")],
            )
        # Its stored PDFs (report_pdf) go with its other rows.
        return data_service.delete_data(session, principal, enterprise_id)

    counts = await run_in_threadpool(delete)
    return DeletionRead(enterprise_id=enterprise_id, rows_deleted=counts)


@router.get(
    "/{enterprise_id}/contacts",
    operation_id="enterprises_contacts_get",
    response_model=list[ContactRead],
    summary="The enterprise's contact persons, with the date each is deleted",
)
def get_contacts(
    enterprise_id: uuid.UUID, session: SessionDep, principal: FirmMember
) -> list[ContactRead]:
    rows = privacy.list_contacts(session, principal, enterprise_id)
    return [ContactRead.model_validate(r) for r in rows]


@router.put(
    "/{enterprise_id}/contacts",
    operation_id="enterprises_contacts_put",
    response_model=list[ContactRead],
    responses=problem_responses(422),
    summary="Replace the enterprise's contact persons (kept CONTACT_RETENTION_DAYS)",
)
def put_contacts(
    enterprise_id: uuid.UUID,
    body: ContactsUpdate,
    request: Request,
    session: SessionDep,
    principal: FirmMember,
) -> list[ContactRead]:
    settings = settings_of(request)
    rows = privacy.replace_contacts(session, principal, settings, enterprise_id, body.contacts)
    return [ContactRead.model_validate(r) for r in rows]
