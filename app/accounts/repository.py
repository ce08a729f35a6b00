from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models import LoginFailure, User


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
