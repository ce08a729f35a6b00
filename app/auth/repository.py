"""Queries on credentials: web sessions (by token hash) and API keys (by key id)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, joinedload

from app.models import ApiClient, ApiKey, WebSession


class WebSessionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_with_user(self, token_hash: str) -> WebSession | None:
        return self.session.scalar(
            select(WebSession)
            .options(joinedload(WebSession.user))
            .where(WebSession.token_hash == token_hash)
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
