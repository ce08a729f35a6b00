from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload

from app.models import ApiKey, LoginFailure, User, WebSession


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: uuid.UUID) -> User | None:
        return self.session.get(User, user_id)

    def get_by_email(self, email: str) -> User | None:
        return self.session.scalar(select(User).where(User.email == email.strip().lower()))

    def add(self, user: User) -> User:
        self.session.add(user)
        self.session.flush()
        return user

    def count_recent_failures(self, email: str, since: datetime) -> int:
        return (
            self.session.scalar(
                select(func.count())
                .select_from(LoginFailure)
                .where(LoginFailure.email == email, LoginFailure.at >= since)
            )
            or 0
        )

    def oldest_recent_failure(self, email: str, since: datetime) -> datetime | None:
        return self.session.scalar(
            select(func.min(LoginFailure.at)).where(
                LoginFailure.email == email, LoginFailure.at >= since
            )
        )

    def add_failure(self, email: str) -> None:
        self.session.add(LoginFailure(email=email))

    def clear_failures(self, email: str) -> None:
        self.session.execute(delete(LoginFailure).where(LoginFailure.email == email))


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

    def delete_for_user(self, user_id: uuid.UUID) -> None:
        self.session.execute(delete(WebSession).where(WebSession.user_id == user_id))


class ApiKeyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_with_client(self, key_id: str) -> ApiKey | None:
        return self.session.scalar(
            select(ApiKey).options(joinedload(ApiKey.client)).where(ApiKey.key_id == key_id)
        )
