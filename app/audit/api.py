from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel

from app.audit import service
from app.audit.schemas import AuditFilter
from app.kit.cursor import Page, RowIdPageDep
from app.kit.db import SessionDep
from app.kit.guards import AdminOnly
from app.kit.routing import domain_router
from app.kit.schemas import TEXT_PATTERN, DateTimeParam

router = domain_router(prefix="/admin", tags=["admin"])


class AuditEventRead(BaseModel):
    id: int
    at: datetime
    actor_type: str
    actor_id: str | None
    action: str
    target_type: str
    target_id: str | None
    enterprise_id: uuid.UUID | None
    request_id: str | None
    detail: dict[str, Any]


@router.get(
    "/audit-events",
    operation_id="admin_audit_events",
    response_model=Page[AuditEventRead],
    summary="The audit trail, newest first, filterable (admins)",
)
def list_audit_events(
    session: SessionDep,
    principal: AdminOnly,
    page: RowIdPageDep,
    action: Annotated[
        str | None,
        Query(
            max_length=60,
            pattern=TEXT_PATTERN,
            description='An action, or a prefix ending in "." (e.g. "assessment.").',
        ),
    ] = None,
    actor_type: Annotated[
        Literal["user", "api_client", "cli", "system", "anonymous"] | None, Query()
    ] = None,
    actor_id: Annotated[str | None, Query(max_length=64, pattern=TEXT_PATTERN)] = None,
    enterprise_id: uuid.UUID | None = None,
    since: Annotated[DateTimeParam | None, Query()] = None,
    until: Annotated[DateTimeParam | None, Query()] = None,
) -> Page[AuditEventRead]:
    events, next_cursor = service.search(
        session,
        principal,
        cursor=page.cursor,
        limit=page.limit,
        where=AuditFilter(
            action=action,
            actor_type=actor_type,
            actor_id=actor_id,
            enterprise_id=enterprise_id,
            since=since,
            until=until,
        ),
    )
    return Page[AuditEventRead](
        items=[AuditEventRead.model_validate(e, from_attributes=True) for e in events],
        next_cursor=next_cursor,
    )
