"""An enterprise's own data: export everything held about it, or delete it (PIPL rights).

Export is every row of every table that belongs to the firm, secrets left out. Deletion removes
every one of those rows (the firm leaves the heatmap aggregates first) and leaves one audit
event as a tombstone: who deleted which firm id, when, and how many rows — nothing else.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.enterprises import service as enterprise_service
from app.enterprises.data_repository import EnterpriseDataRepository
from app.kit import events
from app.kit.clock import utcnow
from app.kit.db import begin_write
from app.kit.events import EnterpriseDeleted
from app.kit.guards import require_firm_member
from app.kit.principal import Principal

EXPORT_FORMAT = "zhizao-enterprise-export/1"


def _json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def export_data(session: Session, principal: Principal, enterprise_id: uuid.UUID) -> dict[str, Any]:
    """Everything held about the firm as JSON-able data."""
    require_firm_member(session, principal, enterprise_id)
    tables = EnterpriseDataRepository(session).everything(enterprise_id)
    audit.record(
        session,
        principal,
        "enterprise.export",
        "enterprise",
        enterprise_id,
        enterprise_id=enterprise_id,
        detail={"tables": sorted(tables)},
    )
    return {
        "format": EXPORT_FORMAT,
        "enterprise_id": str(enterprise_id),
        "exported_at": utcnow().isoformat(),
        "tables": {name: [_json(row) for row in rows] for name, rows in tables.items()},
    }


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
