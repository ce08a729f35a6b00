"""Queries on credentials: web sessions (by token hash) and API keys (by key id)."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from app.models import ApiKey, WebSession


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


class ApiKeyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_with_client(self, key_id: str) -> ApiKey | None:
        return self.session.scalar(
            select(ApiKey).options(joinedload(ApiKey.client)).where(ApiKey.key_id == key_id)
        )
