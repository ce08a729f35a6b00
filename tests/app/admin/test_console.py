"""The admin console: admins only (to everyone else it does not exist); approving a webhook shows
the addresses its URL resolves to; a new API key is shown once; suspending a user ends their
sessions; the audit trail is searchable; the outbox readable."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.kit.db import Database
from app.kit.settings import Settings
from app.mail import service as mail
from app.mail.worker import MailWorker
from app.main import create_app
from app.models import ApiClient, ApiKey, User, WebhookEndpoint
from tests.factories import create_api_key, create_enterprise, create_user, login
from tests.pages import HTML, hidden, sign_in, soup

PAGES = [
    "/admin",
    "/admin/webhooks",
    "/admin/clients",
    "/admin/users",
    "/admin/audit",
    "/admin/outbox",
]


@pytest.fixture(scope="module")
def loopback_app(settings: Settings) -> Iterator[FastAPI]:
    """Loopback webhook receivers allowed (tests only), as the integrator tests do."""
    application = create_app(
        settings.model_copy(update={"WEBHOOK_ALLOW_HTTP": True, "WEBHOOK_ALLOW_LOOPBACK": True})
    )
    with TestClient(application):
        yield application


@pytest.fixture
def admin(loopback_app: FastAPI, db: Session, engine: object) -> Iterator[TestClient]:
    browser = TestClient(loopback_app, base_url="http://testserver")
    sign_in(browser, create_user(db, role="admin"))
    yield browser
    browser.close()


def test_the_console_exists_for_admins_only(client: TestClient, db: Session) -> None:
    for path in PAGES:
        assert client.get(path, headers=HTML, follow_redirects=False).status_code == 303, path
    for user in (
        create_user(db, enterprise=create_enterprise(db)),
        create_user(db, role="official", district_code="310115"),
    ):
        sign_in(client, user)
        for path in PAGES:
            assert client.get(path, headers=HTML).status_code == 404, (user.role, path)
    sign_in(client, create_user(db, role="admin"))
    for path in PAGES:
        assert client.get(path, headers=HTML).status_code == 200, path


def test_webhook_approval_shows_the_resolved_addresses(
    admin: TestClient, db: Session, settings: Settings
) -> None:
    key, _ = create_api_key(db, settings)
    created = admin.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert created.status_code == 201, created.text
    endpoint_id = created.json()["id"]
    page = soup(admin.get("/admin", headers=HTML))
    card = page.select_one(f"#webhook-{endpoint_id}")
    assert card is not None
    assert [li.get_text() for li in card.select(".addresses li")] == ["127.0.0.1"]
    form = card.select_one(f"form[action='/admin/webhooks/{endpoint_id}/approve']")
    approved = admin.post(form["action"], data={"csrf_token": hidden(form, "csrf_token")})
    assert approved.status_code == 200
    assert "已批准" in soup(approved).select_one(".flash").get_text()
    db.rollback()
    assert db.get(WebhookEndpoint, uuid.UUID(endpoint_id)).status == "active"  # type: ignore[union-attr]


def test_a_new_api_key_is_shown_once_on_the_page(admin: TestClient, db: Session) -> None:
    page = soup(admin.get("/admin/clients", headers=HTML))
    form = page.select_one("form[action='/admin/clients']")
    response = admin.post(
        "/admin/clients",
        data={
            "csrf_token": hidden(form, "csrf_token"),
            "name": "新集成商",
            "scopes": ["assessments:read", "assessments:write"],
        },
    )
    assert response.status_code == 200
    shown = soup(response).select_one("#issued-key code").get_text()
    db.rollback()
    key = db.scalar(select(ApiKey))
    assert key is not None and key.key_id in shown and key.secret_sha256 not in shown
    assert sorted(key.scopes) == ["assessments:read", "assessments:write"]
    # Not again: the list shows the key id only.
    again = admin.get("/admin/clients", headers=HTML).text
    assert shown not in again and key.key_id in again


def test_sending_a_key_making_form_again_makes_nothing_new(admin: TestClient, db: Session) -> None:
    """The key is shown on the page that answers the POST: reloading that page (the browser
    sends the form again) created a second client, and a second key on a rotation."""
    page = soup(admin.get("/admin/clients", headers=HTML))
    form = page.select_one("form[action='/admin/clients']")
    sent = {
        "csrf_token": hidden(form, "csrf_token"),
        "form_key": hidden(form, "form_key"),
        "name": "新集成商",
        "scopes": ["assessments:read"],
    }
    # Refused first (no contact e-mail fits): the form's key is not used up by a refusal.
    refused = admin.post("/admin/clients", data={**sent, "contact_email": "a" * 255})
    assert refused.status_code == 422
    created = admin.post("/admin/clients", data=sent)
    assert created.status_code == 200 and soup(created).select_one("#issued-key") is not None
    reloaded = admin.post("/admin/clients", data=sent)
    assert reloaded.status_code == 200
    again = soup(reloaded)
    assert again.select_one("#issued-key") is None
    assert "已提交过" in again.select_one("#sent-before").get_text()  # type: ignore[union-attr]
    db.rollback()
    [client] = db.scalars(select(ApiClient)).all()
    assert len(db.scalars(select(ApiKey)).all()) == 1

    page = soup(admin.get("/admin/clients", headers=HTML))
    rotation = page.select_one(f"form[action='/admin/clients/{client.id}/keys']")
    assert rotation is not None
    fields = {name: hidden(rotation, name) for name in ("csrf_token", "form_key")}
    rotated = admin.post(rotation["action"], data=fields)
    assert rotated.status_code == 200 and soup(rotated).select_one("#issued-key") is not None
    reloaded = admin.post(rotation["action"], data=fields)
    assert reloaded.status_code == 200
    assert soup(reloaded).select_one("#issued-key") is None
    db.rollback()
    assert len(db.scalars(select(ApiKey)).all()) == 2
    # A new page's form makes a new key (the page shown after the reload has a key of its own).
    fresh = soup(reloaded).select_one(f"form[action='/admin/clients/{client.id}/keys']")
    assert hidden(fresh, "form_key") != fields["form_key"]


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"name": "集" * 201, "scopes": ["assessments:read"]}, "名称：过长：最多 200 个字符。"),
        (
            {"name": "新集成商", "scopes": ["assessments:read"], "contact_email": "a" * 255},
            "联系邮箱：过长：最多 254 个字符。",
        ),
        (
            {"name": "新集成商", "scopes": ["everything"]},
            "权限范围：请至少选择一个列出的权限范围。",
        ),
        ({"name": "新", "scopes": ["assessments:read"]}, "名称：过短：至少 2 个字符。"),
    ],
)
def test_a_client_the_api_would_refuse_is_refused_on_the_page(
    admin: TestClient, db: Session, fields: dict[str, object], said: str
) -> None:
    """The page cut a name over 200 characters (and a contact e-mail over 254) without a word;
    it follows the API's rules now and names the field each broke (its summary, in Chinese)."""
    form = soup(admin.get("/admin/clients", headers=HTML)).select_one(
        "form[action='/admin/clients']"
    )
    response = admin.post(
        "/admin/clients", data={"csrf_token": hidden(form, "csrf_token"), **fields}
    )
    assert response.status_code == 422
    summary = soup(response).select_one("#error-summary")
    assert summary is not None and said in summary.get_text()
    db.rollback()
    assert db.scalar(select(ApiKey)) is None


def test_suspending_a_user_ends_their_sessions(
    admin: TestClient, loopback_app: FastAPI, db: Session
) -> None:
    user = create_user(db, enterprise=create_enterprise(db), email="suspect@example.com")
    victim = TestClient(loopback_app, base_url="http://testserver")
    login(victim, user)
    assert victim.get("/api/v1/me").status_code == 200
    page = soup(admin.get("/admin/users?email=suspect", headers=HTML))
    form = page.select_one(f"form[action='/admin/users/{user.id}/active']")
    assert (
        admin.post(
            form["action"], data={"csrf_token": hidden(form, "csrf_token"), "active": "0"}
        ).status_code
        == 200
    )
    assert victim.get("/api/v1/me").status_code == 401
    assert (
        victim.post(
            "/api/v1/session",
            json={"email": "suspect@example.com", "password": "correct horse battery"},
        ).status_code
        == 401
    )


def test_audit_search_and_outbox(admin: TestClient, db: Session) -> None:
    enterprise = create_enterprise(db)
    mail.send(db, to="li@example.com", lang="zh", template="claim_filed", firm="上海某厂")
    db.commit()
    page = soup(
        admin.get(f"/admin/audit?action=enterprise.&enterprise_id={enterprise.id}", headers=HTML)
    )
    actions = [code.get_text() for code in page.select("tbody td:nth-child(3) code")]
    assert actions == ["enterprise.create"]
    # Named in the page's language, not as stored ("enterprise" in a Chinese page before).
    target = page.select_one("tbody td:nth-child(4)")
    assert target.get_text().startswith("企业") and str(enterprise.id) in target.get_text()
    english = soup(admin.get("/admin/audit?action=enterprise.&lang=en", headers=HTML))
    assert english.select_one("tbody td:nth-child(4)").get_text().startswith("enterprise")
    outbox = soup(admin.get("/admin/outbox?to=li@example.com", headers=HTML))
    assert "您加入 上海某厂 的申请" in outbox.select_one("details.mail summary").get_text()


class _Delivered:
    """A transport that takes every message."""

    def send(self, message: object) -> None:
        pass


@pytest.mark.parametrize(
    ("lang", "note"),
    [
        ("zh", "已发送；邮件正文含一次性链接，不予保留"),
        ("en", "(sent; the body held a single-use link and is not kept)"),
    ],
)
def test_a_sent_messages_withheld_body_is_said_in_the_pages_language(
    admin: TestClient, db: Session, settings: Settings, lang: str, note: str
) -> None:
    """The outbox printed the note kept instead of a single-use link's message, as stored, in
    English on the Chinese page."""
    mail.send(
        db,
        to="reset@example.com",
        lang="zh",
        template="password_reset",
        secret=True,
        url="https://zhizao.example/password/reset/x",
        minutes=30,
    )
    db.commit()
    database = Database(settings)
    try:
        assert MailWorker(database, settings, transport=_Delivered()).run_once() == 1
    finally:
        database.dispose()
    page = soup(admin.get(f"/admin/outbox?to=reset@example.com&lang={lang}", headers=HTML))
    body = page.select_one("details.mail pre.mail-body").get_text()  # type: ignore[union-attr]
    assert note in body and "/password/reset/" not in body


@pytest.mark.parametrize(("lang", "name"), [("zh", "（浦东新区）"), ("en", "(Pudong New Area)")])
def test_an_officials_district_is_named(
    admin: TestClient, db: Session, lang: str, name: str
) -> None:
    """/admin/users showed an official's district as its code, "(310115)"."""
    create_user(db, role="official", district_code="310115", email="pudong@example.com")
    page = soup(admin.get(f"/admin/users?email=pudong@&lang={lang}", headers=HTML))
    [row] = page.select("tbody tr")
    role = row.select("td")[2].get_text(strip=True)
    assert role.endswith(name) and "310115" not in role


def test_a_conflict_page_does_not_speak_of_assessments(admin: TestClient, db: Session) -> None:
    """The 409 page said "已提交的评估保持不变…" whatever the conflict was about."""
    page = soup(admin.get("/admin/users", headers=HTML))
    me = page.select_one("tbody tr")
    assert me is not None and me.select("form") == []  # one's own account has no button
    own_id = db.scalar(select(User.id).where(User.role == "admin"))
    response = admin.post(
        f"/admin/users/{own_id}/active",
        data={"csrf_token": hidden(page, "csrf_token"), "active": "0"},
        headers=HTML,
    )
    assert response.status_code == 409
    text = soup(response).select_one("main").get_text()  # type: ignore[union-attr]
    assert "评估" not in text and "另一个标签页" in text


#: A filter each list page cannot read, the field it names, its label on the Chinese page and a
#: word of what it says there (the English is checked for one of each kind below).
BAD_FILTERS = [
    ("/admin/audit", {"since": "2025-13-45"}, "since", "起始日期（UTC）", "日期"),
    ("/admin/audit", {"until": "yesterday"}, "until", "截止日期（UTC，含当日）", "日期"),
    ("/admin/audit", {"since": "1700000000"}, "since", "起始日期（UTC）", "日期"),
    ("/admin/audit", {"since": "0001-01-01T00:00:00+14:00"}, "since", "起始日期（UTC）", "日期"),
    (
        "/admin/audit",
        {"until": "9999-12-31T23:59:59-14:00"},
        "until",
        "截止日期（UTC，含当日）",
        "日期",
    ),
    ("/admin/audit", {"enterprise_id": "3f2b8c1e-5d4a"}, "enterprise_id", "企业 ID", "编号"),
    (
        "/admin/audit",
        {"action": "enterprise.\x00"},
        "action",
        "操作（以点结尾表示前缀，如 claim.）",
        "控制字符",
    ),
    ("/admin/audit", {"actor_id": "x" * 65}, "actor_id", "操作者 ID", "64"),
    ("/admin/users", {"email": "li\x1b@example.com"}, "email", "邮箱包含", "控制字符"),
    ("/admin/users", {"email": "a" * 255}, "email", "邮箱包含", "254"),
    ("/admin/outbox", {"to": "li@example.com\x00"}, "to", "收件人", "控制字符"),
    ("/admin/webhooks", {"status": "approved"}, "status", "状态", "选项"),
]


@pytest.mark.parametrize(
    ("path", "params", "field", "label", "says"),
    BAD_FILTERS,
    ids=[f"{path.rsplit('/', 1)[-1]}-{next(iter(params))}" for path, params, *_ in BAD_FILTERS],
)
def test_a_filter_the_page_cannot_read_is_named_and_nothing_is_listed(
    admin: TestClient,
    db: Session,
    path: str,
    params: dict[str, str],
    field: str,
    label: str,
    says: str,
) -> None:
    """A date, an id or a status the page could not read was dropped without a word (a control
    character, or text too long, was a bare error page, or cut short): the unfiltered list was
    shown as if it were the filtered one. Now the page names the field and says what it takes,
    keeps what was typed, and lists nothing."""
    create_enterprise(db)  # an event, a user, a message, a webhook: each list has something
    mail.send(db, to="li@example.com", lang="zh", template="claim_filed", firm="上海某厂")
    db.commit()
    response = admin.get(path, params=params, headers=HTML)
    assert response.status_code == 422
    page = soup(response)
    [named] = page.select("#error-summary li a")
    assert named["href"] == f"#f-{field}"
    named_label, _, message = named.get_text().partition("：")
    assert named_label == label and says in message
    assert page.select_one("#not-listed") is not None
    assert page.select("tbody tr, details.mail, .webhook-list li") == []
    if page.select_one(f"input#f-{field}") is not None:  # a form field (webhooks: links)
        typed = page.select_one(f"input#f-{field}")
        assert typed["aria-invalid"] == "true" and typed["value"] == params[field]


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"since": "2025-13-45"}, "Enter a date as year-month-day"),
        ({"enterprise_id": "nope"}, "Enter the whole id"),
        ({"action": "a\x1bb"}, "control characters"),
    ],
)
def test_the_filter_errors_speak_english_on_the_english_page(
    admin: TestClient, params: dict[str, str], says: str
) -> None:
    response = admin.get("/admin/audit", params=params | {"lang": "en"}, headers=HTML)
    assert response.status_code == 422
    assert says in soup(response).select_one("#error-summary").get_text()


def test_every_bad_filter_is_named(admin: TestClient, db: Session) -> None:
    """Several at once: each is named (the JSON API behind the page names the same fields)."""
    bad = {"enterprise_id": "x", "since": "2025-02-30", "until": "soon", "action": "enterprise."}
    page = soup(admin.get("/admin/audit", params=bad, headers=HTML))
    named = [a["href"] for a in page.select("#error-summary li a")]
    assert named == ["#f-enterprise_id", "#f-since", "#f-until"]
    api = admin.get("/api/v1/admin/audit-events", params=bad)
    assert api.status_code == 422
    assert api.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in api.json()["errors"]] == [
        f"query.{href.removeprefix('#f-')}" for href in named
    ]


def test_the_webhook_list_api_names_a_status_it_does_not_know(admin: TestClient) -> None:
    response = admin.get("/api/v1/admin/webhooks", params={"status": "approved"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["query.status"]


def test_filters_the_page_reads_narrow_the_list(admin: TestClient, db: Session) -> None:
    """Blank filters are no filters; a date, an id (with the spaces a paste brings) and a
    status are read as the API reads them."""
    first, second = create_enterprise(db), create_enterprise(db)
    page = soup(
        admin.get(
            "/admin/audit",
            params={
                "action": "enterprise.",
                "enterprise_id": f" {second.id} ",
                "since": "2000-01-01",
                "until": "",
            },
            headers=HTML,
        )
    )
    assert page.select_one("#error-summary") is None
    rows = [td.get_text() for td in page.select("tbody td:nth-child(4)")]
    assert len(rows) == 1 and str(second.id) in rows[0] and str(first.id) not in rows[0]
    future = soup(admin.get("/admin/audit", params={"since": "2999-01-01"}, headers=HTML))
    assert [td.get_text() for td in future.select("tbody td")] == ["没有符合条件的记录。"]
    for status in ("", "pending", "active", "disabled"):
        assert (
            admin.get("/admin/webhooks", params={"status": status}, headers=HTML).status_code == 200
        )


def test_the_day_picked_as_until_is_listed(admin: TestClient, db: Session) -> None:
    """ "Until" a date includes that day's events (the API's ``until`` is the first moment
    left out: the page asks it for the next midnight); a moment typed by hand stays exact."""
    firm = create_enterprise(db)
    today = datetime.now(UTC).date()

    def listed(until: str) -> list[str]:
        page = soup(
            admin.get(
                "/admin/audit",
                params={"enterprise_id": str(firm.id), "until": until},
                headers=HTML,
            )
        )
        assert page.select_one("#error-summary") is None
        return [td.get_text() for td in page.select("tbody td")]

    assert any(str(firm.id) in cell for cell in listed(today.isoformat()))
    assert listed((today - timedelta(days=1)).isoformat()) == ["没有符合条件的记录。"]
    assert listed(f"{today.isoformat()}T00:00:00Z") == ["没有符合条件的记录。"]
    assert any(str(firm.id) in cell for cell in listed("9999-12-31"))  # the last day there is


def test_the_console_lists_the_firms_officials_flagged(admin: TestClient, db: Session) -> None:
    """Only an admin decides on a flag: the flagged firms and why are on the admin's home."""
    flagged = create_enterprise(db, name="上海存疑制造有限公司", district_code="310115")
    create_enterprise(db, name="上海无疑制造有限公司", district_code="310115")
    official = TestClient(admin.app, base_url="http://testserver")
    csrf = sign_in(official, create_user(db, role="official", district_code="310115"))
    response = official.post(
        f"/verification/{flagged.id}/flag",
        data={"csrf_token": csrf, "flagged": "1", "reason": "营业执照与现场不符"},
        headers=HTML,
    )
    assert response.status_code == 200
    card = soup(admin.get("/admin", headers=HTML)).select_one("section[aria-labelledby=flagged-h]")
    assert [li.get_text(" ", strip=True) for li in card.select("li")] == [
        f"上海存疑制造有限公司 {flagged.credit_code} ： 营业执照与现场不符"
    ]
    assert card.select_one("a")["href"] == "/verification?status=flagged"
