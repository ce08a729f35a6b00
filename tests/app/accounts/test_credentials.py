"""One credential per request: an ``Authorization`` header, when sent, is the only credential
read, and an invalid one is 401 even beside a valid session cookie (RFC 6750 §3.1; the rule is
``app.kit.errors.InvalidCredentials``)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.kit.settings import Settings
from tests.factories import create_api_key, create_enterprise, create_user, login

WRONG = [
    "Bearer zk_test_00000000_not-a-secret",  # well-formed, unknown key
    "Bearer not-a-key",  # malformed
    "Bearer ",  # empty
    "Basic Zm9vOmJhcg==",  # another scheme
]


@pytest.fixture
def owner(client: TestClient, db: Session) -> TestClient:
    login(client, create_user(db, enterprise=create_enterprise(db)))
    return client


def _is_invalid_credentials(response: object) -> None:
    assert response.status_code == 401, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert response.json()["type"].endswith("/invalid-credentials")  # type: ignore[attr-defined]
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'  # type: ignore[attr-defined]


@pytest.mark.parametrize("authorization", WRONG)
def test_an_invalid_bearer_is_401_even_with_a_valid_session(
    owner: TestClient, authorization: str
) -> None:
    assert owner.get("/api/v1/me").status_code == 200
    _is_invalid_credentials(owner.get("/api/v1/me", headers={"Authorization": authorization}))


def test_an_invalid_bearer_stops_a_write_of_the_session_user(owner: TestClient) -> None:
    enterprise_id = owner.get("/api/v1/me").json()["enterprise_id"]
    contacts = {"contacts": [{"name": "王经理", "phone": "+86 21 5555 0100"}]}
    url = f"/api/v1/enterprises/{enterprise_id}/contacts"
    refused = owner.put(url, json=contacts, headers={"Authorization": "Bearer not-a-key"})
    _is_invalid_credentials(refused)
    assert owner.get(url).json() == []
    assert owner.put(url, json=contacts).status_code == 200


def test_a_valid_bearer_alone_and_beside_a_session_is_the_key(
    owner: TestClient, db: Session, settings: Settings
) -> None:
    key, _ = create_api_key(db, settings, scopes=["assessments:read"])
    bearer = {"Authorization": f"Bearer {key}"}
    with TestClient(owner.app) as integrator:
        assert integrator.get("/api/v1/grants", headers=bearer).status_code == 200
    # The key speaks, not the session: an integrator has no /me, and a firm user no /grants.
    assert owner.get("/api/v1/grants", headers=bearer).status_code == 200
    assert owner.get("/api/v1/me", headers=bearer).status_code == 404


def test_the_metrics_token_is_not_excused_by_an_admin_session(
    client: TestClient, db: Session
) -> None:
    login(client, create_user(db, role="admin"))
    assert client.get("/metrics").status_code == 200
    _is_invalid_credentials(client.get("/metrics", headers={"Authorization": "Bearer wrong"}))


@pytest.mark.parametrize("path", ["/account", "/login", "/"])
def test_pages_answer_an_invalid_bearer_with_an_error_page_not_a_sign_in_loop(
    owner: TestClient, path: str
) -> None:
    page = {"Accept": "text/html"}
    assert owner.get(path, headers=page, follow_redirects=False).status_code in (200, 303)
    response = owner.get(
        path, headers={**page, "Authorization": "Bearer not-a-key"}, follow_redirects=False
    )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert "所发送的凭据无效" in response.text
    # The header of the page shows nobody signed in: the session was not used.
    assert 'action="/logout"' not in response.text


def test_a_signed_in_page_without_a_bearer_still_renders(owner: TestClient) -> None:
    response = owner.get("/account", headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 200
    assert 'action="/logout"' in response.text
