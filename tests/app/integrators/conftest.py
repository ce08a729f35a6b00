"""Integrator test fixtures: settings that allow loopback receivers and run no background
worker, keys, an admin, a webhook receiver and a live server (helpers in helpers.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.kit.settings import Settings
from app.main import create_app
from tests.app.integrators.helpers import Integrator, LiveServer, Receiver, free_port, wait_for
from tests.factories import create_api_key, create_user, login


@pytest.fixture(scope="session")
def settings(settings: Settings) -> Settings:
    """Loopback http receivers allowed (tests only) and no background worker: tests run
    the worker's passes themselves."""
    return settings.model_copy(
        update={"WEBHOOK_WORKER": "off", "WEBHOOK_ALLOW_HTTP": True, "WEBHOOK_ALLOW_LOOPBACK": True}
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[FastAPI]:
    """The shared test app, built from these settings (not the suite's default app)."""
    application = create_app(settings)
    with TestClient(application):
        yield application


@pytest.fixture
def integrator(db: Session, settings: Settings) -> Integrator:
    key, client = create_api_key(db, settings)
    return Integrator(key, client.id)  # type: ignore[attr-defined]


@pytest.fixture
def other_integrator(db: Session, settings: Settings) -> Integrator:
    key, client = create_api_key(db, settings)
    return Integrator(key, client.id)  # type: ignore[attr-defined]


@pytest.fixture
def admin(client: TestClient, db: Session) -> TestClient:
    login(client, create_user(db, role="admin"))
    return client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(free_port()).start()
    yield r
    r.stop()


@pytest.fixture
def live_server(settings: Settings, engine: object) -> Iterator[LiveServer]:
    """The app under uvicorn on a free loopback port, in a thread of this process."""
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_for(lambda: server.started, timeout=30), "uvicorn did not start"
    yield LiveServer(f"http://127.0.0.1:{port}", app)
    server.should_exit = True
    thread.join(timeout=30)
