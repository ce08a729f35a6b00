"""Access requests ("claims"): someone whose firm is already registered asks to join it.

Who decides: the firm's owners, the admins and the firm's district official (design §7: a
district official confirms the firms of its district). Everyone else is told the claim does not
exist. All of them get an e-mail about a new claim; the first decision wins.

Approval mails the claimant a single-use invitation link (``app.accounts.members``): they become
a member, or the owner if the firm has none (a firm an integrator registered). Refusal mails them
the reason. A claim from an address that already has an account is not filed; that address is
told by e-mail instead, so the form's answer never reveals who has an account.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.accounts import throttle
from app.accounts.members import issue_invitation
from app.accounts.repository import ClaimRepository, UserRepository
from app.accounts.schemas import ClaimCreate, ClaimDecision
from app.audit import service as audit
from app.enterprises import service as enterprise_service
from app.kit.clock import utcnow
from app.kit.db import begin_write
from app.kit.errors import Conflict, FieldError, InvalidInput, NotFound
from app.kit.principal import Principal
from app.kit.settings import Settings
from app.mail import service as mail
from app.models import AccessClaim, Enterprise


def may_decide(principal: Principal, enterprise: Enterprise) -> bool:
    if principal.is_admin:
        return True
    if principal.is_firm_owner:
        return principal.enterprise_id == enterprise.id
    return (
        principal.is_official
        and principal.district_code is not None
        and principal.district_code == enterprise.district_code
    )


def may_list(principal: Principal) -> bool:
    return (
        principal.is_admin
        or principal.is_firm_owner
        or (principal.is_official and principal.district_code is not None)
    )


def file_claim(
    session: Session, principal: Principal, settings: Settings, data: ClaimCreate, address: str
) -> None:
    """File the request and tell who decides. Answers the same whatever happens next.
    Throttled per e-mail and address, per address and globally (``app.accounts.throttle``):
    each request may send e-mails."""
    begin_write(session)
    now = throttle.check(session, settings, "claim", data.email, address)
    throttle.record(session, settings, "claim", data.email, address, now)
    session.commit()  # the attempt counts even when the request fails below
    begin_write(session)
    enterprise = enterprise_service.find(session, data.credit_code)
    if enterprise is None:
        raise InvalidInput(
            "No enterprise with this credit code is registered: register it instead.",
            errors=[FieldError("body.credit_code", "not registered", "unknown")],
        )
    users = UserRepository(session)
    lang = mail.lang_of_locale(data.locale)
    if users.get_by_email(data.email) is not None:
        mail.send(
            session,
            to=data.email,
            lang=lang,
            template="claim_account_exists",
            # It names the firm: deleting the firm deletes it with its other messages.
            enterprise_id=enterprise.id,
            firm=enterprise.name,
            url=settings.PUBLIC_URL.rstrip("/") + "/password/forgot",
        )
        return
    claims = ClaimRepository(session)
    if claims.pending_of(enterprise.id, data.email) is not None:
        return  # already asked; the deciders were told then
    claim = claims.add(
        AccessClaim(
            enterprise_id=enterprise.id,
            email=data.email,
            display_name=data.display_name,
            message=data.message,
            locale=data.locale,
            status="pending",
        )
    )
    audit.record(
        session, principal, "claim.create", "access_claim", claim.id, enterprise_id=enterprise.id
    )
    mail.send(
        session,
        to=data.email,
        lang=lang,
        template="claim_filed",
        enterprise_id=enterprise.id,
        firm=enterprise.name,
    )
    deciders = users.owners(enterprise.id) + users.deciders(enterprise.district_code)
    for decider in {u.id: u for u in deciders}.values():
        mail.send(
            session,
            to=decider.email,
            lang=mail.lang_of_locale(decider.locale),
            template="claim_received",
            enterprise_id=enterprise.id,
            firm=enterprise.name,
            credit_code=enterprise.credit_code,
            claimant=data.display_name,
            claimant_email=data.email,
            message=data.message,
            url=settings.PUBLIC_URL.rstrip("/") + f"/claims/{claim.id}",
        )


@dataclass(frozen=True, slots=True)
class ClaimView:
    claim: AccessClaim
    enterprise: Enterprise


#: A claim waits for a decision, then is decided either way.
PENDING = ("pending",)
DECIDED = ("approved", "refused")


def listing(
    session: Session,
    principal: Principal,
    *,
    statuses: Collection[str] | None = PENDING,
    limit: int = 200,
) -> list[ClaimView]:
    """The claims this principal may decide (by default those waiting; ``DECIDED``: those
    decided; None: all), newest first: an owner's firm, an official's district, all for
    admins."""
    if not may_list(principal):
        raise NotFound()
    repository = ClaimRepository(session)
    if principal.is_admin:
        rows = repository.listing(statuses=statuses, limit=limit)
    elif principal.is_firm_owner:
        rows = repository.listing(
            statuses=statuses, enterprise_id=principal.enterprise_id, limit=limit
        )
    else:
        rows = repository.listing(
            statuses=statuses, district_code=principal.district_code, limit=limit
        )
    return [ClaimView(claim, enterprise) for claim, enterprise in rows]


def get(session: Session, principal: Principal, claim_id: uuid.UUID) -> ClaimView:
    claim = ClaimRepository(session).get(claim_id)
    if claim is None:
        raise NotFound("No such access request.")
    enterprise = enterprise_service.get(session, claim.enterprise_id)
    if not may_decide(principal, enterprise):
        raise NotFound("No such access request.")
    return ClaimView(claim, enterprise)


def decide(
    session: Session,
    principal: Principal,
    settings: Settings,
    claim_id: uuid.UUID,
    decision: ClaimDecision,
) -> AccessClaim:
    """Approve (the claimant is mailed an invitation link) or refuse (mailed the reason)."""
    begin_write(session)
    view = get(session, principal, claim_id)
    claim, enterprise = view.claim, view.enterprise
    if claim.status != "pending":
        raise Conflict("This access request was decided already.")
    if not decision.approve and not decision.reason:
        raise InvalidInput(
            "Say why the request is refused: the person is told.",
            errors=[FieldError("body.reason", "required when refusing", "missing")],
        )
    decided = ClaimRepository(session).decide(
        claim,
        status="approved" if decision.approve else "refused",
        reason=decision.reason,
        decided_by=principal.caller_key,
        now=utcnow(),
    )
    if not decided:  # another decider was quicker (one conditional UPDATE decides)
        raise Conflict("This access request was decided already.")
    lang = mail.lang_of_locale(claim.locale)
    if decision.approve:
        firm_role = "member" if UserRepository(session).has_owner(enterprise.id) else "owner"
        issued = issue_invitation(
            session, principal, settings, enterprise.id, email=claim.email, firm_role=firm_role
        )
        mail.send(
            session,
            to=claim.email,
            lang=lang,
            template="claim_approved",
            secret=True,
            enterprise_id=enterprise.id,
            firm=enterprise.name,
            url=issued.url,
            hours=settings.INVITATION_TTL_HOURS,
        )
    else:
        mail.send(
            session,
            to=claim.email,
            lang=lang,
            template="claim_refused",
            enterprise_id=enterprise.id,
            firm=enterprise.name,
            reason=decision.reason,
        )
    audit.record(
        session,
        principal,
        "claim.approve" if decision.approve else "claim.refuse",
        "access_claim",
        claim.id,
        enterprise_id=enterprise.id,
    )
    return claim
