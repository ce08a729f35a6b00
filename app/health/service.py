from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from app.kit.migrations import current_revision, head_revision


@dataclass(frozen=True, slots=True)
class ReadinessReport:
    status: str
    database: bool
    migrations_current: bool
    revision: str | None
    head: str | None

    @property
    def ready(self) -> bool:
        return self.database and self.migrations_current


def unavailable() -> ReadinessReport:
    return ReadinessReport("unavailable", False, False, None, head_revision())


def check_readiness(engine: Engine) -> ReadinessReport:
    head = head_revision()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            revision = current_revision(connection)
    except SQLAlchemyError:
        return unavailable()
    current = revision == head
    return ReadinessReport("ok" if current else "migrations-pending", True, current, revision, head)
