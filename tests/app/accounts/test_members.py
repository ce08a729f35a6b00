"""Colleagues: the owner invites by e-mail, the invitee signs up from the link (single-use,
expiring, stored hashed), the owner removes members (they lose access at once)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import members
from app.auth.security import sha256_hex
from app.kit import clock
from app.kit.errors import Conflict
from app.kit.principal import CLI
from app.models import AuditEvent, Enterprise, Invitation, User
from tests.factories import PASSWORD, create_enterprise, create_user
from tests.mailbox import outbox, outbox_link
from tests.pages import HTML, hidden, sign_in, soup


def invite(client: TestClient, email: str) -> Response:
    page = soup(client.get("/settings/members", headers=HTML))
    form = page.select_one("form[action='/settings/members/invite']")
    assert form is not None, "the owner sees the invitation form"
    return client.post(
        "/settings/members/invite",
        data={"csrf_token": hidden(form, "csrf_token"), "email": email},
        headers=HTML,
    )


def path_of(link: str) -> str:
    return urlsplit(link).path


def accept(browser: TestClient, link: str, **fields: str) -> Response:
    path = path_of(link)
    page = soup(browser.get(path, headers=HTML))
    data = {
        "csrf_token": hidden(page, "csrf_token"),
        "display_name": "李工",
        "password": PASSWORD,
        "password_again": PASSWORD,
        **fields,
    }
    return browser.post(path, data=data, headers=HTML, follow_redirects=False)


@pytest.fixture
def firm(client: TestClient, db: Session) -> Enterprise:
    enterprise = create_enterprise(db)
    sign_in(client, create_user(db, enterprise=enterprise, email="owner@example.com"))
    return enterprise


def test_invited_colleague_signs_up_from_the_mail_once(
    client: TestClient, other: TestClient, db: Session, firm: Enterprise
) -> None:
    response = invite(client, "li@example.com")
    assert "邀请已发送" in soup(response).select_one(".flash").get_text()
    [message] = outbox(db, "li@example.com")
    assert message.secret and firm.name in message.subject
    link = outbox_link(db, "li@example.com", "/invitations/")
    token = link.rsplit("/", 1)[1]
    # Only the token's hash is stored.
    stored = db.scalar(select(Invitation))
    assert (
        stored is not None
        and stored.token_hash == sha256_hex(token)
        and token not in str(stored.token_hash)
    )

    signed_up = accept(other, link)
    assert signed_up.status_code == 303 and signed_up.headers["location"] == "/dashboard"
    db.rollback()  # a fresh snapshot: the request committed in its own session
    user = db.scalar(select(User).where(User.email == "li@example.com"))
    assert user is not None and user.enterprise_id == firm.id and user.firm_role == "member"
    assert firm.name in other.get("/dashboard", headers=HTML).text
    # Used up: the link answers that it is no longer valid.
    assert client.get(path_of(link), headers=HTML).status_code == 404
    actions = set(db.scalars(select(AuditEvent.action)))
    assert {"invitation.create", "invitation.accept"} <= actions


def test_an_expired_invitation_cannot_be_used(
    client: TestClient, other: TestClient, db: Session, firm: Enterprise
) -> None:
    invite(client, "late@example.com")
    link = outbox_link(db, "late@example.com", "/invitations/")
    with clock.frozen(clock.utcnow() + timedelta(hours=169)):
        assert other.get(path_of(link), headers=HTML).status_code == 404
    assert db.scalar(select(User).where(User.email == "late@example.com")) is None


def test_a_newer_invitation_withdraws_the_older(
    client: TestClient, other: TestClient, db: Session, firm: Enterprise
) -> None:
    invite(client, "twice@example.com")
    first = outbox_link(db, "twice@example.com", "/invitations/")
    invite(client, "twice@example.com")
    second = outbox_link(db, "twice@example.com", "/invitations/")
    assert first != second
    assert other.get(path_of(first), headers=HTML).status_code == 404
    assert accept(other, second).status_code == 303


def test_a_member_may_not_invite_or_remove(
    client: TestClient, other: TestClient, db: Session, firm: Enterprise
) -> None:
    member = create_user(db, enterprise=firm, firm_role="member")
    csrf = sign_in(other, member)
    page = soup(other.get("/settings/members", headers=HTML))
    assert page.select_one("form[action='/settings/members/invite']") is None
    response = other.post(
        "/settings/members/invite",
        data={"csrf_token": csrf, "email": "x@example.com"},
        headers=HTML,
    )
    assert response.status_code == 404
    assert outbox(db, "x@example.com") == []


def test_a_removed_member_loses_access_at_once(
    client: TestClient, other: TestClient, db: Session, firm: Enterprise
) -> None:
    member = create_user(db, enterprise=firm, firm_role="member")
    member_id = member.id
    sign_in(other, member)
    assert other.get("/dashboard", headers=HTML).status_code == 200
    page = soup(client.get("/settings/members", headers=HTML))
    form = page.select_one(f"form[action='/settings/members/{member_id}/remove']")
    response = client.post(form["action"], data={"csrf_token": hidden(form, "csrf_token")})
    assert response.status_code == 200
    # The member's very next request is anonymous.
    assert other.get("/dashboard", headers=HTML, follow_redirects=False).status_code == 303
    assert other.get("/api/v1/me").status_code == 401
    db.rollback()
    db.expire_all()
    assert db.get(User, member_id) is None
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "member.remove"))


def test_the_last_owner_cannot_be_removed(db: Session, firm: Enterprise) -> None:
    owner = db.scalar(select(User).where(User.email == "owner@example.com"))
    assert owner is not None
    with pytest.raises(Conflict):
        members.remove_member(db, CLI, firm.id, owner.id)
