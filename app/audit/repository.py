from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.audit.schemas import AuditFilter
from app.models import AuditEvent


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def insert_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Audit rows as plain columns, in one statement (no ORM unit of work)."""
        self.session.connection().execute(insert(AuditEvent), list(rows))

    def page(self, *, before_id: int | None, limit: int, where: AuditFilter) -> list[AuditEvent]:
        """Newest first, by id (ids grow with time)."""
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(AuditEvent.id < before_id)
        if where.action is not None:
            # "assessment." matches every assessment action.
            query = query.where(
                AuditEvent.action.startswith(where.action, autoescape=True)
                if where.action.endswith(".")
                else AuditEvent.action == where.action
            )
        if where.actor_type is not None:
            query = query.where(AuditEvent.actor_type == where.actor_type)
        if where.actor_id is not None:
            query = query.where(AuditEvent.actor_id == where.actor_id)
        if where.enterprise_id is not None:
            query = query.where(AuditEvent.enterprise_id == where.enterprise_id)
        if where.since is not None:
            query = query.where(AuditEvent.at >= where.since)
        if where.until is not None:
            query = query.where(AuditEvent.at < where.until)
        return list(self.session.scalars(query))
