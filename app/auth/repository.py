"""Queries on credentials: web sessions (by token hash) and API keys (by key id)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete, select, update
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


class WebSessionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def check(self, token_hash: str) -> SessionCheck | None:
        row = self.session.execute(
            select(
                WebSession.token_hash,
                WebSession.csrf_token,
                WebSession.last_seen_at,
                WebSession.expires_at,
                User.id,
                User.role,
                User.enterprise_id,
                User.firm_role,
                User.district_code,
                User.is_active,
            )
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.token_hash == token_hash)
        ).one_or_none()
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
        row = self.session.execute(
            select(
                ApiKey.client_id,
                ApiKey.secret_sha256,
                ApiKey.scopes,
                ApiKey.revoked_at,
                ApiKey.last_used_at,
                ApiClient.disabled_at,
            )
            .join(ApiClient, ApiClient.id == ApiKey.client_id)
            .where(ApiKey.key_id == key_id)
        ).one_or_none()
        return KeyCheck(*row) if row is not None else None

    def touch(self, key_id: str, now: datetime) -> None:
        self.session.execute(update(ApiKey).where(ApiKey.key_id == key_id).values(last_used_at=now))
