"""Colleagues: the owner invites by e-mail, the invitee signs up from the link (single-use,
expiring, stored hashed), the owner removes members (they lose access at once)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import members
from app.accounts.repository import InvitationRepository
from app.auth.security import sha256_hex
from app.kit import clock
from app.kit.errors import Conflict
from app.kit.principal import CLI
from app.kit.settings import Settings
from app.models import AuditEvent, Enterprise, Invitation, User
from tests.factories import (
    PASSWORD,
    create_api_key,
    create_enterprise,
    create_user,
    enterprise_payload,
)
from tests.mailbox import outbox, outbox_link
from tests.pages import HTML, hidden, sign_in, soup
from tests.races import at_once, meet_after


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


# --- races: a single-use link is used once, whoever sends it at the same moment ------------------

CONSENT = {"given_by": "张经理", "given_at": "2026-11-20T09:00:00+08:00", "method": "signed_form"}


def browsers(app: FastAPI, count: int) -> Iterator[list[TestClient]]:
    clients = [TestClient(app, base_url="http://testserver") for _ in range(count)]
    yield clients
    for browser in clients:
        browser.close()


@pytest.fixture
def three_browsers(app: FastAPI) -> Iterator[list[TestClient]]:
    yield from browsers(app, 3)


def filled_form(browser: TestClient, link: str, email: str) -> dict[str, str]:
    """The invitation form as a browser sends it (its pre-session CSRF token, its own person)."""
    page = soup(browser.get(path_of(link), headers=HTML))
    return {
        "csrf_token": hidden(page, "csrf_token"),
        "email": email,
        "display_name": email.split("@")[0],
        "password": PASSWORD,
        "password_again": PASSWORD,
    }


def send_form(browser: TestClient, link: str, form: dict[str, str]) -> Response:
    return browser.post(path_of(link), data=form, headers=HTML, follow_redirects=False)


def test_an_owner_link_sent_by_three_people_at_once_makes_one_owner(
    client: TestClient,
    three_browsers: list[TestClient],
    db: Session,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key, _ = create_api_key(db, settings)
    headers = {"Authorization": f"Bearer {key}"}
    firm = client.post(
        "/api/v1/enterprises", json={**enterprise_payload(), "consent": CONSENT}, headers=headers
    ).json()
    link = client.post(
        f"/api/v1/enterprises/{firm['id']}/owner-invitation", headers=headers
    ).json()["url"]
    emails = [f"boss{i}@example.com" for i in range(3)]
    forms = [filled_form(b, link, e) for b, e in zip(three_browsers, emails, strict=True)]
    # Each request reads the link as open before any of them writes.
    meet_after(monkeypatch, InvitationRepository, "by_token_hash", 3)

    responses = at_once(
        partial(send_form, b, link, f) for b, f in zip(three_browsers, forms, strict=True)
    )

    assert sorted(r.status_code for r in responses) == [303, 404, 404]
    db.rollback()
    people = list(db.scalars(select(User).where(User.enterprise_id == uuid.UUID(firm["id"]))))
    assert [p.firm_role for p in people] == ["owner"]  # nobody else, not even half-made
    [winner] = [e for e, r in zip(emails, responses, strict=True) if r.status_code == 303]
    assert people[0].email == winner
    for response in responses:
        if response.status_code == 404:  # what a used link answers
            assert soup(response).select_one("form input[name=password]") is None
    accepted = list(db.scalars(select(AuditEvent).where(AuditEvent.action == "invitation.accept")))
    assert len(accepted) == 1


def test_a_colleague_link_sent_twice_at_once_is_used_once(
    client: TestClient,
    three_browsers: list[TestClient],
    db: Session,
    firm: Enterprise,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    invite(client, "li@example.com")
    link = outbox_link(db, "li@example.com", "/invitations/")
    first, second = three_browsers[:2]
    forms = [filled_form(b, link, "li@example.com") for b in (first, second)]
    meet_after(monkeypatch, InvitationRepository, "by_token_hash", 2)

    responses = at_once(
        partial(send_form, b, link, f) for b, f in zip((first, second), forms, strict=True)
    )

    assert sorted(r.status_code for r in responses) == [303, 404]
    db.rollback()
    assert len(list(db.scalars(select(User).where(User.email == "li@example.com")))) == 1


def test_two_owner_links_used_at_once_make_one_owner(
    app: FastAPI,
    three_browsers: list[TestClient],
    db: Session,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An integrator's owner link and an approved claimant's owner link to the same firm without
    an owner: whoever is second joins the owner who appeared meanwhile (the claimant as a
    member), or is told the firm has its owner; never two owners."""
    enterprise = create_enterprise(db)
    handed_over = members.issue_invitation(
        db, CLI, settings, enterprise.id, email=None, firm_role="owner"
    )
    approved = members.issue_invitation(
        db, CLI, settings, enterprise.id, email="liu@example.com", firm_role="owner"
    )
    db.commit()
    first, second = three_browsers[:2]
    forms = [
        filled_form(first, handed_over.url, "boss@example.com"),
        filled_form(second, approved.url, "liu@example.com"),
    ]
    meet_after(monkeypatch, InvitationRepository, "by_token_hash", 2)

    responses = at_once(
        [
            partial(send_form, first, handed_over.url, forms[0]),
            partial(send_form, second, approved.url, forms[1]),
        ]
    )

    assert {r.status_code for r in responses} <= {303, 422}
    db.rollback()
    roles = sorted(
        str(u.firm_role)
        for u in db.scalars(select(User).where(User.enterprise_id == enterprise.id))
    )
    assert roles in (["member", "owner"], ["owner"])
