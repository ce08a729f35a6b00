"""Integrator test helpers: keys, a firm registered with consent, a filled and submitted
assessment, a loopback webhook receiver and a live server."""

from __future__ import annotations

import http.server
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.kit.settings import PROJECT_ROOT, Settings
from app.main import create_app
from scoring import Question, Questionnaire, applicable_questions, load_questionnaire
from tests.factories import create_api_key, create_user, enterprise_payload, login

QUICK = "quick-check"
CONSENT = {
    "given_by": "张经理 (总经理)",
    "given_at": "2026-11-20T09:00:00+08:00",
    "method": "signed_form",
    "reference": "合同 2026-118",
}


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


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class Integrator:
    key: str
    client_id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.key)


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


@cache
def questionnaire(questionnaire_id: str = QUICK) -> Questionnaire:
    return load_questionnaire(PROJECT_ROOT / "questionnaires" / f"{questionnaire_id}.yaml")


def _pick(question: Question, position: float) -> Any:
    if question.type == "number":
        assert question.min is not None and question.max is not None
        value = question.min + (question.max - question.min) * type(question.min)(str(position))
        return int(value) if value == int(value) else float(value)
    options = [o for o in question.options if not (question.type == "multi" and o.exclusive)]
    chosen = options[min(len(options) - 1, int(position * len(options)))]
    return chosen.id if question.type == "single" else [chosen.id]


def full_answers(
    profile: dict[str, object], position: float = 0.6, questionnaire_id: str = QUICK
) -> dict[str, Any]:
    q = questionnaire(questionnaire_id)
    answers: dict[str, Any] = {}
    for _ in range(3):
        for question in applicable_questions(q, answers, profile):
            answers.setdefault(question.id, _pick(question, position))
        answers = {
            x.id: answers[x.id]
            for x in applicable_questions(q, answers, profile)
            if x.id in answers
        }
    return answers


PROFILE = {
    "district_code": "310115",
    "industry_code": "36",
    "size_class": "medium",
    "above_designated_size": True,
    "employees": 120,
    "annual_revenue_cny": 45_000_000,
}


def register_firm(http: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    response = http.post(
        "/api/v1/enterprises", json=enterprise_payload() | {"consent": CONSENT}, headers=headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def prepare_assessment(
    http: httpx.Client, headers: dict[str, str], enterprise_id: str, position: float = 0.6
) -> tuple[str, str]:
    """A draft with every answer filled: (assessment id, ETag)."""
    created = http.post(
        f"/api/v1/enterprises/{enterprise_id}/assessments",
        json={"questionnaire_id": QUICK},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assessment_id = created.json()["id"]
    put = http.put(
        f"/api/v1/assessments/{assessment_id}/answers",
        json={"answers": full_answers(PROFILE, position)},
        headers=headers | {"If-Match": created.headers["ETag"]},
    )
    assert put.status_code == 200, put.text
    return assessment_id, put.headers["ETag"]


def submit(
    http: httpx.Client, headers: dict[str, str], assessment_id: str, etag: str
) -> dict[str, Any]:
    response = http.post(
        f"/api/v1/assessments/{assessment_id}/submit", headers=headers | {"If-Match": etag}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def submitted(
    http: httpx.Client, headers: dict[str, str], enterprise_id: str, position: float = 0.6
) -> dict[str, Any]:
    assessment_id, etag = prepare_assessment(http, headers, enterprise_id, position)
    return submit(http, headers, assessment_id, etag)


# --- a loopback webhook receiver -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An http.server on 127.0.0.1 that records every POST; ``statuses`` scripts the answers
    (then 204 forever)."""

    port: int
    statuses: list[int] = field(default_factory=list)
    location: str | None = None
    received: list[Received] = field(default_factory=list)
    event: threading.Event = field(default_factory=threading.Event)
    _server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/zhizao?src=test"

    def start(self) -> Receiver:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                receiver.received.append(Received(dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 204
                self.send_response(status)
                if receiver.location and 300 <= status < 400:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.event.set()

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(free_port()).start()
    yield r
    r.stop()


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# --- a live server -------------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    app: Any


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
