"""Rate limits shared through Redis (several app processes count one budget per key), and the
policy when the counter store fails: the request goes through uncounted, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.integrators.ratelimit import KEY_PREFIX
from app.kit.settings import Settings
from app.main import create_app
from app.observability.metrics import RATE_LIMIT_STORAGE_ERRORS
from tests.app.integrators.helpers import Integrator, free_port
from tests.databases import require_redis


def _client(settings: Settings, **update: object) -> TestClient:
    return TestClient(
        create_app(settings.model_copy(update={"API_RATE_LIMIT": "3/minute", **update}))
    )


@pytest.fixture
def two_replicas(settings: Settings, engine: Engine) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps (as two replicas would be: each with its own limiter) on one Redis."""
    url = require_redis()
    with (
        _client(settings, RATE_LIMIT_STORAGE_URI=url) as a,
        _client(settings, RATE_LIMIT_STORAGE_URI=url) as b,
    ):
        yield a, b


def test_replicas_share_one_budget_per_key_in_redis(
    two_replicas: tuple[TestClient, TestClient],
    integrator: Integrator,
    other_integrator: Integrator,
) -> None:
    a, b = two_replicas
    assert (
        a.get("/api/v1/scores", headers=integrator.headers).headers["X-RateLimit-Remaining"] == "2"
    )
    assert (
        b.get("/api/v1/scores", headers=integrator.headers).headers["X-RateLimit-Remaining"] == "1"
    )
    assert a.get("/api/v1/scores", headers=integrator.headers).status_code == 200
    refused = b.get("/api/v1/scores", headers=integrator.headers)
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert a.get("/api/v1/scores", headers=integrator.headers).status_code == 429
    # another key has its own budget, on either replica
    assert b.get("/api/v1/scores", headers=other_integrator.headers).status_code == 200

    with redis.Redis.from_url(require_redis()) as store:
        keys = [k.decode() for k in store.scan_iter(match=f"{KEY_PREFIX}*")]
    assert keys and all(k.startswith(KEY_PREFIX) for k in keys)


def test_memory_storage_counts_per_process(
    settings: Settings, engine: Engine, integrator: Integrator
) -> None:
    """The embedded default: each process counts alone (why replicas need Redis)."""
    with _client(settings) as a, _client(settings) as b:
        for _ in range(3):
            assert a.get("/api/v1/scores", headers=integrator.headers).status_code == 200
        assert a.get("/api/v1/scores", headers=integrator.headers).status_code == 429
        assert b.get("/api/v1/scores", headers=integrator.headers).status_code == 200


def test_unreachable_redis_lets_requests_through_uncounted(
    settings: Settings, engine: Engine, integrator: Integrator
) -> None:
    nobody = f"redis://127.0.0.1:{free_port()}/0"  # a free port: connection refused at once
    before = RATE_LIMIT_STORAGE_ERRORS._value.get()
    with _client(settings, RATE_LIMIT_STORAGE_URI=nobody) as c:
        for _ in range(5):
            response = c.get("/api/v1/scores", headers=integrator.headers)
            assert response.status_code == 200, response.text
            assert "X-RateLimit-Remaining" not in response.headers
        # authentication still applies in full
        assert (
            c.get("/api/v1/scores", headers={"Authorization": "Bearer zk_test_x"}).status_code
            == 401
        )
    assert RATE_LIMIT_STORAGE_ERRORS._value.get() == before + 5
