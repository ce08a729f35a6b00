from __future__ import annotations

import importlib
import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.kit.settings import Settings
from app.main import _observe, create_app
from app.observability.logging import configure_logging
from tests.factories import PASSWORD, create_enterprise, create_user, login


class TestMetrics:
    def test_hidden_from_anonymous_and_enterprise_users(
        self, client: TestClient, db: Session
    ) -> None:
        assert client.get("/metrics").status_code == 401
        login(client, create_user(db, enterprise=create_enterprise(db)))
        assert client.get("/metrics").status_code == 404

    def test_admin_reads_request_metrics_by_route_template(
        self, client: TestClient, db: Session
    ) -> None:
        login(client, create_user(db, role="admin"))
        enterprise = create_enterprise(db)
        client.get(f"/api/v1/enterprises/{enterprise.id}")
        body = client.get("/metrics").text
        assert "zhizao_http_requests_total" in body
        assert 'route="/api/v1/enterprises/{enterprise_id}"' in body
        assert str(enterprise.id) not in body

    def test_scraper_token(self, settings: Settings, engine: Engine) -> None:
        scraped = settings.model_copy(update={"METRICS_TOKEN": SecretStr("scrape-me")})
        with TestClient(create_app(scraped)) as client:
            ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
            wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert ok.status_code == 200
        assert wrong.status_code == 401


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    buffer = io.StringIO()
    configure_logging("INFO", json=True, stream=buffer)
    yield buffer
    root.handlers[:] = saved
    root.setLevel(level)


def test_request_log_line_is_json_without_secrets(
    client: TestClient, db: Session, json_logs: io.StringIO
) -> None:
    user = create_user(db, enterprise=create_enterprise(db))
    login(client, user)
    err = json_logs.getvalue()
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "request"]
    assert any(r["route"] == "/api/v1/session" and r["status"] == 200 for r in requests)
    assert all(r["request_id"] for r in requests)
    assert PASSWORD not in err
    assert client.cookies["zhizao_session"] not in err
    assert client.headers["X-CSRF-Token"] not in err


def test_observe_names_unmatched_routes(client: TestClient) -> None:
    client.get("/no/such/page/42")
    from app.observability.metrics import REQUESTS

    assert REQUESTS.labels("GET", "<unmatched>", "404")._value.get() >= 1
    assert callable(_observe)


@pytest.mark.parametrize(
    ("path", "module", "name", "kind"),
    [
        ("/api/v1/subsidies", "app.subsidies.api", "shanghai_date", "application/problem+json"),
        ("/register", "app.accounts.pages", "_register_page", "text/html"),
    ],
)
def test_an_unexpected_error_is_answered_like_every_request(
    client: TestClient,
    json_logs: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    module: str,
    name: str,
    kind: str,
) -> None:
    """A 500 used to be answered by Starlette's outermost handler: without the request id and
    the security headers, with no request log line and no metric, an error log line without
    the id the answer asks the caller to quote, and the connection dropped after it."""

    def broken(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("a defect")

    monkeypatch.setattr(importlib.import_module(module), name, broken)
    response = client.get(path, headers={"X-Request-ID": "quote-me-42", "Accept": kind})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith(kind)
    assert response.headers["x-request-id"] == "quote-me-42"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "quote-me-42" in response.text
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line[:1] == "{"]
    error = next(line for line in lines if line["event"] == "unhandled error")
    assert error["request_id"] == "quote-me-42" and "RuntimeError: a defect" in error["exception"]
    logged = next(line for line in lines if line["event"] == "request")
    assert (logged["status"], logged["request_id"]) == (500, "quote-me-42")
