"""Register, sign in and sign out through the pages (no JavaScript)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Enterprise, User
from tests.factories import PASSWORD, create_enterprise, create_user, enterprise_payload
from tests.mailbox import outbox
from tests.pages import HTML, HTMX, hidden, soup, texts


def _register_form(client: TestClient, **overrides: str) -> dict[str, str]:
    token = hidden(soup(client.get("/register", headers=HTML)), "csrf_token")
    payload = {k: str(v) for k, v in enterprise_payload().items()}
    payload["annual_revenue_wan"] = str(int(payload.pop("annual_revenue_cny")) // 10_000)
    return {
        **payload,
        "email": "manager@example.com",
        "password": PASSWORD,
        "display_name": "张经理",
        "csrf_token": token,
        **overrides,
    }


def test_register_creates_firm_and_user_then_sign_in(client: TestClient, db: Session) -> None:
    form = _register_form(client)
    response = client.post("/register", data=form, headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == (
        "/login?email=manager%40example.com&next=%2Fdashboard%3Fwelcome%3D1"
    )
    login_page = soup(client.get(response.headers["location"], headers=HTML))
    assert "注册已收到" in login_page.get_text()
    assert login_page.select_one("#f-email")["value"] == "manager@example.com"
    signed_in = client.post(
        "/login",
        data={
            "email": "manager@example.com",
            "password": PASSWORD,
            "csrf_token": hidden(login_page, "csrf_token"),
            "next": hidden(login_page, "next"),
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert signed_in.headers["location"] == "/dashboard?welcome=1"
    enterprise = db.scalar(select(Enterprise).where(Enterprise.credit_code == form["credit_code"]))
    assert enterprise is not None
    user = db.scalar(select(User).where(User.email == "manager@example.com"))
    assert user is not None and user.enterprise_id == enterprise.id
    dashboard = soup(client.get("/dashboard", headers=HTML))
    assert enterprise.name in dashboard.get_text()


def test_field_errors_show_inline_in_chinese_and_english(client: TestClient) -> None:
    form = _register_form(client, credit_code="91310115MA1FL3K29X", employees="many", email="x")
    response = client.post("/register", data=form, headers=HTML)
    assert response.status_code == 422
    page = soup(response)
    assert page.select_one("#err-credit_code").get_text(strip=True).endswith("校验位正确。")
    assert "请输入数字" in page.select_one("#err-employees").get_text()
    assert page.select_one("#f-email")["aria-invalid"] == "true"
    # What was typed is kept (except the password); the summary links to each field.
    assert page.select_one("#f-name")["value"] == form["name"]
    assert page.select_one("#f-password")["value"] == ""
    assert len(texts(page, "#error-summary li")) == 3
    english = client.post("/register", data=form, headers={**HTML, "accept-language": "en"})
    assert "correct check digit" in soup(english).select_one("#err-credit_code").get_text()


def test_a_field_left_blank_is_required_whatever_rule_its_blank_breaks(
    client: TestClient,
) -> None:
    """A blank name said "too short: at least 2 characters" and a blank figure "enter a
    number (digits only)"; both are simply required."""
    form = _register_form(client, name="", employees="", annual_revenue_wan=" ")
    page = soup(client.post("/register", data=form, headers=HTML))
    for field in ("name", "employees", "annual_revenue_wan"):
        assert page.select_one(f"#err-{field}").get_text(strip=True).endswith("必填。"), field


def test_duplicate_credit_code_is_a_field_error(client: TestClient, db: Session) -> None:
    enterprise = create_enterprise(db)
    form = _register_form(client, credit_code=enterprise.credit_code)
    page = soup(client.post("/register", data=form, headers=HTML))
    assert "已注册" in page.select_one("#err-credit_code").get_text()


def test_registering_a_taken_email_answers_as_for_a_new_one(
    client: TestClient, other: TestClient, db: Session
) -> None:
    owner = create_user(db, enterprise=create_enterprise(db), email="taken@example.com")
    new = client.post(
        "/register",
        data=_register_form(client, email="fresh@example.com"),
        headers=HTML,
        follow_redirects=False,
    )
    taken = other.post(
        "/register",
        data=_register_form(other, email="taken@example.com"),
        headers=HTML,
        follow_redirects=False,
    )
    assert new.status_code == taken.status_code == 303
    assert new.headers["location"].replace("fresh", "X") == taken.headers["location"].replace(
        "taken", "X"
    )
    assert set(new.cookies) == set(taken.cookies)
    [notice] = outbox(db, "taken@example.com")
    assert "/password/forgot" in notice.body
    db.refresh(owner)
    assert db.scalars(select(User).where(User.email == "taken@example.com")).all() == [owner]


def test_forms_before_sign_in_need_their_token(client: TestClient) -> None:
    form = _register_form(client)
    form["csrf_token"] = "forged"
    response = client.post("/register", data=form, headers=HTML)
    assert response.status_code == 403
    assert soup(response).h1.get_text(strip=True) == "表单已过期"
    cross_site = client.post(
        "/login",
        data={"email": "a@example.com", "password": "x", "csrf_token": form["csrf_token"]},
        headers={**HTML, "sec-fetch-site": "cross-site"},
    )
    assert cross_site.status_code == 403


def test_login_and_logout(client: TestClient, db: Session) -> None:
    user = create_user(db, enterprise=create_enterprise(db))
    page = soup(client.get("/login?next=/history", headers=HTML))
    token = hidden(page, "csrf_token")
    assert hidden(page, "next") == "/history"
    wrong = client.post(
        "/login", data={"email": user.email, "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 401
    assert "邮箱或密码错误" in soup(wrong).select_one("[role=alert]").get_text()
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token, "next": "/history"},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/history"
    page = soup(client.get("/dashboard", headers=HTML))
    csrf = hidden(page.select_one("form[action='/logout']"), "csrf_token")
    # Signed-in forms need the session's token.
    assert client.post("/logout", data={"csrf_token": "wrong"}, headers=HTML).status_code == 403
    out = client.post("/logout", data={"csrf_token": csrf}, headers=HTMX)
    assert out.headers["hx-redirect"] == "/"
    assert client.get("/dashboard", headers=HTML, follow_redirects=False).status_code == 303


def test_form_attributes_are_attributes_not_escaped_text(client: TestClient) -> None:
    """The form macro escaped its extra attributes into one value (``maxlength=&#34;24&#34;``):
    phones got no numeric keypad and no length limit."""
    response = client.get("/register", headers=HTML)
    assert "&#34;" not in response.text
    page = soup(response)
    assert page.select_one("#f-credit_code")["maxlength"] == "24"
    assert page.select_one("#f-employees")["inputmode"] == "numeric"
    assert page.select_one("#f-annual_revenue_wan")["inputmode"] == "decimal"
    # The unit is shown next to the revenue and read out with it.
    assert page.select_one("#unit-annual_revenue_wan").get_text() == "万元"
    assert "unit-annual_revenue_wan" in page.select_one("#f-annual_revenue_wan")["aria-describedby"]


@pytest.mark.parametrize(
    ("typed", "stored"), [("3200万", 32_000_000), ("3,200", 32_000_000), ("0.45亿", 45_000_000)]
)
def test_revenue_is_typed_in_ten_thousand_yuan(
    client: TestClient, db: Session, typed: str, stored: int
) -> None:
    form = _register_form(client, annual_revenue_wan=typed)
    response = client.post("/register", data=form, headers=HTML, follow_redirects=False)
    assert response.status_code == 303, soup(response).get_text()[:500]
    enterprise = db.scalar(select(Enterprise).where(Enterprise.credit_code == form["credit_code"]))
    assert enterprise is not None and enterprise.annual_revenue_cny == stored


def test_unreadable_revenue_is_a_field_error(client: TestClient) -> None:
    form = _register_form(client, annual_revenue_wan="三千万")
    response = client.post("/register", data=form, headers=HTML)
    assert response.status_code == 422
    assert soup(response).select_one("#err-annual_revenue_wan") is not None


@pytest.mark.parametrize("typed", ["1e999999999", "9e999999亿", "1e30", "-1e999999999"])
def test_a_revenue_too_large_for_any_number_is_a_field_error(
    client: TestClient, db: Session, typed: str
) -> None:
    """ "1e999999999" (万元) overflowed the decimal arithmetic: 500 on an anonymous form."""
    form = _register_form(client, annual_revenue_wan=typed)
    response = client.post("/register", data=form, headers=HTML)
    assert response.status_code == 422
    page = soup(response)
    assert page.select_one("#err-annual_revenue_wan") is not None
    assert page.select_one("#f-annual_revenue_wan")["value"] == typed  # as typed
    assert db.scalar(select(Enterprise)) is None
