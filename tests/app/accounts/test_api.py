from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.accounts.repository import UserRepository
from app.auth.security import sha256_hex
from app.kit import clock
from app.kit.clock import utcnow
from app.kit.db import Database
from app.kit.settings import Settings
from app.mail.worker import MailWorker
from app.models import AuditEvent, User, WebSession
from tests.factories import PASSWORD, create_enterprise, create_user, enterprise_payload, login
from tests.mailbox import outbox, smtp_server
from tests.races import at_once, meet_after


def login_status(client: TestClient, email: str, password: str) -> int:
    return client.post("/api/v1/session", json={"email": email, "password": password}).status_code


def _register(client: TestClient, email: str = "boss@example.com") -> dict[str, object]:
    response = client.post(
        "/api/v1/accounts/register",
        json={
            "enterprise": enterprise_payload(),
            "user": {"email": email, "password": "long enough password"},
        },
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


class TestRegistrationEnumeration:
    def test_a_taken_email_answers_as_a_new_one_and_its_owner_is_mailed(
        self, client: TestClient, db: Session, settings: Settings
    ) -> None:
        owner = create_user(db, enterprise=create_enterprise(db), email="taken@example.com")
        answers = []
        for email in ("fresh@example.com", "taken@example.com"):
            response = client.post(
                "/api/v1/accounts/register",
                json={
                    "enterprise": enterprise_payload(),
                    "user": {"email": email, "password": "long enough password"},
                },
            )
            answers.append((response.status_code, response.json()))
        (new_status, new_body), (taken_status, taken_body) = answers
        assert new_status == taken_status == 202
        assert new_body.keys() == taken_body.keys()
        assert new_body["detail"] == taken_body["detail"]
        # Nothing was created for the taken address: its password is the owner's still.
        assert login_status(client, "taken@example.com", "long enough password") == 401
        assert login_status(client, "fresh@example.com", "long enough password") == 200
        db.rollback()
        assert db.scalar(select(User.password_hash).where(User.id == owner.id)) == (
            owner.password_hash
        )
        # The owner is told, through the outbox, over SMTP.
        [queued] = outbox(db, "taken@example.com")
        assert queued.kind == "registration_account_exists"
        with smtp_server() as mailbox:
            smtp = settings.model_copy(
                update={"SMTP_HOST": mailbox.host, "SMTP_PORT": mailbox.port, "SMTP_TLS": "none"}
            )
            database = Database(smtp)
            try:
                MailWorker(database, smtp).run_once()
            finally:
                database.dispose()
            [received] = mailbox.wait_for("taken@example.com")
        assert received.subject == "有人尝试用您的邮箱注册"
        assert received.link("/password/forgot").endswith("/password/forgot")


class TestLogin:
    def test_sets_httponly_lax_cookie_and_returns_csrf(self, client: TestClient) -> None:
        _register(client)
        response = client.post(
            "/api/v1/session",
            json={"email": "BOSS@example.com", "password": "long enough password"},
        )
        assert response.status_code == 200
        cookie = response.headers["set-cookie"]
        assert "zhizao_session=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Secure" not in cookie  # plain http in tests; https sets it
        assert response.json()["csrf_token"]
        assert client.get("/api/v1/me").json()["email"] == "boss@example.com"

    def test_stores_only_the_token_hash(self, client: TestClient, db: Session) -> None:
        _register(client)
        client.post(
            "/api/v1/session",
            json={"email": "boss@example.com", "password": "long enough password"},
        )
        token = client.cookies["zhizao_session"]
        hashes = list(db.scalars(select(WebSession.token_hash)))
        assert hashes == [sha256_hex(token)]

    def test_new_session_id_at_login(self, client: TestClient, db: Session) -> None:
        user = create_user(db, enterprise=create_enterprise(db))
        login(client, user)
        first = client.cookies["zhizao_session"]
        login(client, user)
        second = client.cookies["zhizao_session"]
        assert first != second
        # The old session is gone, not merely superseded.
        assert (
            db.scalar(select(WebSession).where(WebSession.token_hash == sha256_hex(first))) is None
        )

    def test_wrong_password_is_401(self, client: TestClient, db: Session) -> None:
        user = create_user(db, enterprise=create_enterprise(db))
        response = client.post("/api/v1/session", json={"email": user.email, "password": "nope"})
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"

    def test_unknown_email_is_401(self, client: TestClient) -> None:
        response = client.post(
            "/api/v1/session", json={"email": "ghost@example.com", "password": "whatever"}
        )
        assert response.status_code == 401

    def test_throttled_after_repeated_failures_even_with_right_password(
        self, client: TestClient, db: Session
    ) -> None:
        user = create_user(db, enterprise=create_enterprise(db))
        with clock.frozen(utcnow()):
            for _ in range(5):
                assert (
                    client.post(
                        "/api/v1/session", json={"email": user.email, "password": "wrong"}
                    ).status_code
                    == 401
                )
            response = client.post(
                "/api/v1/session", json={"email": user.email, "password": PASSWORD}
            )
            assert response.status_code == 429
            assert int(response.headers["Retry-After"]) > 0
            # Another account is not affected.
            other = create_user(db, enterprise=create_enterprise(db))
            assert (
                client.post(
                    "/api/v1/session", json={"email": other.email, "password": PASSWORD}
                ).status_code
                == 200
            )

    def test_login_is_audited(self, client: TestClient, db: Session) -> None:
        user = create_user(db, enterprise=create_enterprise(db))
        login(client, user)
        actions = list(
            db.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == str(user.id)))
        )
        assert "session.login" in actions


class TestSession:
    def test_logout_ends_the_session(self, client: TestClient, db: Session) -> None:
        login(client, create_user(db, enterprise=create_enterprise(db)))
        token = client.cookies["zhizao_session"]
        assert client.delete("/api/v1/session").status_code == 204
        client.cookies.set("zhizao_session", token)  # a stolen cookie replayed after logout
        assert client.get("/api/v1/me").status_code == 401

    def test_idle_session_expires(self, client: TestClient, db: Session) -> None:
        login(client, create_user(db, enterprise=create_enterprise(db)))
        db.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(hours=2)))
        db.commit()
        assert client.get("/api/v1/me").status_code == 401
        assert db.scalar(select(WebSession)) is None

    def test_absolute_lifetime_ends_an_active_session(
        self, client: TestClient, db: Session
    ) -> None:
        login(client, create_user(db, enterprise=create_enterprise(db)))
        db.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
        assert client.get("/api/v1/me").status_code == 401


class TestCsrf:
    def test_cookie_write_without_token_is_refused(self, client: TestClient, db: Session) -> None:
        login(client, create_user(db, enterprise=create_enterprise(db)))
        del client.headers["X-CSRF-Token"]
        response = client.delete("/api/v1/session")
        assert response.status_code == 403
        assert response.json()["type"].endswith("csrf-failed")
        assert client.get("/api/v1/me").status_code == 200  # still signed in

    def test_wrong_token_is_refused(self, client: TestClient, db: Session) -> None:
        login(client, create_user(db, enterprise=create_enterprise(db)))
        client.headers["X-CSRF-Token"] = "forged"
        assert client.delete("/api/v1/session").status_code == 403


@pytest.mark.parametrize("same", ["email", "credit_code"])
def test_two_registrations_of_one_address_or_firm_at_once_are_answered_as_one_after_the_other(
    app: FastAPI, client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch, same: str
) -> None:
    """Both passed the checks and the later insert broke the unique rule: a 500 (PostgreSQL;
    found by fuzzing). Now the later one is checked again and answered as if it came second:
    202 as for a taken address (its owner mailed), or the credit code's 409."""
    meet_after(monkeypatch, UserRepository, "get_by_email", 2)
    firm = enterprise_payload()
    bodies = [
        {
            "enterprise": firm if same == "credit_code" else enterprise_payload(),
            "user": {
                "email": "race@example.com" if same == "email" else f"race{n}@example.com",
                "password": "long enough password",
            },
        }
        for n in range(2)
    ]
    browsers = [TestClient(app, base_url="http://testserver") for _ in bodies]
    try:
        statuses = at_once(
            [
                lambda b=browser, body=body: b.post("/api/v1/accounts/register", json=body)
                for browser, body in zip(browsers, bodies, strict=True)
            ]
        )
    finally:
        for browser in browsers:
            browser.close()
    codes = sorted(response.status_code for response in statuses)
    assert codes == ([202, 202] if same == "email" else [202, 409]), [r.text for r in statuses]
    db.rollback()
    emails = [b["user"]["email"] for b in bodies]
    assert db.scalar(select(func.count()).select_from(User).where(User.email.in_(emails))) == 1
