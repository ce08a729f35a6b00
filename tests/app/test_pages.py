"""Pages shared by all: home, language switch, HTML errors next to problem+json, static files."""

from __future__ import annotations

import base64
import hashlib

from fastapi.testclient import TestClient

from app.kit.settings import PROJECT_ROOT
from tests.pages import HTML, HTMX, soup

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
