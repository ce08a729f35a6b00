"""Privacy (PIPL): an enterprise's contact persons, kept only for a retention period.

Export and deletion of everything held about a firm are in ``app.enterprises.data``; the
contacts table has an ``enterprise_id`` column, so both cover it without further code.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.enterprises import service as enterprise_service
from app.enterprises.contacts_repository import ContactRepository
from app.enterprises.schemas_privacy import ContactIn
from app.kit.errors import NotFound
from app.kit.principal import Principal
from app.kit.settings import Settings
from app.models import Contact, utcnow


def own_firm(session: Session, principal: Principal, enterprise_id: uuid.UUID) -> None:
    """The firm's own users and admins; to everyone else (integrators too) the firm is absent."""
    if not (principal.is_enterprise_user or principal.is_admin):
        raise NotFound("No enterprise with this id.")
    enterprise_service.get_visible(session, principal, enterprise_id)


def list_contacts(
    session: Session, principal: Principal, enterprise_id: uuid.UUID
) -> list[Contact]:
    own_firm(session, principal, enterprise_id)
    return ContactRepository(session).of_enterprise(enterprise_id)


def replace_contacts(
    session: Session,
    principal: Principal,
    settings: Settings,
    enterprise_id: uuid.UUID,
    contacts: list[ContactIn],
) -> list[Contact]:
    """The firm's contacts become ``contacts``; each is kept CONTACT_RETENTION_DAYS from now."""
    own_firm(session, principal, enterprise_id)
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


def forget_cached_reports(app: Any, assessment_ids: set[uuid.UUID]) -> None:
    """Drop a deleted firm's PDFs from the app's report cache (``app.reports``)."""
    renderer = getattr(app.state, "report_renderer", None)
    if renderer is not None:
        renderer.forget(assessment_ids)


def purge_expired_contacts(session: Session, principal: Principal) -> int:
    """Delete every contact past its retention date; returns how many."""
    deleted = ContactRepository(session).delete_expired(utcnow())
    if deleted:
        audit.record(session, principal, "privacy.purge", "contact", detail={"deleted": deleted})
    session.flush()
    return deleted
