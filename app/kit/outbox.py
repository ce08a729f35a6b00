"""The queries every outbox worker runs (mail, webhook deliveries, report renders).

An outbox row is due when it is ``pending`` and its ``next_attempt_at`` has come. Workers take
due rows oldest first and lock them; on PostgreSQL rows another worker holds are skipped
(``FOR UPDATE SKIP LOCKED``), so several workers share one queue. SQLite has one writer anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.orm import Session

Row = TypeVar("Row")


class Outbox(Generic[Row]):
    """One outbox table; ``join`` and ``where`` narrow what counts as due (webhook deliveries:
    only those of active endpoints)."""

    def __init__(
        self,
        model: type[Row],
        *,
        join: tuple[Any, ColumnElement[bool]] | None = None,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> None:
        self.model = model
        self.join = join
        self.where = tuple(where)

    def _due(self, query: Select[Any], now: datetime) -> Select[Any]:
        table = cast(Any, self.model)
        if self.join is not None:
            query = query.join(*self.join)
        return query.where(table.status == "pending", table.next_attempt_at <= now, *self.where)

    def any_due(self, session: Session, now: datetime) -> bool:
        query = self._due(select(cast(Any, self.model).id), now).limit(1)
        return session.scalar(query) is not None

    def lock_due(self, session: Session, now: datetime, limit: int) -> list[Row]:
        """Due rows, oldest first, locked."""
        table = cast(Any, self.model)
        query = (
            self._due(select(self.model), now)
            .order_by(table.next_attempt_at, table.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            of = self.model if self.join is not None else None
            query = query.with_for_update(of=of, skip_locked=True)
        return list(session.scalars(query))

    def extend_lease(
        self, session: Session, ids: Sequence[Any], token: str, until: datetime
    ) -> None:
        """Move the lease of the rows ``ids`` that the worker holding ``token`` still has
        (``claimed_by``) to ``until``; rows another worker took over meanwhile are left alone."""
        table = cast(Any, self.model)
        session.execute(
            update(self.model)
            .where(table.id.in_(ids), table.claimed_by == token)
            .values(next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )
