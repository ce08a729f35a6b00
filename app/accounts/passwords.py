"""Passwords: every user changes their own; "forgot password" mails a single-use link.

A reset link expires after PASSWORD_RESET_TTL_MINUTES, is stored as its SHA-256, and asking for
a new one withdraws the older ones. Asking answers the same whether or not the address has an
account (nothing to enumerate). Changing or resetting a password ends the user's other
sessions (a reset ends all of them): whoever knew the old password is signed out.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from app.accounts import throttle
from app.accounts.repository import PasswordResetRepository, UserRepository
from app.audit import service as audit
from app.auth import service as credentials
from app.auth.security import hash_password, new_token, sha256_hex, verify_password
from app.kit.clock import utcnow
from app.kit.db import begin_write
from app.kit.errors import FieldError, InvalidInput, NotFound
from app.kit.i18n import N_, Lang
from app.kit.principal import ANONYMOUS, Principal
from app.kit.settings import Settings
from app.mail import service as mail
from app.models import PasswordReset, User


def change_password(
    session: Session,
    principal: Principal,
    settings: Settings,
    current_password: str,
    new_password: str,
    *,
    address: str,
    keep_token: str | None,
) -> None:
    """The signed-in user's new password, once the current one is proven; their other sessions
    end (``keep_token`` is the cookie of this one). A wrong current password counts as a failed
    sign-in of the account from ``address`` (``app.accounts.throttle``): whoever holds a stolen
    session cookie guesses the password no faster here than on the sign-in form."""
    begin_write(session)
    user = UserRepository(session).get(principal.id) if principal.id else None
    if user is None or principal.kind != "user":
        raise NotFound()
    now = throttle.check(session, settings, "login", user.email, address)
    if not verify_password(user.password_hash, current_password):
        throttle.record(session, settings, "login", user.email, address, now)
        session.commit()  # the failure counts though the request fails
        raise InvalidInput(
            "The current password is wrong.",
            errors=[FieldError("body.current_password", "wrong password", "wrong_password")],
        )
    user.password_hash = hash_password(new_password)
    credentials.close_other_sessions(session, user.id, keep_token=keep_token)
    audit.record(
        session, principal, "password.change", "user", user.id, enterprise_id=user.enterprise_id
    )


#: What a reset link that cannot be used any more answers.
RESET_USED_UP = N_("This password-reset link is not valid any more: used or expired.")


def reset_url(settings: Settings, token: str) -> str:
    return f"{settings.PUBLIC_URL.rstrip('/')}/password/reset/{token}"


def request_reset(
    session: Session,
    principal: Principal,
    settings: Settings,
    email: str,
    lang: Lang,
    *,
    address: str,
) -> None:
    """Mail a reset link if ``email`` has an active account; otherwise do nothing visible.
    Throttled like sign-in (``app.accounts.throttle``), whether or not the address has an
    account: every request counts."""
    begin_write(session)
    now = throttle.check(session, settings, "reset", email, address)
    throttle.record(session, settings, "reset", email, address, now)
    user = UserRepository(session).get_by_email(email)
    if user is None or not user.is_active:
        return
    resets = PasswordResetRepository(session)
    for older in resets.unused_of(user.id):
        older.used_at = now  # a newer link replaces it
    token = new_token()
    resets.add(
        PasswordReset(
            user_id=user.id,
            token_hash=sha256_hex(token),
            created_at=now,
            expires_at=now + timedelta(minutes=settings.PASSWORD_RESET_TTL_MINUTES),
        )
    )
    mail.send(
        session,
        to=user.email,
        lang=lang,
        template="password_reset",
        secret=True,
        enterprise_id=user.enterprise_id,
        url=reset_url(settings, token),
        minutes=settings.PASSWORD_RESET_TTL_MINUTES,
    )
    audit.record(
        session,
        principal if principal.kind != "anonymous" else ANONYMOUS,
        "password.reset_request",
        "user",
        user.id,
        enterprise_id=user.enterprise_id,
    )


def open_reset(session: Session, token: str) -> tuple[PasswordReset, User] | None:
    """The reset of a link, if it can still be used."""
    reset = PasswordResetRepository(session).by_token_hash(sha256_hex(token))
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        return None
    user = UserRepository(session).get(reset.user_id)
    if user is None or not user.is_active:
        return None
    return reset, user


def reset_password(session: Session, principal: Principal, token: str, new_password: str) -> User:
    """Set a new password through a reset link, use the link up, end every session."""
    begin_write(session)
    found = open_reset(session, token)
    if found is None:
        raise NotFound(RESET_USED_UP)
    reset, user = found
    # One conditional UPDATE: of requests that send the link at once exactly one goes on.
    if not PasswordResetRepository(session).use_up(reset, utcnow()):
        raise NotFound(RESET_USED_UP)
    user.password_hash = hash_password(new_password)
    credentials.close_other_sessions(session, user.id, keep_token=None)
    actor = Principal(kind="user", id=user.id, role=user.role, request_id=principal.request_id)
    audit.record(
        session, actor, "password.reset", "user", user.id, enterprise_id=user.enterprise_id
    )
    return user
