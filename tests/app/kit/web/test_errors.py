"""Error pages (``app.kit.web.errors``): a problem a page meets is rendered in the page's
language, its detail included."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.pages import HTML, soup


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
