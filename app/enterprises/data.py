"""Deleting an enterprise's data (PIPL right to erasure; its export is ``app.portability``).

Deletion removes every row of every table that belongs to the firm (the firm leaves the heatmap
aggregates first) and leaves one audit event as a tombstone: who deleted which firm id, when,
and how many rows. Its consent ends with it: every integrator it consented to until then gets
``grant.revoked`` and a notice, as a revocation sends them, queued in the deletion's transaction
(``enterprise.deleted``, wired in ``app/hooks.py``); they name the firm by its id alone.

A write of the firm's rows at the same moment (another app instance) comes wholly before the
deletion or wholly after it. Before: the deletion deletes what it committed (a row committed
while the deletion ran goes with the firm's row: every foreign key to it cascades). After: it is
answered as any request after the deletion, 404 with nothing saved: its foreign key, or its
update of a deleted row, fails once the deletion commits (``kit.errors._deleted_meanwhile``).
Writes that lock the firm (a grant, a revocation, a submit, a confirmation, a profile change)
take turns with it.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.enterprises import service as enterprise_service
from app.enterprises.data_repository import EnterpriseDataRepository
from app.enterprises.repository import EnterpriseRepository
from app.kit import events
from app.kit.db import begin_write
from app.kit.errors import NotFound
from app.kit.events import EnterpriseDeleted
from app.kit.guards import require_firm_member
from app.kit.principal import Principal


def may_delete(principal: Principal, enterprise_id: uuid.UUID) -> bool:
    """The firm's owners and admins. A member, who may neither edit the profile nor remove a
    colleague, may not remove the whole firm with every account in it (its owner's too)."""
    return principal.is_admin or (
        principal.is_firm_owner and principal.enterprise_id == enterprise_id
    )


def delete_data(session: Session, principal: Principal, enterprise_id: uuid.UUID) -> dict[str, int]:
    """Delete every row of the firm (its owners and admins; to a member, as to anyone else who
    may not, the operation does not exist: 404); returns the rows deleted per table."""
    begin_write(session)
    require_firm_member(session, principal, enterprise_id)
    enterprise_service.get_visible(session, principal, enterprise_id)
    if not may_delete(principal, enterprise_id):
        raise NotFound("Only the firm's owner may delete its data.")
    # The firm is read under its lock, held until the deletion commits: a confirmation made at
    # the same moment (on another app instance) has either committed, and whether the heatmaps
    # count the firm is read after it, or waits for the deletion; without the lock it was added
    # to the sums and stayed there. A grant, revocation or submit beside it waits too, so the
    # integrators told below are exactly those the firm consented to.
    enterprise = EnterpriseRepository(session).locked(enterprise_id)
    if enterprise is None:  # deleted a moment ago
        raise NotFound("No enterprise with this id.")
    events.publish(session, EnterpriseDeleted(enterprise_id, enterprise.verified))
    session.expunge(enterprise)
    counts = EnterpriseDataRepository(session).delete_everything(enterprise_id)
    audit.record(
        session,
        principal,
        "enterprise.delete",
        "enterprise",
        enterprise_id,
        enterprise_id=enterprise_id,
        detail={"rows_deleted": counts},
    )
    session.flush()
    return counts
