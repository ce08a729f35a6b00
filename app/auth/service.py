"""Credentials: who a request's cookie session or API key belongs to, and web sessions opened
and closed at sign-in and sign-out.

``Authenticator`` is what ``app.kit.guards`` asks (through ``app.state.authenticator``, set by
the app factory) to turn a presented credential into a :class:`~app.kit.principal.Principal`;
the kit itself knows no credential table.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Protocol

from fastapi import Request
from sqlalchemy.orm import Session

from app.auth.repository import ApiKeyRepository, WebSessionRepository
from app.auth.security import constant_time_equals, new_token, sha256_hex, split_api_key
from app.kit.clock import utcnow
from app.kit.errors import InvalidCredentials
from app.kit.principal import ANONYMOUS, Principal
from app.kit.settings import Settings, settings_of
from app.models import WebSession

#: The last-used time of a key and a session's last activity are written at most this often.
TOUCH_INTERVAL = timedelta(minutes=1)


class KeyAttempt(Protocol):
    """One admitted lookup of a key, told how it went."""

    def failed(self) -> None: ...

    def succeeded(self) -> None: ...


class KeyFailures(Protocol):
    """Failed API-key authentications counted per client address (``app.integrators.ratelimit``,
    wired by the app factory): asked before a well-formed key is looked up."""

    def admit(self, request: Request, presented: str) -> KeyAttempt:
        """The attempt to report on, or 429 (``TooManyRequests``) instead of the lookup."""
        ...


class Authenticator:
    """Cookie sessions and API keys. Housekeeping writes (last use, an expired session removed)
    set ``request.state.touch_commit``: the guard commits them even when the request fails."""

    def __init__(self, key_failures: KeyFailures | None = None) -> None:
        self.key_failures = key_failures

    def from_api_key(self, session: Session, presented: str, request: Request) -> Principal:
        parts = split_api_key(presented)
        if parts is None:
            raise InvalidCredentials("The API key is malformed.")
        key_id, secret = parts
        # Guessing keys costs a lookup each: an address past its budget is refused here.
        attempt = self.key_failures.admit(request, presented) if self.key_failures else None
        keys = ApiKeyRepository(session)
        key = keys.check(key_id)
        if (
            key is None
            or key.revoked_at is not None
            or key.client_disabled_at is not None
            or not constant_time_equals(key.secret_sha256, sha256_hex(secret))
        ):
            if attempt is not None:
                attempt.failed()
            raise InvalidCredentials("The API key is unknown or revoked.")
        if attempt is not None:
            attempt.succeeded()
        now = utcnow()
        # Throttle the write: last-used time to the minute is all anyone needs.
        if key.last_used_at is None or now - key.last_used_at > TOUCH_INTERVAL:
            keys.touch(key_id, now)
            request.state.touch_commit = True
        return Principal(
            kind="api_client",
            id=key.client_id,
            scopes=frozenset(key.scopes),
            request_id=getattr(request.state, "request_id", None),
        )

    def from_cookie(self, session: Session, token: str, request: Request) -> Principal:
        settings = settings_of(request)
        sessions = WebSessionRepository(session)
        web_session = sessions.check(sha256_hex(token))
        now = utcnow()
        if web_session is None:
            return ANONYMOUS
        idle = timedelta(minutes=settings.SESSION_IDLE_MINUTES)
        idle_expired = now - web_session.last_seen_at > idle
        if idle_expired or now >= web_session.expires_at or not web_session.is_active:
            sessions.delete(web_session.token_hash)
            request.state.touch_commit = True
            return ANONYMOUS
        if now - web_session.last_seen_at > TOUCH_INTERVAL:
            sessions.touch(web_session.token_hash, now)
            request.state.touch_commit = True
        return Principal(
            kind="user",
            id=web_session.user_id,
            role=web_session.role,
            enterprise_id=web_session.enterprise_id,
            firm_role=web_session.firm_role,
            district_code=web_session.district_code,
            request_id=getattr(request.state, "request_id", None),
            csrf_token=web_session.csrf_token,
        )


def open_session(
    session: Session,
    settings: Settings,
    user_id: uuid.UUID,
    *,
    replaces_token: str | None,
    now: datetime,
) -> tuple[str, str]:
    """A new web session for a user who just proved who they are: ``(cookie token, CSRF
    token)``. Only the token's hash is stored. A session fixed before sign-in is dropped."""
    sessions = WebSessionRepository(session)
    if replaces_token:
        sessions.delete(sha256_hex(replaces_token))
    token, csrf = new_token(), new_token()
    sessions.add(
        WebSession(
            token_hash=sha256_hex(token),
            user_id=user_id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.SESSION_ABSOLUTE_HOURS),
        )
    )
    return token, csrf


def close_session(session: Session, token: str) -> None:
    WebSessionRepository(session).delete(sha256_hex(token))


def close_other_sessions(session: Session, user_id: uuid.UUID, *, keep_token: str | None) -> None:
    """End every session of the user but the one whose cookie is ``keep_token`` (None: all)."""
    WebSessionRepository(session).delete_for_user(
        user_id, keep_hash=sha256_hex(keep_token) if keep_token else None
    )
