"""The test databases: PostgreSQL at ZHIZAO_TEST_POSTGRES_URL (an admin database from which the
tests create and drop their own), SQLite files, emptying every table between tests, and Redis at
ZHIZAO_TEST_REDIS_URL (shared rate limits; like PostgreSQL: skipped when unreachable, required
under CI=true)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

import psycopg
import pytest
import redis
from sqlalchemy import Engine, Table, insert, make_url, select
from sqlalchemy.orm import Session

from app.kit.db import create_db_engine
from app.kit.migrations import upgrade
from app.models import Base

POSTGRES_ADMIN_URL = os.environ.get(
    "ZHIZAO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("ZHIZAO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ENGINES = ["sqlite", "postgresql"]
T = TypeVar("T")


def _admin_connection(**options: Any) -> psycopg.Connection[Any]:
    url = make_url(POSTGRES_ADMIN_URL)
    return psycopg.connect(
        host=url.host, port=url.port or 5432, user=url.username, dbname=url.database, **options
    )


@cache
def postgres_reachable() -> bool:
    try:
        with _admin_connection(connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def require_engine(name: str) -> None:
    """Skip a PostgreSQL test when the server is unreachable (fail instead under CI=true)."""
    if name == "postgresql" and not postgres_reachable():
        if IN_CI:
            pytest.fail(
                f"PostgreSQL is required under CI=true and not reachable at {POSTGRES_ADMIN_URL}"
            )
        pytest.skip("PostgreSQL not reachable")


def create_postgres_database() -> tuple[str, str]:
    """A new, empty database: (its name, its URL)."""
    name = f"zhizao_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with _admin_connection(autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_ADMIN_URL).set(database=name)
    return name, url.render_as_string(hide_password=False)


def drop_postgres_database(name: str) -> None:
    with _admin_connection(autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated_database(engine_name: str, directory: Path) -> tuple[str, str | None]:
    """A new database of ``engine_name`` migrated to head: (its URL, the PostgreSQL database
    name to drop afterwards, or None for a SQLite file in ``directory``)."""
    if engine_name == "sqlite":
        url, name = f"sqlite:///{directory / 'zhizao.db'}", None
    else:
        name, url = create_postgres_database()
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    return url, name


def empty_tables(engine: Engine) -> None:
    # DELETE, not TRUNCATE: on tables this small PostgreSQL deletes far faster than it truncates.
    # On PostgreSQL in one round trip (~6 ms instead of ~15-25 ms per test, on ~1,400 tests).
    children_first = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("; ".join(f'DELETE FROM "{t.name}"' for t in children_first))
        else:
            for table in children_first:
                connection.execute(table.delete())


#: Every row of every table, parents first: what ``restore`` writes back.
Snapshot = list[tuple[Table, list[dict[str, Any]]]]


def snapshot(engine: Engine) -> Snapshot:
    with engine.connect() as connection:
        return [
            (table, [dict(row) for row in connection.execute(select(table)).mappings()])
            for table in Base.metadata.sorted_tables
        ]


def written(before: Snapshot, after: Snapshot) -> Snapshot:
    """The rows of ``after`` that ``before`` does not hold."""
    return [
        (table, [row for row in rows if row not in old])
        for (table, rows), (_, old) in zip(after, before, strict=True)
    ]


def restore(engine: Engine, saved: Snapshot) -> None:
    """Write a snapshot's rows back into empty tables, ids included. A PostgreSQL sequence is
    already past them (the rows took their ids from it, and deleting rows resets no sequence);
    SQLite numbers after the largest id."""
    with engine.begin() as connection:
        for table, rows in saved:
            if rows:
                connection.execute(insert(table), rows)


class World(Protocol):
    """The ``world`` fixture (tests/conftest.py): ``world(build)`` is what ``build`` returned,
    with the rows it wrote in this test's tables."""

    def __call__(self, build: Callable[[Session], T]) -> T: ...


@cache
def redis_reachable() -> bool:
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def require_redis() -> str:
    """The test Redis's URL; skips when unreachable (fails instead under CI=true)."""
    if not redis_reachable():
        if IN_CI:
            pytest.fail(f"Redis is required under CI=true and not reachable at {REDIS_URL}")
        pytest.skip("Redis not reachable")
    return REDIS_URL
