"""Deleting an enterprise's data (PIPL right to erasure; its export is ``app.portability``).

Deletion removes every row of every table that belongs to the firm (the firm leaves the heatmap
aggregates first) and leaves one audit event as a tombstone: who deleted which firm id, when,
and how many rows — nothing else.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.enterprises import service as enterprise_service
from app.enterprises.data_repository import EnterpriseDataRepository
from app.kit import events
from app.kit.db import begin_write
from app.kit.events import EnterpriseDeleted
from app.kit.guards import require_firm_member
from app.kit.principal import Principal


def delete_data(session: Session, principal: Principal, enterprise_id: uuid.UUID) -> dict[str, int]:
    """Delete every row of the firm; returns the rows deleted per table."""
    begin_write(session)
    require_firm_member(session, principal, enterprise_id)
    enterprise = enterprise_service.get_visible(session, principal, enterprise_id)
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
