"""A firm's people: owners and members, invitations by e-mail, the owner-to-be's invitation an
integrator hands over, and accepting an invitation.

Rules. An owner (or an admin) invites colleagues by e-mail and removes members; a firm always
keeps at least one owner. An invitation link is single-use, expires after INVITATION_TTL_HOURS
and is stored as its SHA-256; a newer invitation to the same address (or a newer owner
invitation) withdraws the older one. A member removed is deleted with their sessions: the next
request with their cookie is anonymous.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from app.accounts.repository import InvitationRepository, UserRepository
from app.accounts.schemas import InvitationAcceptance
from app.audit import service as audit
from app.auth.security import hash_password, new_token, sha256_hex
from app.enterprises import service as enterprise_service
from app.kit.clock import utcnow
from app.kit.db import begin_write
from app.kit.errors import Conflict, FieldError, InvalidInput, NotFound
from app.kit.guards import require_firm_member, visible_enterprise
from app.kit.i18n import N_, Lang
from app.kit.principal import Principal
from app.kit.settings import Settings
from app.mail import service as mail
from app.models import Enterprise, Invitation, User


def require_owner(session: Session, principal: Principal, enterprise_id: uuid.UUID) -> None:
    """The firm's owners and admins; a member is told the action does not exist (404)."""
    visible_enterprise(session, principal, enterprise_id)
    if principal.is_admin or (principal.is_firm_owner and principal.enterprise_id == enterprise_id):
        return
    raise NotFound("Only the firm's owner may do this.")


def members(session: Session, principal: Principal, enterprise_id: uuid.UUID) -> list[User]:
    """The firm's users, oldest first (its own users and admins)."""
    require_firm_member(session, principal, enterprise_id)
    return UserRepository(session).members(enterprise_id)


def open_invitations(
    session: Session, principal: Principal, enterprise_id: uuid.UUID
) -> list[Invitation]:
    require_owner(session, principal, enterprise_id)
    now = utcnow()
    return [
        i
        for i in InvitationRepository(session).open_for(enterprise_id)
        if i.expires_at > now and i.email is not None
    ]


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    invitation: Invitation
    #: The link, shown or mailed once; only its hash is stored.
    url: str


def invitation_url(settings: Settings, token: str) -> str:
    return f"{settings.PUBLIC_URL.rstrip('/')}/invitations/{token}"


def issue_invitation(
    session: Session,
    principal: Principal,
    settings: Settings,
    enterprise_id: uuid.UUID,
    *,
    email: str | None,
    firm_role: str,
) -> IssuedInvitation:
    """A new invitation; earlier open ones to the same address (or for the owner) are
    withdrawn. No permission check: callers check who may invite."""
    repository = InvitationRepository(session)
    now = utcnow()
    earlier = (
        repository.open_for(enterprise_id, email=email)
        if email is not None
        else repository.open_for(enterprise_id, firm_role="owner")
    )
    for old in earlier:
        old.revoked_at = now
    token = new_token()
    invitation = repository.add(
        Invitation(
            enterprise_id=enterprise_id,
            email=email,
            firm_role=firm_role,
            token_hash=sha256_hex(token),
            created_by=principal.caller_key,
            created_at=now,
            expires_at=now + timedelta(hours=settings.INVITATION_TTL_HOURS),
        )
    )
    audit.record(
        session,
        principal,
        "invitation.create",
        "invitation",
        invitation.id,
        enterprise_id=enterprise_id,
        detail={"firm_role": firm_role, "to_named_address": email is not None},
    )
    return IssuedInvitation(invitation, invitation_url(settings, token))


def invite_member(
    session: Session,
    principal: Principal,
    settings: Settings,
    enterprise_id: uuid.UUID,
    email: str,
    lang: Lang,
) -> Invitation:
    """The owner invites a colleague: the link goes to ``email`` (only that address may use
    it)."""
    begin_write(session)
    require_owner(session, principal, enterprise_id)
    if UserRepository(session).get_by_email(email) is not None:
        raise Conflict(
            "This e-mail address already has an account; a person belongs to one firm.",
            errors=[FieldError("body.email", "already has an account", "duplicate")],
        )
    enterprise = enterprise_service.get(session, enterprise_id)
    issued = issue_invitation(
        session, principal, settings, enterprise_id, email=email, firm_role="member"
    )
    inviter = UserRepository(session).get(principal.id) if principal.id else None
    mail.send(
        session,
        to=email,
        lang=lang,
        template="invitation",
        secret=True,
        enterprise_id=enterprise_id,
        firm=enterprise.name,
        inviter=(inviter.display_name or inviter.email) if inviter else "",
        url=issued.url,
        hours=settings.INVITATION_TTL_HOURS,
    )
    return issued.invitation


def withdraw_invitation(
    session: Session, principal: Principal, enterprise_id: uuid.UUID, invitation_id: uuid.UUID
) -> None:
    begin_write(session)
    require_owner(session, principal, enterprise_id)
    invitation = InvitationRepository(session).get(invitation_id)
    if invitation is None or invitation.enterprise_id != enterprise_id:
        raise NotFound("No such invitation.")
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        audit.record(
            session,
            principal,
            "invitation.withdraw",
            "invitation",
            invitation.id,
            enterprise_id=enterprise_id,
        )


def issue_owner_invitation(
    session: Session, principal: Principal, settings: Settings, enterprise_id: uuid.UUID
) -> IssuedInvitation:
    """The owner-to-be's link for a firm without users: for the integrator that registered the
    firm (while its access lasts), or an admin. A new link withdraws the previous one."""
    begin_write(session)
    enterprise = enterprise_service.get_visible(session, principal, enterprise_id)
    if principal.is_integrator and enterprise.registered_by_client_id != principal.id:
        raise NotFound("No enterprise with this id.")
    if not (principal.is_integrator or principal.is_admin):
        raise NotFound("No enterprise with this id.")
    if UserRepository(session).has_owner(enterprise_id):
        raise Conflict(
            "The firm already has an owner: its people sign in themselves, and can invite "
            "colleagues."
        )
    return issue_invitation(
        session, principal, settings, enterprise_id, email=None, firm_role="owner"
    )


#: What a link that cannot be used any more answers.
USED_UP = N_("This invitation link is not valid any more: used, withdrawn or expired.")


def open_invitation(session: Session, token: str) -> tuple[Invitation, Enterprise] | None:
    """The invitation of a link, if it can still be accepted (not used, withdrawn or expired)."""
    invitation = InvitationRepository(session).by_token_hash(sha256_hex(token))
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= utcnow()
    ):
        return None
    return invitation, enterprise_service.get(session, invitation.enterprise_id)


def accept_invitation(
    session: Session, principal: Principal, token: str, data: InvitationAcceptance
) -> User:
    """Create the invitee's account in the firm and use the link up. An invitation to a named
    address is for that address only; an owner invitation makes its acceptor the owner unless
    the firm got one meanwhile.

    Atomic: the link is used up by a conditional UPDATE before the account is made, so of
    requests that send one link at once exactly one succeeds and the others are told, as for a
    used link, that it is not valid any more (NotFound; nothing of theirs is written). An
    owner invitation also locks the firm's row, so that two owner links accepted at once make
    one owner."""
    begin_write(session)
    found = open_invitation(session, token)
    if found is None:
        raise NotFound(USED_UP)
    invitation, enterprise = found
    users = UserRepository(session)
    if invitation.email is not None and invitation.email != data.email:
        raise InvalidInput(
            "This invitation is for another e-mail address.",
            errors=[FieldError("body.email", "not the invited address", "mismatch")],
        )
    if users.get_by_email(data.email) is not None:
        raise Conflict(
            "This e-mail address already has an account; sign in instead.",
            errors=[FieldError("body.email", "already has an account", "duplicate")],
        )
    if not InvitationRepository(session).use_up(invitation, utcnow()):
        raise NotFound(USED_UP)  # another request used it since it was read
    firm_role = invitation.firm_role
    if firm_role == "owner":
        users.lock_firm(enterprise.id)
        if users.has_owner(enterprise.id):
            if invitation.email is None:
                raise Conflict("The firm already has an owner; ask them to invite you.")
            firm_role = "member"  # an approved claimant joins the owner who appeared meanwhile
    user = users.add(
        User(
            email=data.email,
            password_hash=hash_password(data.password),
            display_name=data.display_name,
            role="enterprise",
            firm_role=firm_role,
            enterprise_id=enterprise.id,
            locale=data.locale,
        )
    )
    invitation.accepted_user_id = user.id
    actor = Principal(kind="user", id=user.id, role="enterprise", request_id=principal.request_id)
    audit.record(
        session,
        actor,
        "invitation.accept",
        "invitation",
        invitation.id,
        enterprise_id=enterprise.id,
        detail={"user_id": str(user.id), "firm_role": firm_role},
    )
    return user


def remove_member(
    session: Session, principal: Principal, enterprise_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    """Remove a person from the firm: their account and every session of it go at once. The
    last owner cannot be removed."""
    begin_write(session)
    require_owner(session, principal, enterprise_id)
    users = UserRepository(session)
    user = users.get(user_id)
    if user is None or user.enterprise_id != enterprise_id:
        raise NotFound("No such member.")
    if user.firm_role == "owner" and len(users.owners(enterprise_id)) <= 1:
        raise Conflict("The firm's last owner cannot be removed.")
    audit.record(
        session,
        principal,
        "member.remove",
        "user",
        user.id,
        enterprise_id=enterprise_id,
        detail={"firm_role": user.firm_role},
    )
    users.delete(user)
