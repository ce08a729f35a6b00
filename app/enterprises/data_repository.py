"""Queries behind deleting everything held about one enterprise.

Table-driven on purpose: every table with an ``enterprise_id`` column (and every table hanging off
the firm's assessments or users) is included, so tables added later are covered without edits.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import CursorResult, Table, delete, select
from sqlalchemy.orm import Session

from app.models import Assessment, Base, IdempotencyRecord, User

#: Kept when the firm is deleted: the audit trail outlives it (a tombstone; no foreign key).
KEPT_TABLES = frozenset({"audit_event"})


def _tables_with(column: str) -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if column in t.c]


class EnterpriseDataRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def user_ids(self, enterprise_id: uuid.UUID) -> list[uuid.UUID]:
        return list(
            self.session.scalars(select(User.id).where(User.enterprise_id == enterprise_id))
        )

    def assessment_ids(self, enterprise_id: uuid.UUID) -> list[uuid.UUID]:
        return list(
            self.session.scalars(
                select(Assessment.id).where(Assessment.enterprise_id == enterprise_id)
            )
        )

    def delete_everything(self, enterprise_id: uuid.UUID) -> dict[str, int]:
        """Delete the firm's rows from every table but the audit trail; counts per table."""
        assessments = self.assessment_ids(enterprise_id)
        users = self.user_ids(enterprise_id)
        counts: dict[str, int] = {}

        def remove(table: Table, column: str, values: list[Any]) -> None:
            if not values:
                return
            result = self.session.execute(delete(table).where(table.c[column].in_(values)))
            deleted = cast(CursorResult[Any], result).rowcount
            if deleted:
                counts[table.name] = counts.get(table.name, 0) + deleted

        for table in reversed(Base.metadata.sorted_tables):
            if table.name in KEPT_TABLES or table.name in ("enterprise", "user"):
                continue
            if "enterprise_id" in table.c:
                remove(table, "enterprise_id", [enterprise_id])
            if "assessment_id" in table.c:
                remove(table, "assessment_id", assessments)
            if "user_id" in table.c:
                remove(table, "user_id", users)
        # Rows that point at the firm's users or assessments from other firms' data keep
        # existing, unlinked (their foreign keys are ON DELETE SET NULL).
        remove(Base.metadata.tables["assessment"], "enterprise_id", [enterprise_id])
        remove(Base.metadata.tables["user"], "enterprise_id", [enterprise_id])
        # Throttled attempts (auth_attempt) name no one in clear (keyed hashes) and last only
        # LOGIN_THROTTLE_WINDOW_SECONDS: nothing of the firm's to delete there.
        # Stored responses of the users' retried requests (they hold results).
        remove(IdempotencyRecord.__table__, "caller", [f"user:{u}" for u in users])  # type: ignore[arg-type]
        remove(Base.metadata.tables["enterprise"], "id", [enterprise_id])
        self.session.flush()
        return counts
