from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from app.audit.schemas import AuditFilter
from app.models import AuditEvent

_AUDIT_EVENT: Table = AuditEvent.__table__  # type: ignore[assignment]
#: Built once (its cache key is then memoized); the rows' values are bound at execution.
_INSERT = insert(_AUDIT_EVENT)


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def insert_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Audit rows as plain columns, in one statement (no ORM object, no unit of work)."""
        self.session.execute(_INSERT, rows[0] if len(rows) == 1 else list(rows))

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
