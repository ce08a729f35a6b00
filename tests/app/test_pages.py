"""Pages shared by all: home, each role's home and header, language switch, HTML errors next to
problem+json, flash confirmations, static files."""

from __future__ import annotations

import base64
import hashlib
import re
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.kit.settings import PROJECT_ROOT
from app.models import User
from scoring import Questionnaire
from scoring.ladder import RUNGS, rung_label
from scoring.loader import load_questionnaire_dir
from tests.answers import QUICK, questionnaire, submit_assessment
from tests.factories import PASSWORD, create_enterprise, create_user, login
from tests.pages import HTML, HTMX, hidden, sign_in, soup

HTMX_SHA384 = "2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"


def test_home_is_chinese_by_default(client: TestClient) -> None:
    response = client.get("/", headers=HTML)
    assert response.status_code == 200
    page = soup(response)
    assert page.html["lang"] == "zh-CN"
    assert "工业 3.0 到 4.0" in page.h1.get_text()
    assert response.headers["content-language"] == "zh-CN"
    # The page names who it is for and what one gets, and leads to registering.
    assert {"这是什么", "适合谁", "您将得到"} <= {h.get_text() for h in page.select("h2")}
    assert page.find("a", href="/register") is not None


def test_accept_language_then_cookie_choose_english(client: TestClient) -> None:
    page = soup(client.get("/", headers={**HTML, "accept-language": "en-GB,en;q=0.9"}))
    assert page.html["lang"] == "en"
    assert "Industry 3.0 and 4.0" in page.h1.get_text()
    # The switch sets a cookie that wins over Accept-Language, and goes back where it was.
    response = client.get("/lang/zh?next=/register", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/register"
    page = soup(client.get("/", headers={**HTML, "accept-language": "en"}))
    assert page.html["lang"] == "zh-CN"


def _newest_full_questionnaire() -> Questionnaire:
    versions = load_questionnaire_dir(PROJECT_ROOT / "questionnaires")
    return max(
        (q for q in versions if q.id == "smart-manufacturing-maturity"), key=lambda q: q.version
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_home_names_the_ladder_and_the_time_as_the_service_defines_them(
    client: TestClient, lang: str
) -> None:
    """The promise on the home page is the scoring's own ladder (its lowest and highest rung,
    by level and name) and the questionnaire's own estimate of its length (it said 'pre-3.0' to
    'smart', rungs the ladder no longer has, and 30 minutes where the questionnaire says 20)."""
    language = {"zh": "zh-CN", "en": "en"}[lang]
    text = soup(client.get("/", headers={**HTML, "accept-language": language})).get_text()
    lowest, highest = RUNGS[0], RUNGS[-1]
    for rung in (lowest, highest):
        assert str(rung.level) in text and rung.name.get(lang) in text
    estimate = re.search(
        r"约 (\d+) 分钟" if lang == "zh" else r"about (\d+) minutes",
        _newest_full_questionnaire().description.get(lang),  # type: ignore[union-attr]
    )
    assert estimate is not None
    minutes = re.findall(r"约 ?(\d+) ?分钟" if lang == "zh" else r"about (\d+) minutes", text)
    assert minutes and set(minutes) == {estimate.group(1)}


def test_language_switch_never_redirects_off_site(client: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.get("/lang/en", params={"next": target}, follow_redirects=False)
        assert response.headers["location"] == "/"


def test_security_headers_and_no_inline_script(client: TestClient) -> None:
    response = client.get("/", headers=HTML)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    page = soup(response)
    for script in page.find_all("script"):
        assert script.get("src", "").startswith("/static/"), "no inline or third-party script"
        assert not script.string
    assert not page.select("[style]"), "inline styles are blocked by the CSP"
    assert not [t for t in page.find_all(True) if any(a.startswith("on") for a in t.attrs)]


def test_unknown_page_renders_html_error_but_api_keeps_problem_json(client: TestClient) -> None:
    response = client.get("/no-such-page", headers=HTML)
    assert response.status_code == 404
    page = soup(response)
    assert page.h1.get_text(strip=True) == "页面不存在"
    api = client.get("/api/v1/no-such-thing", headers=HTML)
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    # A client that does not ask for HTML gets problem+json on page paths too.
    plain = client.get("/no-such-page", headers={"accept": "application/json"})
    assert plain.headers["content-type"] == "application/problem+json"


def test_pages_that_need_sign_in_redirect_to_login(client: TestClient) -> None:
    response = client.get("/dashboard", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/dashboard"
    htmx = client.get("/dashboard", headers=HTMX, follow_redirects=False)
    assert htmx.headers["hx-redirect"] == "/login?next=/dashboard"


def test_pages_are_not_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert all(path.startswith(("/api/", "/healthz", "/readyz", "/metrics")) for path in paths)


def test_vendored_htmx_is_served_and_pinned(client: TestClient) -> None:
    body = (PROJECT_ROOT / "app" / "static" / "vendor" / "htmx.min.js").read_bytes()
    assert base64.b64encode(hashlib.sha384(body).digest()).decode() == HTMX_SHA384
    response = client.get("/static/vendor/htmx.min.js")
    assert response.status_code == 200
    assert response.content == body
    assert client.get("/static/css/app.css").status_code == 200
    assert client.get("/static/js/app.js").status_code == 200


# --- a home per role ------------------------------------------------------------------------------

ROLE_HOMES = {"enterprise": "/dashboard", "official": "/heatmaps", "admin": "/admin"}


def _role_user(db: Session, role: str) -> User:
    if role == "enterprise":
        return create_user(db, enterprise=create_enterprise(db))
    if role == "official":
        return create_user(db, role="official", district_code="310115")
    return create_user(db, role="admin")


@pytest.mark.parametrize("role", sorted(ROLE_HOMES))
def test_sign_in_lands_on_the_roles_home_and_the_header_shows_its_links(
    client: TestClient, db: Session, role: str
) -> None:
    user = _role_user(db, role)
    page = soup(client.get("/login", headers=HTML))
    response = client.post(
        "/login",
        data={"csrf_token": hidden(page, "csrf_token"), "email": user.email, "password": PASSWORD},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == ROLE_HOMES[role]
    home = client.get(ROLE_HOMES[role], headers=HTML)
    assert home.status_code == 200
    links = {a["href"] for a in soup(home).select(".main-nav a")}
    assert ROLE_HOMES[role] in links and "/account" in links
    assert ("/dashboard" in links) == (role == "enterprise")
    assert ("/admin" in links) == (role == "admin")
    # The home page never offers a signed-in user to register; it leads to their home.
    front = soup(client.get("/", headers=HTML))
    assert front.find("a", href="/register") is None
    assert "注册并开始" not in front.get_text()
    assert front.select_one(f".hero a[href='{ROLE_HOMES[role]}']") is not None
    # The dashboard sends officials and admins home instead of "not found".
    dashboard = client.get("/dashboard", headers=HTML, follow_redirects=False)
    assert dashboard.status_code == (200 if role == "enterprise" else 303)


def test_not_found_is_chinese_with_the_callers_own_header(client: TestClient, db: Session) -> None:
    anonymous = client.get("/no/such/page", headers=HTML)
    assert anonymous.status_code == 404
    page = soup(anonymous)
    assert page.h1.get_text(strip=True) == "页面不存在"
    assert "Not Found" not in page.get_text()
    assert page.find("a", href="/register") is not None
    sign_in(client, create_user(db, role="official", district_code="310115"))
    page = soup(client.get("/no/such/page", headers=HTML))
    assert page.find("a", href="/heatmaps") is not None
    assert page.find("a", href="/register") is None
    english = soup(client.get("/no/such/page", headers={**HTML, "accept-language": "en"}))
    assert english.h1.get_text(strip=True) == "Page not found"


def test_favicon_is_served(client: TestClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "favicon.svg" in client.get("/", headers=HTML).text


def test_a_confirmation_shows_once(client: TestClient, db: Session) -> None:
    user = create_user(db, enterprise=create_enterprise(db))
    sign_in(client, user)
    page = soup(client.get("/account", headers=HTML))
    form = page.select_one("form[action='/account/profile']")
    client.post(
        "/account/profile",
        data={"csrf_token": hidden(form, "csrf_token"), "display_name": "王经理", "locale": "en"},
        follow_redirects=False,
    )
    first = soup(client.get("/account", headers=HTML)).select_one(".flash")
    assert first is not None and "已保存" in first.get_text()
    assert soup(client.get("/account", headers=HTML)).select_one(".flash") is None


def test_a_flash_cookie_shows_only_registered_messages(client: TestClient) -> None:
    client.cookies.set("zhizao_flash", "<script>alert(1)</script>")
    page = soup(client.get("/", headers=HTML))
    assert page.select_one(".flash") is None


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs_load_from_the_service_itself_under_its_csp(client: TestClient, path: str) -> None:
    """They loaded Swagger UI and ReDoc from cdn.jsdelivr.net (often unreachable in mainland
    China) and were exempt from the CSP."""
    response = client.get(path)
    assert response.status_code == 200
    assert "cdn." not in response.text and "https://" not in response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "default-src 'self'" in csp
    page = soup(response)
    for script in page.select("script[src]"):
        assert script["src"].startswith("/static/")
        assert client.get(script["src"]).status_code == 200
    for sheet in page.select("link[rel=stylesheet]"):
        assert client.get(sheet["href"]).status_code == 200


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_dashboard_names_the_latest_rung(client: TestClient, db: Session, lang: str) -> None:
    """The latest result showed the rung's number alone ("3.25"), where every other page says
    which rung it is ("3.25规范级"); the list of assessments below it too."""
    firm = create_enterprise(db)
    login(client, create_user(db, enterprise=firm))
    result = submit_assessment(client, firm, questionnaire(QUICK), 0.3)
    named = rung_label(Decimal(str(result["rung"])), lang)
    assert any(named.endswith(rung.name.get(lang)) for rung in RUNGS)
    page = soup(client.get(f"/dashboard?lang={lang}", headers=HTML))
    shown = page.select_one("#latest-rung")
    assert shown is not None and shown.get_text(strip=True) == named
    assert named in [cell.get_text(strip=True) for cell in page.select("tbody td")]
