"""Test fixtures: every database test runs on SQLite and, when reachable, on PostgreSQL.

The schema is built by Alembic (so every run tests the migrations). Tests commit for real, as the
service does; each test starts from empty tables. Under CI=true a missing PostgreSQL fails the run.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session

from app import hooks
from app.kit.db import create_db_engine, create_session_factory
from app.kit.migrations import upgrade
from app.kit.settings import Environment, Settings
from app.main import create_app
from app.models import Base

POSTGRES_ADMIN_URL = os.environ.get(
    "ZHIZAO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ENGINES = ["sqlite", "postgresql"]


def _postgres_reachable() -> bool:
    url = make_url(POSTGRES_ADMIN_URL)
    try:
        with psycopg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            dbname=url.database,
            connect_timeout=3,
        ):
            return True
    except psycopg.Error:
        return False


_POSTGRES = _postgres_reachable()
# Services called directly by tests publish events too: wire their subscribers as the app does.
hooks.install()


def pytest_report_header() -> str:
    return f"database engines: sqlite, postgresql ({'reachable' if _POSTGRES else 'NOT reachable'})"


def _create_postgres_database() -> tuple[str, str]:
    url = make_url(POSTGRES_ADMIN_URL)
    name = f"zhizao_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        dbname=url.database,
        autocommit=True,
    ) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name, url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(name: str) -> None:
    url = make_url(POSTGRES_ADMIN_URL)
    with psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        dbname=url.database,
        autocommit=True,
    ) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=ENGINES)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database of each engine, migrated to head once per run."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "zhizao.db"
        url = f"sqlite:///{path}"
        dropper = None
    else:
        if not _POSTGRES:
            if IN_CI:
                pytest.fail(
                    "PostgreSQL is required under CI=true and not reachable at "
                    + POSTGRES_ADMIN_URL
                )
            pytest.skip("PostgreSQL not reachable")
        name, url = _create_postgres_database()
        dropper = name
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    if dropper is not None:
        _drop_postgres_database(dropper)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    _empty_tables(engine)
    engine.dispose()


def _empty_tables(engine: Engine) -> None:
    # DELETE, not TRUNCATE: on tables this small PostgreSQL deletes far faster than it truncates.
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session for arranging and inspecting data directly."""
    with create_session_factory(engine)() as session:
        yield session


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """The settings of the test app of this engine. Tests that need other values make their
    own copy (``settings.model_copy(update=...)``) and their own app."""
    return Settings(
        ENV=Environment.testing,
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(32),
        # No background webhook delivery: on SQLite it would be on by default, and its thread
        # would race the tests that run the worker's passes themselves on the same database.
        WEBHOOK_WORKER="off",
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[FastAPI]:
    """One started app per engine: building FastAPI's routes and loading the catalogues
    takes seconds, so tests share it (each test still gets empty tables and a new client)."""
    application = create_app(settings)
    with TestClient(application):
        yield application


@pytest.fixture
def client(app: FastAPI, engine: Engine) -> Iterator[TestClient]:
    """A client of the shared app with its own cookies and headers (not entered: the app is
    already started, and entering would run its start-up again)."""
    test_client = TestClient(app, base_url="http://testserver")
    yield test_client
    test_client.close()
