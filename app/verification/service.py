"""Who may confirm a firm, and the confirmation itself (which also moves the heatmap sums)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.enterprises import service as enterprise_service
from app.kit import events
from app.kit.clock import utcnow
from app.kit.cursor import TIME_UUID, Page, paginate
from app.kit.db import begin_write
from app.kit.errors import NotFound
from app.kit.events import EnterpriseVerified
from app.kit.principal import Principal
from app.models import Enterprise
from app.verification.repository import VerificationRepository
from app.verification.schemas import VerificationItem


def may_verify(principal: Principal, enterprise: Enterprise) -> bool:
    """Admins (and the CLI) any firm; a district official the firms registered in their district.
    City-wide officials, enterprise users and integrators none."""
    if principal.is_admin:
        return True
    return (
        principal.is_official
        and principal.district_code is not None
        and principal.district_code == enterprise.district_code
    )


def may_list(principal: Principal) -> bool:
    return principal.is_admin or (principal.is_official and principal.district_code is not None)


def set_verified(
    session: Session, principal: Principal, enterprise_id: uuid.UUID, verified: bool
) -> Enterprise:
    """Confirm (or withdraw the confirmation of) a firm; idempotent. The heatmap sums gain (or
    lose) the firm's history in the same transaction."""
    begin_write(session)
    enterprise = enterprise_service.get(session, enterprise_id)
    if not may_verify(principal, enterprise):
        raise NotFound("No enterprise with this id.")
    was = enterprise.verified
    if was == verified:
        return enterprise
    now = utcnow()
    if verified:
        enterprise.verified = True
        enterprise.verified_method = "admin" if principal.is_admin else "official"
        enterprise.verified_by_user_id = principal.id if principal.kind == "user" else None
        enterprise.verified_by_client_id = None
        enterprise.verified_at = now
    else:
        enterprise.verified = False
        enterprise.verified_method = None
        enterprise.verified_by_user_id = None
        enterprise.verified_by_client_id = None
        enterprise.verified_at = None
    enterprise.updated_at = now
    session.flush()
    events.publish(session, EnterpriseVerified(enterprise, was))
    audit.record(
        session,
        principal,
        "enterprise.verify" if verified else "enterprise.unverify",
        "enterprise",
        enterprise.id,
        enterprise_id=enterprise.id,
        detail={"method": enterprise.verified_method},
    )
    session.flush()
    return enterprise


def listing(
    session: Session,
    principal: Principal,
    *,
    status: str | None,
    district_code: str | None,
    cursor: str | None,
    limit: int,
) -> Page[VerificationItem]:
    """Firms a verifier may confirm: a district official's district; all (or one district) for
    admins. Identity facts only."""
    if not may_list(principal):
        raise NotFound()
    if principal.is_official:
        if district_code is not None and district_code != principal.district_code:
            raise NotFound()
        district_code = principal.district_code
    verified = {"pending": False, "verified": True}.get(status or "")
    rows = VerificationRepository(session).page(
        district_code=district_code,
        verified=verified,
        after=TIME_UUID.decode(cursor),
        limit=limit + 1,
    )
    page, next_cursor = paginate(rows, limit, TIME_UUID, lambda e: (e.created_at, e.id))
    return Page[VerificationItem](
        items=[VerificationItem.model_validate(e) for e in page], next_cursor=next_cursor
    )
