"""Accounts: registration, login with server-side sessions and per-account throttling, users
for admins, and what other domains need of a firm's people (its members, its access requests).

Members and invitations: ``app.accounts.members``; passwords: ``app.accounts.passwords``;
access requests: ``app.accounts.claims``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts import claims as claims_module
from app.accounts import members as members_module
from app.accounts import throttle
from app.accounts.repository import UserRepository
from app.accounts.schemas import ProfileUpdate, Registration, UserRead
from app.audit import service as audit
from app.auth import service as credentials
from app.auth.security import (
    hash_password,
    password_needs_rehash,
    verify_password,
)
from app.enterprises import service as enterprise_service
from app.kit.cursor import TIME_UUID, Page, paginate
from app.kit.db import begin_write
from app.kit.errors import Conflict, FieldError, NotFound, Unauthorized
from app.kit.guards import require_admin
from app.kit.principal import Principal
from app.kit.settings import Settings
from app.mail import service as mail
from app.models import User

logger = logging.getLogger("zhizao.accounts")


def register(
    session: Session, principal: Principal, settings: Settings, data: Registration
) -> User | None:
    """Register the firm and its owner; the answer never says whether the e-mail had an account.

    A new address: the firm and its first user (the owner) are created and the user is returned.
    An address that has an account: nothing is created, its owner is told by e-mail (someone
    tried to register with it; a reset link if it was them), and None is returned; the caller
    answers exactly as for a new address. The password is hashed either way (same work, same
    time). A registered credit code is refused first (409), whatever the e-mail.

    Two registrations with one e-mail (or credit code) at the same moment: both pass the checks,
    the database's unique rule stops the later insert. Its savepoint is rolled back and the
    checks run again, now seeing the other's committed rows, so the later one is answered as
    if it had come second (a 202 as for any taken address, or the credit code's 409), not 500.
    """
    begin_write(session)
    password_hash = hash_password(data.user.password)
    try:
        with session.begin_nested():
            return _register_checked(session, principal, settings, data, password_hash)
    except IntegrityError:
        logger.info("registration raced another with the same e-mail or credit code")
    return _register_checked(session, principal, settings, data, password_hash)


def _register_checked(
    session: Session,
    principal: Principal,
    settings: Settings,
    data: Registration,
    password_hash: str,
) -> User | None:
    if enterprise_service.find(session, data.enterprise.credit_code) is not None:
        raise Conflict(
            "An enterprise with this credit code is already registered.",
            errors=[FieldError("body.enterprise.credit_code", "already registered", "duplicate")],
        )
    users = UserRepository(session)
    existing = users.get_by_email(data.user.email)
    if existing is not None:
        mail.send(
            session,
            to=existing.email,
            lang=mail.lang_of_locale(existing.locale),
            template="registration_account_exists",
            enterprise_id=existing.enterprise_id,
            url=settings.PUBLIC_URL.rstrip("/") + "/password/forgot",
        )
        logger.info("registration with an existing account's e-mail; its owner was told")
        return None
    enterprise = enterprise_service.add_enterprise(session, principal, data.enterprise)
    user = users.add(
        User(
            email=data.user.email,
            password_hash=password_hash,
            display_name=data.user.display_name,
            role="enterprise",
            firm_role="owner",
            enterprise_id=enterprise.id,
            locale=data.user.locale,
        )
    )
    audit.record(session, principal, "user.create", "user", user.id, enterprise_id=enterprise.id)
    return user


def find_user(session: Session, email: str) -> User | None:
    return UserRepository(session).get_by_email(email)


def create_user(
    session: Session,
    principal: Principal,
    *,
    email: str,
    password: str,
    role: str,
    enterprise_id: uuid.UUID | None = None,
    district_code: str | None = None,
    display_name: str = "",
    firm_role: str | None = None,
) -> User:
    """Any user (the CLI, the demo, tests). An enterprise user without a ``firm_role`` becomes
    the firm's owner if it has none yet, else a member."""
    users = UserRepository(session)
    if enterprise_id is not None and firm_role is None:
        firm_role = "member" if users.has_owner(enterprise_id) else "owner"
    if users.get_by_email(email) is not None:
        raise Conflict(
            "This e-mail address already has an account.",
            errors=[FieldError("email", "already registered", "duplicate")],
        )
    user = users.add(
        User(
            email=email.strip().lower(),
            password_hash=hash_password(password),
            display_name=display_name,
            role=role,
            firm_role=firm_role if role == "enterprise" else None,
            enterprise_id=enterprise_id,
            district_code=district_code,
        )
    )
    audit.record(
        session,
        principal,
        "user.create",
        "user",
        user.id,
        enterprise_id=enterprise_id,
        detail={"role": role, "firm_role": user.firm_role},
    )
    return user


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    user: User
    #: The cookie value; only its hash is stored.
    token: str
    csrf_token: str


def login(
    session: Session,
    settings: Settings,
    email: str,
    password: str,
    *,
    address: str,
    replaces_token: str | None,
    request_id: str | None,
) -> LoginOutcome:
    """Check the password and open a new session, throttled per account and client address,
    per address and globally with exponential backoff (``app.accounts.throttle``): a refused
    attempt answers 429 whether or not the password is right; a success forgets the account's
    failures from this address."""
    begin_write(session)
    now = throttle.check(session, settings, "login", email, address)
    users = UserRepository(session)
    user = users.get_by_email(email)
    if (
        not verify_password(user.password_hash if user else None, password)
        or user is None
        or (not user.is_active)
    ):
        throttle.record(session, settings, "login", email, address, now)
        # The failure must count even though the request fails.
        session.commit()
        raise Unauthorized("Wrong e-mail address or password.", headers={})
    throttle.forget(session, settings, "login", email, address)
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    token, csrf = credentials.open_session(
        session, settings, user.id, replaces_token=replaces_token, now=now
    )
    user.last_login_at = now
    actor = Principal(kind="user", id=user.id, role=user.role, request_id=request_id)
    audit.record(session, actor, "session.login", "user", user.id, enterprise_id=user.enterprise_id)
    return LoginOutcome(user, token, csrf)


def logout(session: Session, principal: Principal, token: str) -> None:
    credentials.close_session(session, token)
    audit.record(session, principal, "session.logout", "user", principal.id)


def home_path(role: str | None) -> str:
    """Where each role lands after signing in: its own home."""
    return {"enterprise": "/dashboard", "official": "/heatmaps", "admin": "/admin"}.get(
        role or "", "/"
    )


def get_user(session: Session, principal: Principal) -> User:
    """The signed-in user's own account."""
    user = (
        UserRepository(session).get(principal.id)
        if principal.kind == "user" and principal.id
        else None
    )
    if user is None:
        raise NotFound()
    return user


def update_profile(session: Session, principal: Principal, data: ProfileUpdate) -> User:
    user = get_user(session, principal)
    user.display_name = data.display_name
    user.locale = data.locale
    audit.record(
        session, principal, "user.profile", "user", user.id, enterprise_id=user.enterprise_id
    )
    session.flush()
    return user


def members(session: Session, principal: Principal, enterprise_id: uuid.UUID) -> list[User]:
    """The firm's people (its own users and admins)."""
    return members_module.members(session, principal, enterprise_id)


def list_users(
    session: Session, principal: Principal, *, cursor: str | None, limit: int, email: str | None
) -> Page[UserRead]:
    """Every account, oldest first, optionally those whose e-mail contains ``email`` (admins)."""
    require_admin(principal)
    rows = UserRepository(session).page(
        after=TIME_UUID.decode(cursor), limit=limit + 1, email=email
    )
    page, next_cursor = paginate(rows, limit, TIME_UUID, lambda u: (u.created_at, u.id))
    return Page[UserRead](items=[UserRead.model_validate(u) for u in page], next_cursor=next_cursor)


def set_user_active(
    session: Session, principal: Principal, user_id: uuid.UUID, active: bool
) -> User:
    """Suspend an account (its sessions end at once) or restore it (admins)."""
    require_admin(principal)
    begin_write(session)
    user = UserRepository(session).get(user_id)
    if user is None:
        raise NotFound("No such user.")
    if user.id == principal.id and not active:
        raise Conflict("You cannot suspend your own account.")
    if user.is_active != active:
        user.is_active = active
        if not active:
            credentials.close_other_sessions(session, user.id, keep_token=None)
        audit.record(
            session,
            principal,
            "user.activate" if active else "user.suspend",
            "user",
            user.id,
            enterprise_id=user.enterprise_id,
        )
        session.flush()
    return user


def pending_claims(session: Session, principal: Principal) -> list[claims_module.ClaimView]:
    """Access requests waiting for this principal's decision (owners, district officials,
    admins)."""
    return claims_module.listing(session, principal)
