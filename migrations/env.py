"""Alembic environment: the URL comes from the service settings unless a caller passes a
connection (tests, `zhizao db upgrade`) through ``config.attributes``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from app.kit.db import create_db_engine
from app.kit.settings import get_settings
from app.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = config.attributes.get("url") or get_settings().DATABASE_URL
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
