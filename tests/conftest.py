"""Test fixtures: every database test runs on SQLite and, when reachable, on PostgreSQL.

The schema is built by Alembic (so every run tests the migrations). Tests commit for real, as the
service does; each test starts from empty tables. Under CI=true a missing PostgreSQL fails the run.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis.internal.conjecture import providers as hypothesis_providers
from hypothesis.internal.constants_ast import Constants
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app import hooks
from app.auth import security
from app.integrators import destinations
from app.kit.db import create_db_engine, create_session_factory
from app.kit.settings import Environment, Settings
from app.main import create_app
from scoring import Questionnaire, loader
from tests.databases import (
    ENGINES,
    IN_CI,
    Snapshot,
    World,
    drop_postgres_database,
    empty_tables,
    migrated_database,
    postgres_reachable,
    redis_reachable,
    require_engine,
    restore,
    snapshot,
    written,
)

T = TypeVar("T")

# Services called directly by tests publish events too: wire their subscribers as the app does.
hooks.install()

#: Hypothesis. Under CI=true every property runs the "ci" profile: a fixed set of examples
#: (derandomized: drawn from a hash of the test, the same on every run of the same code), no
#: example database, no deadline nor too-slow health check (timings follow the machine's load),
#: and the blob that reproduces a failure printed with it: a red build is its commit's, never a
#: draw's. Elsewhere, Hypothesis's defaults: fresh random examples on every run, and a failure
#: remembered in .hypothesis/ and tried first the next time; that is where new examples are
#: found (tests/app/heatmaps/test_perturbation_attacks.py). HYPOTHESIS_PROFILE picks one
#: (``default`` explores under CI=true, as a scheduled run would); so does
#: ``--hypothesis-profile``. Loaded here, before any test module builds its ``settings``.
hypothesis_settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "default"))


@pytest.fixture(autouse=True)
def _derandomized_examples_from_the_tests_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A derandomized profile's examples depend on the test and its strategies only. Hypothesis
    (≥ 6.131) also mixes in literals of every local module loaded so far, so they would change
    with what else an xdist worker happened to import first (as tests/contract explains)."""
    if hypothesis_settings.default.derandomize:
        monkeypatch.setattr(hypothesis_providers, "_get_local_constants", Constants)


#: The names tests give webhook URLs, and what they resolve to (there is no DNS here): a public
#: address, internal ones, and one with a public and an internal address.
TEST_DNS = {
    "hooks.example.com": ["93.184.215.14"],
    "hooks.platform.example": ["93.184.215.14"],
    "hooks.partner.example": ["93.184.215.14"],
    "x.example": ["93.184.215.14"],
    "intranet.example.com": ["10.20.30.40"],
    "metadata.example.com": ["169.254.169.254"],
    "split.example.com": ["93.184.215.14", "127.0.0.1"],
    "v6-internal.example.com": ["fd00::1"],
}


def fake_dns(host: str, port: int) -> list[str]:
    try:
        return TEST_DNS[host.lower().rstrip(".")]
    except KeyError:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None


destinations.use_resolver(fake_dns)

#: Argon2id at its smallest cost: the OWASP parameters the service uses are checked once, in
#: tests/app/auth/test_security.py; everywhere else a hash would only cost time (~37 ms each).
FAST_PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
security.use_password_hasher(FAST_PASSWORD_HASHER)


#: Each questionnaire file parsed once per test process: the app's start-up, the worker's jobs,
#: catalogs and tests load ``questionnaires/`` again and again (~0.5 s of CPU each time). Keyed
#: by the file's path and text, so that a file a test writes or changes is parsed anew; a file
#: that cannot be read, or does not parse, goes through the loader as before.
_load_questionnaire = loader.load_questionnaire


@cache
def _parsed(text: str, path: str) -> Questionnaire:
    return loader.parse_questionnaire(text, path)


def _load_questionnaire_once(path: str | Path) -> Questionnaire:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return _load_questionnaire(path)
    return _parsed(text, str(path))


loader.load_questionnaire = _load_questionnaire_once


#: Test directories whose tests share processes started once per module and run in file order
#: (tests/multi): ``make test`` (``-n 2 --dist loadgroup``) keeps each on one xdist worker.
ONE_WORKER_DIRECTORIES = ("tests/multi/",)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` by directory: every test of a directory in ONE_WORKER_DIRECTORIES goes
    to the same xdist worker, in order; every other test is spread as with ``load``. (xdist's own
    ``xdist_group`` marks do nothing under pytest 9: xdist 3.8 renames ``item._nodeid``, which
    pytest 9 no longer reads.)"""
    if config.getvalue("dist") != "loadgroup":
        return None  # xdist's own scheduler
    from xdist.scheduler import LoadScopeScheduling

    class LoadByDirectory(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return next((d for d in ONE_WORKER_DIRECTORIES if nodeid.startswith(d)), nodeid)

    return LoadByDirectory(config, log)


def pytest_report_header() -> str:
    state = "reachable" if postgres_reachable() else "NOT reachable"
    redis_state = "reachable" if redis_reachable() else "NOT reachable"
    return f"database engines: sqlite, postgresql ({state}); redis ({redis_state})"


@pytest.fixture(scope="session", params=ENGINES)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database of each engine, migrated to head once per run."""
    require_engine(request.param)
    url, postgres_name = migrated_database(request.param, tmp_path_factory.mktemp("sqlite"))
    yield url
    if postgres_name is not None:
        drop_postgres_database(postgres_name)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    empty_tables(engine)
    engine.dispose()


#: A world built once per test module and engine: what its build returned, and every row it wrote.
SavedWorlds = dict[Callable[[Session], Any], tuple[Any, Snapshot]]


@pytest.fixture(scope="module")
def saved_worlds(database_url: str) -> SavedWorlds:
    return {}


@pytest.fixture
def world(engine: Engine, saved_worlds: SavedWorlds) -> World:
    """``world(build)``: the rows ``build(session)`` writes, in this test's tables, and
    what it returned (ids and plain values, not ORM objects). ``build`` runs once per module and
    engine; the module's other tests get its rows written back (seconds of firms, submissions
    and publications become one insert per table). Every test still starts from the same rows
    and may change them: the tables are emptied after it as after any test."""

    def _world(build: Callable[[Session], T]) -> T:
        if build in saved_worlds:
            value, saved = saved_worlds[build]
            restore(engine, saved)
            return cast(T, value)
        before = snapshot(engine)  # e.g. what the app's start-up wrote in the first test
        with create_session_factory(engine)() as session:
            value = build(session)
        saved_worlds[build] = (value, written(before, snapshot(engine)))
        return value

    return cast(World, _world)


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
