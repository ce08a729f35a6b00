"""Claiming a registered firm: the request reaches the owners, the admins and the firm's
district official; only they may decide; approval makes the claimant a member through a
single-use link, refusal tells them why; an integrator's firm gets its owner from a link."""

from __future__ import annotations

from functools import partial
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.repository import ClaimRepository
from app.kit.settings import Settings
from app.models import AccessClaim, AuditEvent, Enterprise, User
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

CONSENT = {"given_by": "张经理", "given_at": "2026-11-20T09:00:00+08:00", "method": "signed_form"}


def file_claim(client: TestClient, credit_code: str, email: str) -> Response:
    page = soup(client.get(f"/claim?credit_code={credit_code}", headers=HTML))
    return client.post(
        "/claim",
        data={
            "csrf_token": hidden(page, "csrf_token"),
            "credit_code": credit_code,
            "display_name": "刘会计",
            "email": email,
            "message": "财务部主管，电话 021-5555 0199",
        },
        headers=HTML,
    )


def filed_before_the_owner(
    client: TestClient, other: TestClient, db: Session, firm: Enterprise
) -> AccessClaim:
    """A request to join ``firm`` filed in ``other``; the firm's owner signed in in ``client``."""
    file_claim(other, firm.credit_code, "liu@example.com")
    claim = db.scalar(select(AccessClaim))
    assert claim is not None
    owner = db.scalar(select(User).where(User.email == "owner@example.com"))
    assert owner is not None
    sign_in(client, owner)
    return claim


def decide(client: TestClient, claim_id: object, decision: str, reason: str = "") -> Response:
    page = soup(client.get(f"/claims/{claim_id}", headers=HTML))
    form = page.select_one(f"form[action='/claims/{claim_id}']")
    assert form is not None
    return client.post(
        f"/claims/{claim_id}",
        data={"csrf_token": hidden(form, "csrf_token"), "decision": decision, "reason": reason},
        headers=HTML,
    )


def sign_up(client: TestClient, link: str, email: str | None = None) -> Response:
    path = urlsplit(link).path
    page = soup(client.get(path, headers=HTML))
    data = {
        "csrf_token": hidden(page, "csrf_token"),
        "display_name": "刘会计",
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    if email is not None:
        data["email"] = email
    return client.post(path, data=data, headers=HTML, follow_redirects=False)


@pytest.fixture
def firm(db: Session) -> Enterprise:
    enterprise = create_enterprise(db, district_code="310115")
    create_user(db, enterprise=enterprise, email="owner@example.com")
    return enterprise


def register(client: TestClient, credit_code: str, lang: str = "zh") -> Response:
    """The registration form sent for a firm with ``credit_code`` (4,500 万元 of revenue)."""
    page = soup(client.get(f"/register?lang={lang}", headers=HTML))
    payload = {k: str(v) for k, v in enterprise_payload(credit_code=credit_code).items()}
    payload.pop("annual_revenue_cny")
    return client.post(
        f"/register?lang={lang}",
        data={
            **payload,
            "annual_revenue_wan": "4500",
            "csrf_token": hidden(page, "csrf_token"),
            "email": "new@example.com",
            "password": PASSWORD,
        },
        headers=HTML,
    )


def test_the_registration_page_points_a_taken_firm_to_the_claim(
    client: TestClient, firm: Enterprise
) -> None:
    response = register(client, firm.credit_code)
    assert response.status_code == 409
    link = soup(response).select_one("#claim-next a")
    assert link is not None and link["href"] == f"/claim?credit_code={firm.credit_code}"


def test_a_claim_reaches_the_deciders_and_the_owner_approves(
    client: TestClient, other: TestClient, db: Session, firm: Enterprise
) -> None:
    create_user(db, role="admin", email="admin@example.com")
    create_user(db, role="official", district_code="310115", email="pudong@example.com")
    create_user(db, role="official", district_code="310104", email="xuhui@example.com")
    create_user(db, role="official", email="city@example.com")
    response = file_claim(other, firm.credit_code, "liu@example.com")
    assert response.status_code == 200 and soup(response).select_one("#claim-sent") is not None
    for told in ("owner@example.com", "admin@example.com", "pudong@example.com"):
        assert len(outbox(db, told)) == 1, told
    for untold in ("xuhui@example.com", "city@example.com"):
        assert outbox(db, untold) == [], untold
    assert outbox(db, "liu@example.com")[0].kind == "claim_filed"
    claim = db.scalar(select(AccessClaim))
    assert claim is not None and claim.status == "pending"

    owner = db.scalar(select(User).where(User.email == "owner@example.com"))
    assert owner is not None
    sign_in(client, owner)
    members_page = soup(client.get("/settings/members", headers=HTML))
    assert "刘会计" in members_page.select_one("#claims").get_text()  # type: ignore[union-attr]
    approved = decide(client, claim.id, "approve")
    assert approved.status_code == 200
    link = outbox_link(db, "liu@example.com", "/invitations/")
    signed_up = sign_up(other, link)
    assert signed_up.status_code == 303 and signed_up.headers["location"] == "/dashboard"
    db.rollback()
    member = db.scalar(select(User).where(User.email == "liu@example.com"))
    assert member is not None and member.enterprise_id == firm.id and member.firm_role == "member"
    assert {"claim.create", "claim.approve", "invitation.accept"} <= set(
        db.scalars(select(AuditEvent.action))
    )
    # Decided once: a second decision is refused.
    assert client.post(f"/claims/{claim.id}", data={"decision": "refuse"}).status_code in (403, 409)


def test_the_deciders_mail_says_the_claimants_words_after_a_label_in_its_language(
    other: TestClient, db: Session, firm: Enterprise
) -> None:
    """The Chinese mail read "申请人说明： 财务部主管…": the catalog's label ended in a full-width
    colon and the template wrote a space after it."""
    admin = create_user(db, role="admin", email="admin@example.com")
    admin.locale = "en"
    db.commit()
    file_claim(other, firm.credit_code, "liu@example.com")
    [zh] = outbox(db, "owner@example.com")
    [en] = outbox(db, "admin@example.com")
    assert "\n申请人说明：财务部主管，电话 021-5555 0199\n" in (zh.body or "")
    assert "\nIn their words: 财务部主管，电话 021-5555 0199\n" in (en.body or "")


def test_refusal_tells_the_claimant_why(
    client: TestClient, other: TestClient, db: Session, firm: Enterprise
) -> None:
    file_claim(other, firm.credit_code, "liu@example.com")
    claim = db.scalar(select(AccessClaim))
    assert claim is not None
    sign_in(client, create_user(db, role="official", district_code="310115"))
    assert decide(client, claim.id, "refuse").status_code == 422  # a reason is required
    assert decide(client, claim.id, "refuse", "本区没有此人的任职记录").status_code == 200
    refusal = outbox(db, "liu@example.com")[-1]
    assert refusal.kind == "claim_refused" and "本区没有此人的任职记录" in refusal.body
    assert "/invitations/" not in refusal.body


def test_only_the_owner_admins_and_the_district_official_decide(
    client: TestClient, other: TestClient, db: Session, firm: Enterprise
) -> None:
    file_claim(other, firm.credit_code, "liu@example.com")
    claim = db.scalar(select(AccessClaim))
    assert claim is not None
    for user in (
        create_user(db, enterprise=firm, firm_role="member"),
        create_user(db, enterprise=create_enterprise(db)),  # another firm's owner
        create_user(db, role="official", district_code="310104"),  # another district's
        create_user(db, role="official"),  # city-wide
    ):
        csrf = sign_in(client, user)
        assert client.get(f"/claims/{claim.id}", headers=HTML).status_code == 404
        response = client.post(
            f"/claims/{claim.id}", data={"csrf_token": csrf, "decision": "approve"}, headers=HTML
        )
        assert response.status_code == 404
    db.rollback()
    assert db.get(AccessClaim, claim.id).status == "pending"  # type: ignore[union-attr]
    assert outbox(db, "liu@example.com")[-1].kind == "claim_filed"


def test_a_claim_from_an_existing_account_is_not_filed_but_told_by_mail(
    other: TestClient, db: Session, firm: Enterprise
) -> None:
    create_user(db, enterprise=create_enterprise(db), email="taken@example.com")
    response = file_claim(other, firm.credit_code, "taken@example.com")
    # The page says the same as for a new address ...
    assert soup(response).select_one("#claim-sent") is not None
    # ... but nothing was filed; the address holder learns why.
    assert db.scalar(select(AccessClaim)) is None
    [notice] = outbox(db, "taken@example.com")
    assert notice.kind == "claim_account_exists"
    assert outbox(db, "owner@example.com") == []


def test_integrator_hands_over_a_link_that_makes_the_first_taker_owner(
    client: TestClient, other: TestClient, db: Session, settings: Settings
) -> None:
    key, _ = create_api_key(db, settings)
    other_key, _ = create_api_key(db, settings)
    headers = {"Authorization": f"Bearer {key}"}
    firm = client.post(
        "/api/v1/enterprises", json={**enterprise_payload(), "consent": CONSENT}, headers=headers
    ).json()
    url = f"/api/v1/enterprises/{firm['id']}/owner-invitation"
    # Another integrator has no business with this firm.
    assert client.post(url, headers={"Authorization": f"Bearer {other_key}"}).status_code == 404
    first = client.post(url, headers=headers)
    assert first.status_code == 201, first.text
    second = client.post(url, headers=headers).json()  # lost the first? a new one replaces it
    assert other.get(urlsplit(first.json()["url"]).path, headers=HTML).status_code == 404
    signed_up = sign_up(other, second["url"], email="boss@example.com")
    assert signed_up.status_code == 303
    db.rollback()
    owner = db.scalar(select(User).where(User.email == "boss@example.com"))
    assert owner is not None and owner.firm_role == "owner"
    # The owner sees the integrator's grant and may revoke it.
    settings_page = soup(other.get("/settings", headers=HTML))
    assert "Integrator Ltd" in settings_page.select_one("#integrators").get_text()  # type: ignore[union-attr]
    assert client.post(url, headers=headers).status_code == 409  # the firm has its owner
    assert sign_up(other, second["url"], email="late@example.com").status_code == 404


def test_two_deciders_at_once_decide_once(
    client: TestClient,
    other: TestClient,
    db: Session,
    firm: Enterprise,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    claim = filed_before_the_owner(client, other, db, firm)
    sign_in(other, create_user(db, role="official", district_code="310115"))
    forms = []
    for browser, decision in ((client, "approve"), (other, "refuse")):
        page = soup(browser.get(f"/claims/{claim.id}", headers=HTML))
        form = page.select_one(f"form[action='/claims/{claim.id}']")
        assert form is not None
        forms.append(
            {"csrf_token": hidden(form, "csrf_token"), "decision": decision, "reason": "不认识"}
        )
    # Each request reads the claim as pending before either decides.
    meet_after(monkeypatch, ClaimRepository, "get", 2)

    responses = at_once(
        partial(browser.post, f"/claims/{claim.id}", data=form, headers=HTML)
        for browser, form in zip((client, other), forms, strict=True)
    )

    assert sorted(r.status_code for r in responses) == [200, 409]
    db.rollback()
    db.expire_all()
    decided = db.get(AccessClaim, claim.id)
    assert decided is not None and decided.status in ("approved", "refused")
    told = [m.kind for m in outbox(db, "liu@example.com")]
    assert told[0] == "claim_filed"
    assert told[1:] == ["claim_approved" if decided.status == "approved" else "claim_refused"]


@pytest.mark.parametrize(
    ("lang", "said"), [("zh", "此申请已处理过"), ("en", "This request was decided already")]
)
def test_deciding_from_a_stale_tab_says_the_request_was_decided(
    client: TestClient, other: TestClient, db: Session, firm: Enterprise, lang: str, said: str
) -> None:
    """The second tab's decision answered the 409 page written for assessments ("已提交的评估
    保持不变…"); it shows the request as decided now, saying so."""
    claim = filed_before_the_owner(client, other, db, firm)
    stale = soup(client.get(f"/claims/{claim.id}?lang={lang}", headers=HTML))
    assert decide(client, claim.id, "refuse", "不认识此人").status_code == 200
    form = stale.select_one(f"form[action='/claims/{claim.id}']")
    assert form is not None
    response = client.post(
        f"/claims/{claim.id}?lang={lang}",
        data={"csrf_token": hidden(form, "csrf_token"), "decision": "approve"},
        headers=HTML,
    )
    assert response.status_code == 409
    page = soup(response)
    assert said in page.select_one(".alert-error").get_text()  # type: ignore[union-attr]
    assert "不认识此人" in page.select_one("main").get_text()  # the refusal stands, shown
    assert page.select("#approve") == []  # nothing left to decide
    assert "已提交的评估" not in page.get_text() and "submitted assessment" not in page.get_text()
    db.rollback()
    assert db.get(AccessClaim, claim.id).status == "refused"  # type: ignore[union-attr]
    assert [m.kind for m in outbox(db, "liu@example.com")] == ["claim_filed", "claim_refused"]


def test_a_waiting_request_is_listed_once_and_a_decided_one_under_recent_requests(
    client: TestClient, other: TestClient, db: Session, firm: Enterprise
) -> None:
    """Under "Recent requests" every request was listed, the waiting ones too: each waiting
    request was on /claims twice, each time with its own "Decide" button."""
    file_claim(other, firm.credit_code, "liu@example.com")
    file_claim(other, firm.credit_code, "zhao@example.com")
    refused = db.scalar(select(AccessClaim).where(AccessClaim.email == "zhao@example.com"))
    assert refused is not None
    for decider in (
        create_user(db, role="official", district_code="310115"),
        create_user(db, role="admin"),
    ):
        sign_in(client, decider)
        if decider.role == "official":
            assert decide(client, refused.id, "refuse", "不认识此人").status_code == 200
        page = soup(client.get("/claims", headers=HTML))
        rows = page.select("tbody tr")
        waiting = [r for r in rows if "liu@example.com" in r.get_text()]
        decided = [r for r in rows if "zhao@example.com" in r.get_text()]
        assert len(waiting) == 1 and len(decided) == 1, decider.role
        assert len(page.select("a[href^='/claims/']")) == 1  # one "Decide", the waiting one's
        recent = page.find("h2", string="最近的申请")
        assert recent is not None
        assert decided[0] in recent.find_next("table").select("tbody tr")  # type: ignore[union-attr]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_mistyped_credit_code_is_said_to_be_invalid_as_on_registration(
    client: TestClient, db: Session, firm: Enterprise, lang: str
) -> None:
    """/claim did not check the check character: a typo was "not registered: register it
    instead", while /register refused the same code as not valid."""
    last = firm.credit_code[-1]
    typo = firm.credit_code[:-1] + ("1" if last != "1" else "2")
    form = soup(client.get(f"/claim?lang={lang}", headers=HTML))
    claimed = client.post(
        f"/claim?lang={lang}",
        data={
            "csrf_token": hidden(form, "csrf_token"),
            "credit_code": typo,
            "display_name": "刘会计",
            "email": "liu@example.com",
        },
        headers=HTML,
    )
    assert claimed.status_code == 422
    said = soup(claimed).select_one("#err-credit_code").get_text(strip=True)  # type: ignore[union-attr]
    registered = register(client, typo, lang)
    assert registered.status_code == 422
    expected = soup(registered).select_one("#err-credit_code").get_text(strip=True)  # type: ignore[union-attr]
    assert said == expected and ("校验位" in said or "check digit" in said)
    assert db.scalar(select(AccessClaim)) is None


def test_a_claim_is_answered_by_a_page_a_reload_sends_nothing_from(
    other: TestClient, db: Session, firm: Enterprise
) -> None:
    """The request's answer was the POST's own page: reloading it filed it again (mails to the
    claimant, then a throttled refusal). Now a 303 to a page whose address names nothing sent."""
    page = soup(other.get("/claim", headers=HTML))
    response = other.post(
        "/claim",
        data={
            "csrf_token": hidden(page, "csrf_token"),
            "credit_code": firm.credit_code,
            "display_name": "刘会计",
            "email": "liu@example.com",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/claim/sent"
    for _ in range(2):  # shown, then reloaded
        shown = other.get(response.headers["location"], headers=HTML)
        assert shown.status_code == 200 and soup(shown).select_one("#claim-sent") is not None
        assert "liu" not in shown.text and firm.credit_code not in shown.text
    assert [mail.kind for mail in outbox(db, "liu@example.com")] == ["claim_filed"]


@pytest.mark.parametrize(
    ("role", "home", "said"),
    [
        ("member", "/dashboard", "您已属于一家企业"),
        ("official", "/heatmaps", "先退出登录"),
        ("admin", "/admin", "先退出登录"),
    ],
)
def test_someone_signed_in_is_not_shown_the_claim_form(
    client: TestClient, db: Session, firm: Enterprise, role: str, home: str, said: str
) -> None:
    """/register sent a signed-in user home while /claim showed them the form, whose request
    makes a new account. Now /claim sends them home too, saying why."""
    if role == "member":
        user = create_user(db, enterprise=firm, firm_role="member")
    else:
        user = create_user(db, role=role, district_code="310115" if role == "official" else None)
    sign_in(client, user)
    response = client.get(
        f"/claim?credit_code={firm.credit_code}", headers=HTML, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == home
    landed = soup(client.get(home, headers=HTML))
    assert landed.select_one("form[action='/claim']") is None
    flash = landed.select_one(".flash")
    assert flash is not None and said in flash.get_text()
