"""A PostgreSQL that accepts connections and then never answers: every request ends in a 503
problem+json within the issue's bound (6 s; /readyz within 2 s), and the service recovers by
itself once the database answers again.

The database sits behind a TCP relay in this process that can be switched to stall: it keeps
accepting connections and holding the open ones, but forwards nothing either way (a hung
server or a black-holed network, as seen from the client). The timings are logged
(`-o log_cli=true` shows them).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url
from sqlalchemy.orm import Session

from app.kit.settings import Settings
from app.main import create_app
from tests.factories import create_api_key, enterprise_payload

#: The issue's bound for an answer while the database does not answer.
BOUND_SECONDS = 6.0
READY_BOUND_SECONDS = 2.0
CONSENT = {"given_by": "张经理", "given_at": "2026-11-20T09:00:00+08:00", "method": "email"}


class StallingRelay:
    """Forwards 127.0.0.1:<port> to the database until :meth:`stall`; then accepts and holds."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.forwarding = threading.Event()
        self.forwarding.set()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        self.forwarding.clear()

    def resume(self) -> None:
        # Connections accepted while stalled never reached the server: drop them (their clients
        # gave up long ago); the ones that were open before the stall carry on.
        self.forwarding.set()

    def close(self) -> None:
        self.closed = True
        self.forwarding.set()
        self.listener.close()
        for sock in self.open:
            sock.close()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.open.append(client)
            if not self.forwarding.is_set():
                threading.Thread(target=self._hold, args=(client,), daemon=True).start()
                continue
            server = socket.create_connection(self.target)
            self.open.append(server)
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _hold(self, client: socket.socket) -> None:
        self.forwarding.wait()
        client.close()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                self.forwarding.wait()
                source.settimeout(0.05)
                try:
                    data = source.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                self.forwarding.wait()  # bytes read before a stall are held, not sent
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture
def relay(database_url: str) -> Iterator[StallingRelay]:
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("statement and connect timeouts are PostgreSQL's (SQLite is a local file)")
    relay = StallingRelay((url.host or "127.0.0.1", url.port or 5432))
    yield relay
    relay.close()


def _timed(call: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()  # type: ignore[operator]
    return response, time.monotonic() - started


def test_a_silent_database_is_a_bounded_503_then_recovers(
    relay: StallingRelay, database_url: str, settings: Settings, db: Session
) -> None:
    key, _client = create_api_key(db, settings)
    bearer = {"Authorization": f"Bearer {key}"}
    relayed = make_url(database_url).set(host="127.0.0.1", port=relay.port)
    app = create_app(
        settings.model_copy(update={"DATABASE_URL": relayed.render_as_string(hide_password=False)})
    )
    calls = {
        "GET /readyz": lambda: client.get("/readyz"),
        "GET /api/v1/scores": lambda: client.get("/api/v1/scores", headers=bearer),
        "POST /api/v1/enterprises": lambda: client.post(
            "/api/v1/enterprises",
            json=enterprise_payload() | {"consent": CONSENT},
            headers=bearer,
        ),
    }
    timings: dict[str, list[float]] = {}
    with TestClient(app) as client:
        for name in ("GET /readyz", "GET /api/v1/scores"):
            response, _ = _timed(calls[name])
            assert response.status_code == 200, (name, response.text)

        relay.stall()
        for round_ in range(2):  # the pooled connections first, then new ones
            for name, call in calls.items():
                response, seconds = _timed(call)
                timings.setdefault(name, []).append(round(seconds, 2))
                assert response.status_code == 503, (name, round_, response.text)
                assert response.headers["content-type"].startswith(
                    "application/problem+json" if name != "GET /readyz" else "application/json"
                )
                bound = READY_BOUND_SECONDS if name == "GET /readyz" else BOUND_SECONDS
                assert seconds < bound, (name, round_, seconds)

        relay.resume()
        recovered: dict[str, int] = {}
        for name, call in calls.items():
            response, seconds = _timed(call)
            timings.setdefault(name + " (recovered)", []).append(round(seconds, 2))
            recovered[name] = response.status_code
    logging.getLogger(__name__).warning("stalled-database timings (s): %s", timings)
    assert recovered == {
        "GET /readyz": 200,
        "GET /api/v1/scores": 200,
        "POST /api/v1/enterprises": 201,
    }
