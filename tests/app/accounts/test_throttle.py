"""Throttling per account and address, per address and globally, with exponential backoff and no
lock (``app.accounts.throttle``); attempts name no one in clear."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.repository import AttemptRepository
from app.auth.security import derive_key, keyed_hash
from app.kit import clock
from app.kit.settings import Settings
from app.models import AuthAttempt, MailMessage
from tests.factories import PASSWORD, create_enterprise, create_user
from tests.pages import HTML, hidden, soup
from tests.races import at_once, meet_after

ATTACKER = ("203.0.113.66", 40000)
VICTIM = ("198.51.100.7", 40001)


@pytest.fixture
def attacker(app: FastAPI) -> Iterator[TestClient]:
    browser = TestClient(app, base_url="http://testserver", client=ATTACKER)
    yield browser
    browser.close()


@pytest.fixture
def victim(app: FastAPI) -> Iterator[TestClient]:
    browser = TestClient(app, base_url="http://testserver", client=VICTIM)
    yield browser
    browser.close()


def sign_in(client: TestClient, email: str, password: str) -> int:
    return client.post("/api/v1/session", json={"email": email, "password": password}).status_code


def test_password_spraying_from_one_address_is_throttled(
    attacker: TestClient, victim: TestClient, db: Session
) -> None:
    """30 accounts, one try each, from one address: the address backs off (429)."""
    firm = create_enterprise(db)
    users = [create_user(db, enterprise=firm, email=f"u{i}@example.com") for i in range(30)]
    with clock.frozen(clock.utcnow()):
        statuses = [sign_in(attacker, u.email, "Summer2026 password!") for u in users]
        assert statuses[:20] == [401] * 20
        assert 429 in statuses[20:]
        refused = attacker.post(
            "/api/v1/session", json={"email": users[0].email, "password": PASSWORD}
        )
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["Retry-After"]) >= 1
        # Everyone else signs in as usual.
        assert sign_in(victim, users[0].email, PASSWORD) == 200


def test_an_attacker_cannot_lock_out_a_victim_signing_in_elsewhere(
    attacker: TestClient, victim: TestClient, db: Session
) -> None:
    user = create_user(db, enterprise=create_enterprise(db))
    with clock.frozen(clock.utcnow()) as time:
        for _ in range(12):
            sign_in(attacker, user.email, "wrong password guess")
            time.advance(timedelta(seconds=1))
        assert sign_in(attacker, user.email, PASSWORD) == 429  # even the right one
        assert sign_in(victim, user.email, PASSWORD) == 200


def test_backoff_doubles_and_then_lets_the_next_try_through(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user = create_user(db, enterprise=create_enterprise(db))
    with clock.frozen(clock.utcnow()) as time:
        for _ in range(settings.LOGIN_MAX_FAILURES):
            assert sign_in(client, user.email, "wrong password guess") == 401
        first = client.post("/api/v1/session", json={"email": user.email, "password": PASSWORD})
        assert first.status_code == 429
        assert first.headers["Retry-After"] == "1"
        time.advance(timedelta(seconds=1))
        assert sign_in(client, user.email, "wrong password guess") == 401  # the 6th failure
        second = client.post("/api/v1/session", json={"email": user.email, "password": PASSWORD})
        assert second.headers["Retry-After"] == "2"
        time.advance(timedelta(seconds=2))
        assert sign_in(client, user.email, PASSWORD) == 200  # no lock: the wait is over


def test_global_throttle_backs_off_everyone(
    attacker: TestClient,
    victim: TestClient,
    db: Session,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "LOGIN_GLOBAL_MAX_FAILURES", 3)
    user = create_user(db, enterprise=create_enterprise(db))
    with clock.frozen(clock.utcnow()):
        for i in range(3):
            sign_in(attacker, f"ghost{i}@example.com", "wrong password guess")
        assert sign_in(victim, user.email, PASSWORD) == 429


def test_unknown_emails_and_addresses_are_stored_as_keyed_hashes(
    client: TestClient, db: Session, settings: Settings
) -> None:
    sign_in(client, "ghost@example.com", "wrong password guess")
    db.rollback()
    [attempt] = db.scalars(select(AuthAttempt))
    assert "ghost" not in attempt.account and "testclient" not in attempt.client
    key = derive_key(settings.SECRET_KEY.get_secret_value(), "throttle")
    assert attempt.account == keyed_hash(key, "email:ghost@example.com")
    # A hash without the key does not match: the list cannot be tested against guesses.
    assert attempt.account != keyed_hash(b"", "email:ghost@example.com")


def test_reset_requests_are_throttled_per_address(
    attacker: TestClient, victim: TestClient, db: Session, settings: Settings
) -> None:
    def ask(client: TestClient, email: str) -> int:
        page = soup(client.get("/password/forgot", headers=HTML))
        return client.post(
            "/password/forgot",
            data={"csrf_token": hidden(page, "csrf_token"), "email": email},
            headers=HTML,
        ).status_code

    with clock.frozen(clock.utcnow()):
        statuses = [ask(attacker, f"p{i}@example.com") for i in range(25)]
        assert statuses[: settings.LOGIN_ADDRESS_MAX_FAILURES] == [200] * 20
        assert statuses[-1] == 429
        assert ask(victim, "p0@example.com") == 200


def test_claims_are_throttled_per_address(
    attacker: TestClient, db: Session, settings: Settings
) -> None:
    firm = create_enterprise(db)
    with clock.frozen(clock.utcnow()):
        statuses = []
        for i in range(settings.LOGIN_ADDRESS_MAX_FAILURES + 1):
            page = soup(attacker.get("/claim", headers=HTML))
            response = attacker.post(
                "/claim",
                data={
                    "csrf_token": hidden(page, "csrf_token"),
                    "credit_code": firm.credit_code,
                    "email": f"c{i}@example.com",
                    "display_name": "Chen",
                },
                headers=HTML,
            )
            statuses.append(response.status_code)
        assert statuses[:-1] == [200] * settings.LOGIN_ADDRESS_MAX_FAILURES
        assert statuses[-1] == 429
        assert int(response.headers["Retry-After"]) >= 1


def test_old_attempts_leave_the_window(client: TestClient, db: Session, settings: Settings) -> None:
    user = create_user(db, enterprise=create_enterprise(db))
    with clock.frozen(clock.utcnow()) as time:
        for _ in range(settings.LOGIN_MAX_FAILURES + 3):
            sign_in(client, user.email, "wrong password guess")
            time.advance(timedelta(seconds=10))
        time.advance(timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS))
        assert sign_in(client, user.email, PASSWORD) == 200


#: Attempts sent at once from one address: more than its free attempts.
BURST = 8


def _burst(app: FastAPI, send: Callable[[TestClient], int]) -> list[int]:
    """``send`` from BURST browsers at one address at once; their statuses, sorted."""
    browsers = [
        TestClient(app, base_url="http://testserver", client=ATTACKER) for _ in range(BURST)
    ]
    try:
        return sorted(at_once([lambda b=browser: send(b) for browser in browsers]))
    finally:
        for browser in browsers:
            browser.close()


def test_guesses_sent_at_once_get_no_more_than_the_free_attempts(
    app: FastAPI, db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every attempt read the count before any was recorded, so all of a burst went through
    (PostgreSQL; two app instances: 33 of 60 guesses instead of 5). Attempts from one address
    now take turns: the burst gets the free attempts, the rest wait (429)."""
    user = create_user(db, enterprise=create_enterprise(db))
    meet_after(monkeypatch, AttemptRepository, "recent", BURST)
    statuses = _burst(app, lambda b: sign_in(b, user.email, "wrong password guess"))
    free = settings.LOGIN_MAX_FAILURES
    assert statuses == [401] * free + [429] * (BURST - free)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(AuthAttempt)) == free


def test_reset_requests_sent_at_once_mail_no_more_than_the_free_attempts(
    app: FastAPI, db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = create_user(db, enterprise=create_enterprise(db))

    def ask(browser: TestClient) -> int:
        page = soup(browser.get("/password/forgot", headers=HTML))
        return browser.post(
            "/password/forgot",
            data={"csrf_token": hidden(page, "csrf_token"), "email": user.email},
            headers=HTML,
        ).status_code

    meet_after(monkeypatch, AttemptRepository, "recent", BURST)
    statuses = _burst(app, ask)
    free = settings.LOGIN_MAX_FAILURES
    assert statuses == [200] * free + [429] * (BURST - free)
    db.rollback()
    mailed = (
        select(func.count()).select_from(MailMessage).where(MailMessage.to_address == user.email)
    )
    assert db.scalar(mailed) == free


def test_an_attempt_that_waited_for_its_turn_is_judged_when_it_has_it(
    app: FastAPI, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The time of an attempt was read before it waited for its turn: an attempt recorded
    meanwhile then lay in its future, so it was refused (429) although its address had free
    attempts left (a burst of reset requests got 4 of its 5 free ones under load)."""
    user = create_user(db, enterprise=create_enterprise(db))
    waiting = threading.Event()
    take_turn = AttemptRepository.take_turn
    calls = itertools.count()

    def slow_first(self: AttemptRepository, *args: Any, **kwargs: Any) -> Any:
        if next(calls) == 0:  # the first attempt is held up on its way to its turn
            waiting.set()
            time.sleep(0.5)
        return take_turn(self, *args, **kwargs)

    monkeypatch.setattr(AttemptRepository, "take_turn", slow_first)

    def later(browser: TestClient) -> int:
        assert waiting.wait(5)
        return sign_in(browser, user.email, "wrong password guess")

    browsers = [TestClient(app, base_url="http://testserver", client=ATTACKER) for _ in range(2)]
    try:
        statuses = at_once(
            [
                lambda: sign_in(browsers[0], user.email, "wrong password guess"),
                lambda: later(browsers[1]),
            ]
        )
    finally:
        for browser in browsers:
            browser.close()
    assert statuses == [401, 401]
