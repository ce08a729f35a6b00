from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def page(
        self,
        *,
        before_id: int | None,
        limit: int,
        action: str | None = None,
        actor_type: str | None = None,
        actor_id: str | None = None,
        enterprise_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditEvent]:
        """Newest first, by id (ids grow with time)."""
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(AuditEvent.id < before_id)
        if action is not None:
            # "assessment." matches every assessment action.
            query = query.where(
                AuditEvent.action.startswith(action, autoescape=True)
                if action.endswith(".")
                else AuditEvent.action == action
            )
        if actor_type is not None:
            query = query.where(AuditEvent.actor_type == actor_type)
        if actor_id is not None:
            query = query.where(AuditEvent.actor_id == actor_id)
        if enterprise_id is not None:
            query = query.where(AuditEvent.enterprise_id == enterprise_id)
        if since is not None:
            query = query.where(AuditEvent.at >= since)
        if until is not None:
            query = query.where(AuditEvent.at < until)
        return list(self.session.scalars(query))
