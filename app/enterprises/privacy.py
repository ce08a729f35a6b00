"""Privacy (PIPL): an enterprise's contact persons, kept only for a retention period.

Deleting everything held about a firm is ``app.enterprises.data`` (the contacts table has an
``enterprise_id`` column, so it is covered without further code); its export is
``app.portability``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.enterprises.contacts_repository import ContactRepository
from app.enterprises.schemas_privacy import ContactIn
from app.kit.clock import utcnow
from app.kit.db import Database, begin_write
from app.kit.guards import require_firm_member
from app.kit.principal import SYSTEM, Principal
from app.kit.schedule import PeriodicJob, daily
from app.kit.settings import Settings
from app.models import Contact


def list_contacts(
    session: Session, principal: Principal, enterprise_id: uuid.UUID
) -> list[Contact]:
    require_firm_member(session, principal, enterprise_id)
    return ContactRepository(session).of_enterprise(enterprise_id)


def replace_contacts(
    session: Session,
    principal: Principal,
    settings: Settings,
    enterprise_id: uuid.UUID,
    contacts: list[ContactIn],
) -> list[Contact]:
    """The firm's contacts become ``contacts``; each is kept CONTACT_RETENTION_DAYS from now."""
    require_firm_member(session, principal, enterprise_id)
    repository = ContactRepository(session)
    repository.delete_of_enterprise(enterprise_id)
    now = utcnow()
    retain_until = now + timedelta(days=settings.CONTACT_RETENTION_DAYS)
    rows = [
        Contact(
            enterprise_id=enterprise_id,
            name=c.name,
            phone=c.phone,
            email=c.email,
            role=c.role,
            # A microsecond apart: read back in the order given.
            created_at=now + timedelta(microseconds=i),
            retain_until=retain_until,
        )
        for i, c in enumerate(contacts)
    ]
    for row in rows:
        repository.add(row)
    # No names or numbers in the trail: only how many.
    audit.record(
        session,
        principal,
        "enterprise.contacts",
        "enterprise",
        enterprise_id,
        enterprise_id=enterprise_id,
        detail={"contacts": len(rows)},
    )
    session.flush()
    return rows


def purge_expired_contacts(session: Session, principal: Principal) -> int:
    """Delete every contact past its retention date; returns how many."""
    deleted = ContactRepository(session).delete_expired(utcnow())
    if deleted:
        audit.record(session, principal, "privacy.purge", "contact", detail={"deleted": deleted})
    session.flush()
    return deleted


class RetentionPurge(PeriodicJob):
    """The worker's job: :func:`purge_expired_contacts` once a day at ``PRIVACY_PURGE_AT``
    (China Standard Time), once across every worker (``app.kit.schedule``); ``zhizao privacy
    purge`` runs it at once."""

    def __init__(self, database: Database, settings: Settings) -> None:
        def work(session: Session, period: datetime) -> int:
            begin_write(session)
            return purge_expired_contacts(session, SYSTEM)

        super().__init__(
            database,
            "privacy purge",
            daily(settings.PRIVACY_PURGE_AT),
            work,
            timedelta(seconds=settings.PERIODIC_LEASE_SECONDS),
        )
