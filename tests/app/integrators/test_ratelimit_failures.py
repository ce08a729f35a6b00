"""Failed API-key authentications counted per client address (app/integrators/ratelimit.py):
a caller sending a new wrong key each time used to get a fresh budget, and a database lookup,
with every request. Past the address's budget a key that is not known good is refused (429)
before it is looked up; a key in use, from any address, keeps working."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from app.auth.security import issue_api_key
from app.integrators import service as integrator_service
from app.kit.principal import CLI
from app.kit.settings import Settings
from app.main import create_app
from app.observability.metrics import RATE_LIMIT_STORAGE_ERRORS
from tests.app.integrators.helpers import Integrator, bearer, free_port
from tests.databases import require_redis

BUDGET = 3
ATTACKER = "203.0.113.7"
NEIGHBOUR = "198.51.100.2"


def _app(settings: Settings, **update: object) -> FastAPI:
    return create_app(
        settings.model_copy(update={"API_KEY_FAILURE_LIMIT": f"{BUDGET}/minute", **update})
    )


def _from(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, client=(address, 50000))


def wrong_key() -> dict[str, str]:
    """A well-formed key nobody was issued (a new one each time: a new per-key budget too)."""
    return bearer(issue_api_key("zk_test").plaintext)


def spend_budget(client: TestClient) -> None:
    for _ in range(BUDGET):
        answer = client.get("/api/v1/scores", headers=wrong_key())
        assert answer.status_code == 401, answer.text


def key_lookups(app: FastAPI, client: TestClient, headers: dict[str, str]) -> tuple[Any, int]:
    """The answer, and how many statements read the ``api_key`` table to give it."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    engine = app.state.database.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        answer = client.get("/api/v1/scores", headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return answer, sum("api_key" in statement for statement in seen)


@pytest.fixture
def guarded(settings: Settings, engine: Engine) -> Iterator[FastAPI]:
    application = _app(settings)
    with TestClient(application):
        yield application


def test_wrong_keys_from_one_address_are_refused_past_the_budget_before_the_lookup(
    guarded: FastAPI,
) -> None:
    attacker = _from(guarded, ATTACKER)
    spend_budget(attacker)
    refused, lookups = key_lookups(guarded, attacker, wrong_key())
    assert refused.status_code == 429, refused.text
    assert lookups == 0  # refused before the key is looked up
    assert refused.headers["content-type"].startswith("application/problem+json")
    seconds = int(refused.headers["Retry-After"])
    assert 1 <= seconds <= 60
    # The refusal is the address's, not the presented key's (whose own budget is untouched).
    assert "X-RateLimit-Remaining" not in refused.headers
    problem = refused.json()
    assert problem["status"] == 429 and problem["type"].endswith("/too-many-requests")
    assert problem["detail"] == (
        f"来自此地址的 API 密钥认证失败次数过多（至多每分钟 {BUDGET} 次），"
        f"请在 {seconds} 秒后重试。"
    )
    english = attacker.get("/api/v1/scores", headers=wrong_key() | {"Accept-Language": "en"})
    assert english.status_code == 429
    assert english.json()["detail"] == (
        f"Too many failed API-key authentications from this address (at most {BUDGET} per "
        f"minute); retry in {english.headers['Retry-After']} s."
    )
    # A malformed key costs no lookup: a plain 401, not counted, not gated.
    assert attacker.get("/api/v1/scores", headers=bearer("zk_test_x")).status_code == 401


def test_failures_on_pages_count_too(guarded: FastAPI) -> None:
    """A page reads an ``Authorization`` header as the API does, lookup included."""
    attacker = _from(guarded, ATTACKER)
    for _ in range(BUDGET):
        assert attacker.get("/", headers=wrong_key()).status_code == 401
    assert attacker.get("/api/v1/scores", headers=wrong_key()).status_code == 429
    assert attacker.get("/", headers=wrong_key()).status_code == 429


def test_a_valid_key_from_another_address_is_unaffected(
    guarded: FastAPI, integrator: Integrator
) -> None:
    spend_budget(_from(guarded, ATTACKER))
    neighbour = _from(guarded, NEIGHBOUR)
    assert neighbour.get("/api/v1/scores", headers=integrator.headers).status_code == 200
    assert neighbour.get("/api/v1/scores", headers=wrong_key()).status_code == 401


def test_behind_the_same_address_a_key_in_use_keeps_working_and_a_new_one_waits(
    guarded: FastAPI, integrator: Integrator, other_integrator: Integrator
) -> None:
    """The rule: past the budget only keys that are not known good are refused. A key that
    authenticated (from any address) in the last day is still looked up and works."""
    shared = _from(guarded, ATTACKER)  # one NAT: an integrator and a key guesser behind it
    assert shared.get("/api/v1/scores", headers=integrator.headers).status_code == 200
    spend_budget(shared)
    assert shared.get("/api/v1/scores", headers=wrong_key()).status_code == 429
    for _ in range(3):
        assert shared.get("/api/v1/scores", headers=integrator.headers).status_code == 200
    # A key never seen working waits for the address's budget...
    assert shared.get("/api/v1/scores", headers=other_integrator.headers).status_code == 429
    # ... unless it works from elsewhere first.
    elsewhere = _from(guarded, NEIGHBOUR)
    assert elsewhere.get("/api/v1/scores", headers=other_integrator.headers).status_code == 200
    assert shared.get("/api/v1/scores", headers=other_integrator.headers).status_code == 200
    # A success forgives nothing: the guesser is still refused.
    assert shared.get("/api/v1/scores", headers=wrong_key()).status_code == 429


def test_a_revoked_key_loses_its_mark(
    guarded: FastAPI, integrator: Integrator, db: Session
) -> None:
    shared = _from(guarded, ATTACKER)
    assert shared.get("/api/v1/scores", headers=integrator.headers).status_code == 200
    integrator_service.revoke_key(db, CLI, integrator.key.split("_")[2])
    db.commit()
    spend_budget(shared)
    assert shared.get("/api/v1/scores", headers=integrator.headers).status_code == 401
    answer, lookups = key_lookups(guarded, shared, integrator.headers)
    assert answer.status_code == 429 and lookups == 0


# --- the shared storage ---------------------------------------------------------------------------


def _unique_address() -> str:
    """An address of its own (2001:db8::/32, documentation): counts in Redis outlive a test."""
    return str(ipaddress.IPv6Address((0x20010DB8 << 96) | secrets.randbits(96)))


def test_replicas_share_the_failures_and_the_known_good_keys_in_redis(
    settings: Settings, engine: Engine, integrator: Integrator, other_integrator: Integrator
) -> None:
    url = require_redis()
    address = _unique_address()
    one, two = (
        _app(settings, RATE_LIMIT_STORAGE_URI=url),
        _app(settings, RATE_LIMIT_STORAGE_URI=url),
    )
    with TestClient(one), TestClient(two):
        a, b = _from(one, address), _from(two, address)
        assert a.get("/api/v1/scores", headers=integrator.headers).status_code == 200
        for replica in (a, b, a):
            assert replica.get("/api/v1/scores", headers=wrong_key()).status_code == 401
        refused = b.get("/api/v1/scores", headers=wrong_key())
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert a.get("/api/v1/scores", headers=wrong_key()).status_code == 429
        # known good on one replica, so on the other too (which has never seen it)
        assert b.get("/api/v1/scores", headers=integrator.headers).status_code == 200
        assert b.get("/api/v1/scores", headers=other_integrator.headers).status_code == 429
        other_address = _from(two, _unique_address())
        assert other_address.get("/api/v1/scores", headers=wrong_key()).status_code == 401


def test_unreachable_redis_lets_wrong_keys_be_looked_up_and_counts_one_error_a_request(
    settings: Settings, engine: Engine, integrator: Integrator
) -> None:
    """The storage's failure policy: let through, counted and logged, once per request (the
    failure budget does not ask the storage again after the key's own limit found it down)."""
    nobody = f"redis://127.0.0.1:{free_port()}/0"
    before = RATE_LIMIT_STORAGE_ERRORS._value.get()
    application = _app(settings, RATE_LIMIT_STORAGE_URI=nobody)
    with TestClient(application):
        attacker = _from(application, ATTACKER)
        for _ in range(BUDGET + 2):
            assert attacker.get("/api/v1/scores", headers=wrong_key()).status_code == 401
        assert attacker.get("/api/v1/scores", headers=integrator.headers).status_code == 200
    assert RATE_LIMIT_STORAGE_ERRORS._value.get() == before + BUDGET + 3
