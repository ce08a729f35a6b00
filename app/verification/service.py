"""Who may confirm a firm, and the confirmation itself (which also moves the heatmap sums).

Rules (issue #16: verification that cannot be gamed):

* Only an admin (or the CLI) or the district official of the firm's district confirms a firm.
  A firm an integrator registers is *attested* (``attested_at``): recorded, never counted until
  confirmed.
* Withdrawing a confirmation needs an admin; a district official may *flag* the firm instead
  (an admin then decides). Only an admin clears a flag.
* One firm's confirmation changes at most once per :data:`CHANGE_INTERVAL` (through the web or
  the API; the CLI, an operator on the server, is exempt): a further change is refused with 429
  and counted in ``zhizao_verification_rate_limited_total``. Every change is audited and counted
  in ``zhizao_verification_changes_total``. Together with the daily publication this leaves an
  official one change per firm between two publications.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.enterprises import service as enterprise_service
from app.kit import events
from app.kit.clock import utcnow
from app.kit.cursor import TIME_UUID, Page, paginate
from app.kit.db import begin_write
from app.kit.errors import Forbidden, NotFound, TooManyRequests
from app.kit.events import EnterpriseVerified
from app.kit.guards import may_verify_firms
from app.kit.principal import Principal
from app.models import Enterprise
from app.observability.metrics import VERIFICATION_CHANGES, VERIFICATION_RATE_LIMITED
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


#: The least time between two changes of one firm's confirmation (not for the CLI).
CHANGE_INTERVAL = timedelta(hours=24)


def _rate_limit(principal: Principal, enterprise: Enterprise, action: str) -> None:
    changed = enterprise.verification_changed_at
    if principal.kind == "cli" or changed is None:
        return
    wait = changed + CHANGE_INTERVAL - utcnow()
    if wait.total_seconds() > 0:
        VERIFICATION_RATE_LIMITED.labels(action).inc()
        raise TooManyRequests(
            "This firm's verification changed less than 24 hours ago; it can change again "
            "in %(minutes)s minutes.",
            minutes=int(wait.total_seconds() // 60) + 1,
            retry_after=int(wait.total_seconds()) + 1,
        )


def may_list(principal: Principal) -> bool:
    return may_verify_firms(principal)


def set_verified(
    session: Session, principal: Principal, enterprise_id: uuid.UUID, verified: bool
) -> Enterprise:
    """Confirm (or, admins only, withdraw the confirmation of) a firm; idempotent. The heatmap
    sums gain (or lose) the firm's history in the same transaction; officials see it at the
    next publication. Changes of one firm take turns: two confirmations at once (an admin and
    the district official, on two app instances) both read it unconfirmed and both added its
    history, counting the firm twice."""
    begin_write(session)
    # Locked until the transaction ends and read after the lock: one change of the firm's
    # confirmation at a time (the second finds it confirmed).
    enterprise = enterprise_service.locked(session, enterprise_id)
    if enterprise is None or not may_verify(principal, enterprise):
        raise NotFound("No enterprise with this id.")
    was = enterprise.verified
    if was == verified:
        return enterprise
    if not verified and not principal.is_admin:
        raise Forbidden(
            "Only an admin can withdraw a confirmation; flag the firm for an admin instead."
        )
    action = "verify" if verified else "unverify"
    _rate_limit(principal, enterprise, action)
    now = utcnow()
    enterprise.verification_changed_at = now
    if verified:
        enterprise.verified = True
        enterprise.verified_method = "admin" if principal.is_admin else "official"
        enterprise.verified_by_user_id = principal.id if principal.kind == "user" else None
        enterprise.verified_by_client_id = None
        enterprise.verified_at = now
    else:
        enterprise.clear_verification()
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
    VERIFICATION_CHANGES.labels(action).inc()
    return enterprise


def set_flag(
    session: Session,
    principal: Principal,
    enterprise_id: uuid.UUID,
    flagged: bool,
    reason: str | None,
) -> Enterprise:
    """Flag a firm as doubtful (an admin or its district official), or clear the flag (admins
    only). A flag changes no figure: it asks an admin to look. Idempotent; audited."""
    begin_write(session)
    enterprise = enterprise_service.get(session, enterprise_id)
    if not may_verify(principal, enterprise):
        raise NotFound("No enterprise with this id.")
    if (enterprise.flagged_at is not None) == flagged and (
        not flagged or enterprise.flag_reason == reason
    ):
        return enterprise
    if not flagged and not principal.is_admin:
        raise Forbidden("Only an admin can clear a flag.")
    now = utcnow()
    enterprise.flagged_at = now if flagged else None
    enterprise.flagged_by_user_id = principal.id if flagged and principal.kind == "user" else None
    enterprise.flag_reason = reason if flagged else None
    enterprise.updated_at = now
    audit.record(
        session,
        principal,
        "enterprise.flag" if flagged else "enterprise.unflag",
        "enterprise",
        enterprise.id,
        enterprise_id=enterprise.id,
        detail={"reason": reason} if flagged else None,
    )
    session.flush()
    VERIFICATION_CHANGES.labels("flag" if flagged else "unflag").inc()
    return enterprise


def listing(
    session: Session,
    principal: Principal,
    *,
    status: str | None,
    district_code: str | None,
    cursor: str | None,
    limit: int,
    flagged: bool | None = None,
) -> Page[VerificationItem]:
    """Firms a verifier may confirm: a district official's district; all (or one district) for
    admins. Identity facts only. ``flagged`` True: only the firms flagged for an admin."""
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
        flagged=flagged,
        after=TIME_UUID.decode(cursor),
        limit=limit + 1,
    )
    page, next_cursor = paginate(rows, limit, TIME_UUID, lambda e: (e.created_at, e.id))
    return Page[VerificationItem](
        items=[VerificationItem.model_validate(e) for e in page], next_cursor=next_cursor
    )
