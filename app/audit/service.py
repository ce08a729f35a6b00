"""Audit trail: every write records who did what to which resource, in the write's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from app.audit.repository import AuditRepository
from app.audit.schemas import AuditFilter
from app.kit.clock import utcnow
from app.kit.cursor import ROW_ID, paginate
from app.kit.group_commit import GroupCommit
from app.kit.guards import require_admin, require_firm_member
from app.kit.principal import Principal
from app.models import AuditEvent

__all__ = ["AuditFilter", "event_row", "firm_history", "record", "record_committed", "search"]


def record(
    session: Session,
    actor: Principal,
    action: str,
    target_type: str,
    target_id: object | None = None,
    *,
    enterprise_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Put who did what to which resource on the trail, in the write's transaction (an ORM
    object, flushed with the write's others)."""
    session.add(
        AuditEvent(
            **event_row(
                actor, action, target_type, target_id, enterprise_id=enterprise_id, detail=detail
            )
        )
    )


def event_row(
    actor: Principal,
    action: str,
    target_type: str,
    target_id: object | None = None,
    *,
    enterprise_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An audit row as plain columns: what :func:`record` adds, for a write path that stores it
    in its own statement with the write (the answer PUT)."""
    return {
        "at": utcnow(),
        "actor_type": actor.kind,
        "actor_id": actor.actor_id,
        "action": action,
        "target_type": target_type,
        "target_id": str(target_id) if target_id is not None else None,
        "enterprise_id": enterprise_id,
        "request_id": actor.request_id,
        "detail": detail or {},
    }


def _insert(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    AuditRepository(session).insert_rows(rows)


#: Audit rows of reads, committed in groups (``app.kit.group_commit``).
_READS: GroupCommit[dict[str, Any]] = GroupCommit(_insert)


def record_committed(
    session: Session,
    actor: Principal,
    action: str,
    target_type: str,
    target_id: object | None = None,
    *,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record a read, and return only once its row is committed (else raise: 503).

    For reads whose every view must be on the trail before anything of it is sent (heatmaps):
    call it after the view is made and before it is returned. The row does not wait for the
    request's transaction; concurrent reads share one commit (``app.kit.group_commit``: the
    rule, and what happens to ``session``), so a read takes no write transaction of its own."""
    _READS.commit(session, event_row(actor, action, target_type, target_id, detail=detail))


def pending_reads(session: Session) -> int:
    """Read rows of this session's database waiting for their commit (tests)."""
    return _READS.pending(session)


def search(
    session: Session,
    principal: Principal,
    *,
    cursor: str | None,
    limit: int,
    where: AuditFilter,
) -> tuple[list[AuditEvent], str | None]:
    """The trail, newest first, narrowed by ``where`` (admins)."""
    require_admin(principal)
    rows = AuditRepository(session).page(
        before_id=ROW_ID.decode(cursor), limit=limit + 1, where=where
    )
    return paginate(rows, limit, ROW_ID, lambda event: event.id)


def firm_history(
    session: Session,
    principal: Principal,
    enterprise_id: uuid.UUID,
    action_prefix: str | None = None,
) -> list[AuditEvent]:
    """The firm's own events, all of them or of one kind (``"grant."``: its consent records),
    oldest first, for its own users and admins (its export)."""
    require_firm_member(session, principal, enterprise_id)
    repository = AuditRepository(session)
    where = AuditFilter(action=action_prefix, enterprise_id=enterprise_id)
    rows: list[AuditEvent] = []
    before: int | None = None
    # Page by page, to the end: a firm's trail has a row per saved answer, and the single page
    # of 10,000 it was read as cut off the oldest.
    while True:
        page = repository.page(before_id=before, limit=_HISTORY_PAGE, where=where)
        rows.extend(page)
        if len(page) < _HISTORY_PAGE:
            return list(reversed(rows))
        before = page[-1].id


_HISTORY_PAGE = 2_000
