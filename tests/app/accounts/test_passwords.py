"""Passwords: every user changes their own (other sessions end); "forgot password" mails a
single-use, expiring link stored hashed, and answers alike whether the address has an account."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.repository import PasswordResetRepository
from app.auth.security import sha256_hex
from app.kit import clock
from app.kit.settings import Settings
from app.models import AuditEvent, PasswordReset, User
from tests.factories import PASSWORD, create_enterprise, create_user
from tests.mailbox import outbox, outbox_link
from tests.pages import HTML, hidden, sign_in, soup
from tests.races import at_once, meet_after

NEW_PASSWORD = "a new and longer secret"


def ask_reset(client: TestClient, email: str) -> str:
    page = soup(client.get("/password/forgot", headers=HTML))
    response = client.post(
        "/password/forgot",
        data={"csrf_token": hidden(page, "csrf_token"), "email": email},
        headers=HTML,
    )
    assert response.status_code == 200
    return response.text


def reset(client: TestClient, link: str, password: str = NEW_PASSWORD) -> int:
    path = urlsplit(link).path
    shown = client.get(path, headers=HTML)
    token = soup(shown).select_one("input[name=csrf_token]")
    if token is None:  # no form: the link is not valid any more
        return shown.status_code
    response = client.post(
        path,
        data={
            "csrf_token": str(token["value"]),
            "password": password,
            "password_again": password,
        },
        headers=HTML,
        follow_redirects=False,
    )
    return response.status_code


def sign_in_status(client: TestClient, email: str, password: str) -> int:
    response = client.post("/api/v1/session", json={"email": email, "password": password})
    return response.status_code


def test_forgot_password_mails_a_link_that_works_once(
    client: TestClient, other: TestClient, db: Session
) -> None:
    user = create_user(db, enterprise=create_enterprise(db), email="wang@example.com")
    sign_in(other, user)  # a session opened before the reset
    known = ask_reset(client, "wang@example.com")
    unknown = ask_reset(client, "nobody@example.com")
    # The same answer whether or not the address has an account.
    assert soup_text(known).replace("wang", "X") == soup_text(unknown).replace("nobody", "X")
    assert outbox(db, "nobody@example.com") == []
    [message] = outbox(db, "wang@example.com")
    assert message.secret
    link = outbox_link(db, "wang@example.com", "/password/reset/")
    stored = db.scalar(select(PasswordReset))
    assert stored is not None and stored.token_hash == sha256_hex(link.rsplit("/", 1)[1])

    assert reset(client, link) == 303
    assert sign_in_status(client, "wang@example.com", PASSWORD) == 401
    assert sign_in_status(client, "wang@example.com", NEW_PASSWORD) == 200
    # Every session of the account ended; the link is used up.
    assert other.get("/api/v1/me").status_code == 401
    assert reset(client, link, "yet another password") == 404
    assert sign_in_status(client, "wang@example.com", NEW_PASSWORD) == 200
    db.rollback()
    assert {"password.reset_request", "password.reset"} <= set(
        db.scalars(select(AuditEvent.action))
    )


def soup_text(html: str) -> str:
    main = BeautifulSoup(html, "html.parser").select_one("main")
    assert main is not None
    return main.get_text(" ", strip=True)


def test_a_reset_link_expires_and_a_newer_one_replaces_it(client: TestClient, db: Session) -> None:
    create_user(db, enterprise=create_enterprise(db), email="li@example.com")
    ask_reset(client, "li@example.com")
    first = outbox_link(db, "li@example.com", "/password/reset/")
    ask_reset(client, "li@example.com")
    second = outbox_link(db, "li@example.com", "/password/reset/")
    assert reset(client, first) == 404
    with clock.frozen(clock.utcnow() + timedelta(minutes=61)):
        assert reset(client, second) == 404
    assert sign_in_status(client, "li@example.com", PASSWORD) == 200


def test_a_too_short_new_password_is_refused_and_the_link_stays(
    client: TestClient, db: Session
) -> None:
    create_user(db, enterprise=create_enterprise(db), email="zhao@example.com")
    ask_reset(client, "zhao@example.com")
    link = outbox_link(db, "zhao@example.com", "/password/reset/")
    assert reset(client, link, "short") == 422
    assert reset(client, link) == 303


def test_change_password_needs_the_current_one_and_ends_other_sessions(
    client: TestClient, other: TestClient, db: Session
) -> None:
    user = create_user(db, role="official", district_code="310115", email="chen@example.com")
    sign_in(client, user)
    sign_in(other, user)
    page = soup(client.get("/account", headers=HTML))
    form = page.select_one("form[action='/account/password']")
    csrf = hidden(form, "csrf_token")
    wrong = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": "not it at all",
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
        headers=HTML,
    )
    assert wrong.status_code == 422
    assert soup(wrong).select_one("#err-current_password") is not None
    changed = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
        headers=HTML,
    )
    assert changed.status_code == 200 and soup(changed).select_one(".flash") is not None
    assert client.get("/api/v1/me").status_code == 200  # this session stays
    assert other.get("/api/v1/me").status_code == 401  # the other one ended
    assert sign_in_status(other, "chen@example.com", NEW_PASSWORD) == 200


def test_guessing_the_current_password_is_throttled_like_signing_in(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """A stolen session cookie let one guess the current password on the account page without
    end (each guess only cost an Argon2 hash). Wrong guesses now count as failed sign-ins of
    the account from that address."""
    user = create_user(db, enterprise=create_enterprise(db), email="wu@example.com")
    sign_in(client, user)
    csrf = hidden(
        soup(client.get("/account", headers=HTML)).select_one("form[action='/account/password']"),
        "csrf_token",
    )

    def change(current: str) -> Response:
        return client.post(
            "/account/password",
            data={
                "csrf_token": csrf,
                "current_password": current,
                "password": NEW_PASSWORD,
                "password_again": NEW_PASSWORD,
            },
            headers=HTML,
        )

    with clock.frozen(clock.utcnow()):
        guesses = [change(f"guess number {i}").status_code for i in range(8)]
        assert guesses[: settings.LOGIN_MAX_FAILURES] == [422] * settings.LOGIN_MAX_FAILURES
        refused = change(PASSWORD)  # even the right one, until the wait is over
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert soup(refused).select_one("#err-current_password") is not None
        # The same budget as the sign-in form's, from this address.
        assert sign_in_status(client, "wu@example.com", PASSWORD) == 429
    assert guesses[settings.LOGIN_MAX_FAILURES :] == [429] * (8 - settings.LOGIN_MAX_FAILURES)
    db.rollback()
    assert db.get(User, user.id).password_hash == user.password_hash  # type: ignore[union-attr]


def test_a_reset_link_sent_twice_at_once_is_used_once(
    client: TestClient, other: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_user(db, enterprise=create_enterprise(db), email="sun@example.com")
    ask_reset(client, "sun@example.com")
    path = urlsplit(outbox_link(db, "sun@example.com", "/password/reset/")).path
    passwords = ["the first new passphrase", "a second different passphrase"]
    forms = [
        {
            "csrf_token": hidden(soup(browser.get(path, headers=HTML)), "csrf_token"),
            "password": password,
            "password_again": password,
        }
        for browser, password in zip((client, other), passwords, strict=True)
    ]
    # Each request reads the link as unused before either writes.
    meet_after(monkeypatch, PasswordResetRepository, "by_token_hash", 2)

    responses = at_once(
        partial(browser.post, path, data=form, headers=HTML, follow_redirects=False)
        for browser, form in zip((client, other), forms, strict=True)
    )

    assert sorted(r.status_code for r in responses) == [303, 404]
    [winner] = [p for p, r in zip(passwords, responses, strict=True) if r.status_code == 303]
    [loser] = [p for p in passwords if p != winner]
    assert sign_in_status(client, "sun@example.com", winner) == 200
    assert sign_in_status(client, "sun@example.com", loser) == 401
    db.rollback()
    resets = db.scalars(select(AuditEvent).where(AuditEvent.action == "password.reset"))
    assert len(list(resets)) == 1


def test_a_reset_request_is_answered_by_a_page_a_reload_sends_nothing_from(
    client: TestClient, db: Session
) -> None:
    """The request's answer was the POST's own page: reloading it sent the form again (a second
    mail, then a throttled one). Now a 303 to a page of its own, whose address names no one."""
    create_user(db, enterprise=create_enterprise(db), email="zhao@example.com")
    page = soup(client.get("/password/forgot", headers=HTML))
    response = client.post(
        "/password/forgot",
        data={"csrf_token": hidden(page, "csrf_token"), "email": "zhao@example.com"},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/password/forgot/sent"
    for _ in range(2):  # shown, then reloaded
        shown = client.get(response.headers["location"], headers=HTML)
        assert shown.status_code == 200
        assert soup(shown).select_one("#reset-sent") is not None
        assert "zhao" not in shown.text
    assert len(outbox(db, "zhao@example.com")) == 1
