"""Integrator test helpers: keys, a firm registered with consent, a filled and submitted
assessment, a loopback webhook receiver and a live server (the fixtures are in conftest.py)."""

from __future__ import annotations

import http.server
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.answers import QUICK, complete_answers, questionnaire
from tests.factories import enterprise_payload

CONSENT = {
    "given_by": "张经理 (总经理)",
    "given_at": "2026-11-20T09:00:00+08:00",
    "method": "signed_form",
    "reference": "合同 2026-118",
}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class Integrator:
    key: str
    client_id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.key)


def full_answers(
    profile: dict[str, object], position: float = 0.6, questionnaire_id: str = QUICK
) -> dict[str, Any]:
    return complete_answers(questionnaire(questionnaire_id), profile, position)


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
