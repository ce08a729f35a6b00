"""Request body cap: a declared Content-Length and a chunked body without one both end at 413."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient

from app.kit.settings import Settings


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b" " * piece


def test_chunked_oversized_body_is_413(client: TestClient, settings: Settings) -> None:
    response = client.post(
        "/api/v1/accounts/register",
        content=_chunks(settings.MAX_BODY_BYTES + 100_000),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/content-too-large")
    assert body["status"] == 413
    assert str(settings.MAX_BODY_BYTES) in body["detail"]


def test_chunked_oversized_form_body_on_a_page_is_413(
    client: TestClient, settings: Settings
) -> None:
    response = client.post(
        "/login",
        content=_chunks(settings.MAX_BODY_BYTES + 1),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


def test_chunked_body_under_the_cap_is_read(client: TestClient) -> None:
    # A small chunked body still reaches the endpoint (here: a login with wrong credentials).
    payload = b'{"email": "nobody@example.com", "password": "wrong password"}'
    response = client.post(
        "/api/v1/session",
        content=iter([payload[:10], payload[10:]]),
        headers={"content-type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 401, response.text
