"""Error pages (``app.kit.web.errors``): a problem a page meets is rendered in the page's
language, its detail included."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.kit.errors import INVALID_FIELDS, FieldError, InvalidInput
from app.kit.web.errors import install_error_handlers
from tests.factories import create_enterprise, create_user
from tests.pages import HTML, sign_in, soup


def _cross_site_sign_in(client: TestClient, headers: dict[str, str]) -> str:
    """The detail of the page answering a sign-in form posted from another site (403)."""
    response = client.post(
        "/login",
        data={"email": "a@example.com", "password": "x"},
        headers={**HTML, "sec-fetch-site": "cross-site", **headers},
    )
    assert response.status_code == 403
    detail = soup(response).select_one("p.detail")
    assert detail is not None, "the page shows no detail"
    return detail.get_text(strip=True)


def test_an_error_pages_detail_is_in_the_pages_language(client: TestClient) -> None:
    """The detail of a Chinese page was left out (it was English only): each language shows
    it in its own words."""
    assert _cross_site_sign_in(client, {}) == "不接受跨站提交的表单。"
    assert (
        _cross_site_sign_in(client, {"Accept-Language": "en"})
        == "Cross-site form submissions are refused."
    )


# --- what an error page says (the web audit, second round) ---------------------------------------


def _page_route_app() -> FastAPI:
    """A page route whose query and form the framework and the service refuse: how an error
    page reads a refusal that names fields by their paths."""
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/things")
    def things(x: int) -> str:
        return str(x)

    @app.post("/things")
    def refuse_reason() -> str:
        errors = [FieldError("body.reason", "Must not contain control characters.")]
        raise InvalidInput(INVALID_FIELDS, fields="body.reason", errors=errors)

    return app


def test_a_malformed_id_in_a_pages_address_is_a_page_not_found(
    client: TestClient, db: Session
) -> None:
    """``/assessments/not-a-uuid`` was a 422 page naming "path.assessment_id"; an id that
    cannot exist answers as one that does not: 404. The API keeps its 422 naming the field."""
    sign_in(client, create_user(db, enterprise=create_enterprise(db)))
    unknown = client.get(f"/assessments/{uuid.uuid4()}", headers=HTML)
    malformed = client.get("/assessments/not-a-uuid", headers=HTML)
    assert (unknown.status_code, malformed.status_code) == (404, 404)
    assert soup(malformed).h1.get_text(strip=True) == soup(unknown).h1.get_text(strip=True)
    assert "assessment_id" not in malformed.text
    api = client.get("/api/v1/assessments/not-a-uuid")
    assert api.status_code == 422
    assert api.json()["errors"][0]["field"] == "path.assessment_id"


@pytest.mark.parametrize(
    ("lang", "title"),
    [("zh", "页面不存在 · 智造 · 智能制造成熟度自评"), ("en", "Page not found · zhizao")],
)
def test_an_error_pages_title_says_what_happened(client: TestClient, lang: str, title: str) -> None:
    """The window's title was the bare status ("404", "422", "405")."""
    page = soup(client.get(f"/no/such/page?lang={lang}", headers=HTML))
    assert page.title is not None and page.title.get_text(strip=True).startswith(title)


def test_opening_a_forms_address_says_it_is_no_page_and_leads_back(client: TestClient) -> None:
    """A form's address opened by itself (a bookmark, a reload) was titled "405" and said
    "Method Not Allowed"."""
    response = client.get("/logout", headers={**HTML, "referer": "http://testserver/account"})
    assert response.status_code == 405
    page = soup(response)
    assert page.title is not None and page.title.get_text(strip=True).startswith("此地址不是页面")
    assert page.h1.get_text(strip=True) == "此地址不是页面"
    assert "405" not in page.get_text() and "不支持该请求方法" not in page.get_text()
    back = page.select_one("#go-back")
    assert back is not None and back["href"] == "/account"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_refused_fields_are_said_in_words_not_by_their_paths(lang: str) -> None:
    """The detail named the refused fields by their paths ("query.x", "body.reason")."""
    with TestClient(_page_route_app()) as client:
        headers = {**HTML, "accept-language": lang, "referer": "http://testserver/form"}
        for response in (
            client.get("/things?x=many", headers=headers),
            client.post("/things", headers=headers),
        ):
            assert response.status_code == 422
            page = soup(response)
            text = page.get_text(" ")
            assert "query.x" not in text and "reason" not in text
            lead = page.select_one(".lead")
            assert lead is not None
            assert lead.get_text(strip=True) == (
                "提交给此页面的某个值不被接受。请返回，检查所填内容后重新提交；"
                "如果您是通过链接进入的，该链接可能不完整或有误。"
                if lang == "zh"
                else "A value sent to this page is not one it accepts. Go back, check what you "
                "entered and send it again; if you followed a link, it may be incomplete or "
                "mistyped."
            )
        back = page.select_one("#go-back")
        assert back is not None and back["href"] == "/form"
        # The JSON API's problem still names each field.
        problem = client.post("/things", headers={"accept-language": lang}).json()
        assert problem["errors"][0]["field"] == "body.reason"
