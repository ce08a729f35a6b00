"""An integrator's own operations refuse everyone else before looking at the request."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/scores?cursor=%C3%85%F4", None),
        ("GET", "/api/v1/grants?cursor=%C3%85%F4", None),
        ("POST", "/api/v1/webhooks", {}),
    ],
)
def test_a_signed_in_user_gets_404_not_a_validation_error(
    signed_in: TestClient, method: str, path: str, body: object
) -> None:
    """A malformed cursor or body from a firm's user was answered 422 (the fields checked
    before the caller), telling it more than the 404 a valid request gets."""
    response = signed_in.request(method, path, json=body)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
