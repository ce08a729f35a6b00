"""Audit trail: every write records who did what to which resource, in the write's transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from app.kit.principal import Principal
from app.models import AuditEvent


def record(
    session: Session,
    actor: Principal,
    action: str,
    target_type: str,
    target_id: object | None = None,
    *,
    enterprise_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor_type=actor.kind,
        actor_id=actor.actor_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        enterprise_id=enterprise_id,
        request_id=actor.request_id,
        detail=detail or {},
    )
    session.add(event)
    return event
