"""Queries on credentials: web sessions (by token hash) and API keys (by key id)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Executable, bindparam, delete, select, update
from sqlalchemy.orm import Session

from app.models import ApiClient, ApiKey, User, WebSession


class SessionCheck(NamedTuple):
    """What checking a session cookie needs, read as plain columns (no ORM objects: this runs
    on every signed-in request; the joined ORM load of session and user was a sixth of a
    heatmap GET's CPU)."""

    token_hash: str
    csrf_token: str
    last_seen_at: datetime
    expires_at: datetime
    user_id: uuid.UUID
    role: str
    enterprise_id: uuid.UUID | None
    firm_role: str | None
    district_code: str | None
    is_active: bool


# The two checks of every authenticated request, built once with the presented value as a bound
# parameter, on the tables' columns: building the statement and the ORM's handling of it cost
# several times the query itself (docs/benchmarks.md, "ep-result").
def _lookup(left: Any, right: Any, on: str, columns: list[Any], by: str) -> Executable:
    """``SELECT columns FROM left JOIN right ON right.id = left.<on> WHERE left.<by> = :<by>``."""
    return (
        select(*columns)
        .join_from(left, right, right.c.id == left.c[on])
        .where(left.c[by] == bindparam(by))
    )


_sessions, _users = WebSession.__table__, User.__table__
_SESSION_CHECK = _lookup(
    _sessions,
    _users,
    "user_id",
    [_sessions.c[c] for c in ("token_hash", "csrf_token", "last_seen_at", "expires_at")]
    + [_users.c[c] for c in ("id", "role", "enterprise_id", "firm_role", "district_code")]
    + [_users.c.is_active],
    by="token_hash",
)
_KEY_CHECK = _lookup(
    ApiKey.__table__,
    ApiClient.__table__,
    "client_id",
    [ApiKey.__table__.c[c] for c in ("client_id", "secret_sha256", "scopes", "revoked_at")]
    + [ApiKey.__table__.c.last_used_at, ApiClient.__table__.c.disabled_at],
    by="key_id",
)


class WebSessionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def check(self, token_hash: str) -> SessionCheck | None:
        row = self.session.execute(_SESSION_CHECK, {"token_hash": token_hash}).one_or_none()
        return SessionCheck._make(row) if row is not None else None

    def touch(self, token_hash: str, now: datetime) -> None:
        self.session.execute(
            update(WebSession).where(WebSession.token_hash == token_hash).values(last_seen_at=now)
        )

    def add(self, web_session: WebSession) -> None:
        self.session.add(web_session)

    def delete(self, token_hash: str) -> None:
        self.session.execute(delete(WebSession).where(WebSession.token_hash == token_hash))

    def delete_for_user(self, user_id: uuid.UUID, *, keep_hash: str | None = None) -> None:
        statement = delete(WebSession).where(WebSession.user_id == user_id)
        if keep_hash is not None:
            statement = statement.where(WebSession.token_hash != keep_hash)
        self.session.execute(statement)


class KeyCheck(NamedTuple):
    """What checking a presented key needs, read as plain columns (no ORM objects: this runs
    on every integrator call)."""

    client_id: uuid.UUID
    secret_sha256: str
    scopes: list[str]
    revoked_at: datetime | None
    last_used_at: datetime | None
    client_disabled_at: datetime | None


class ApiKeyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def check(self, key_id: str) -> KeyCheck | None:
        row = self.session.execute(_KEY_CHECK, {"key_id": key_id}).one_or_none()
        return KeyCheck(*row) if row is not None else None

    def touch(self, key_id: str, now: datetime) -> None:
        self.session.execute(update(ApiKey).where(ApiKey.key_id == key_id).values(last_used_at=now))
