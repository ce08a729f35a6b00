"""What the guards promise in the API's own description: an operation that refuses a key
without its scope says so in its OpenAPI responses."""

from __future__ import annotations

import re
import uuid

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.kit.settings import Settings
from tests.factories import create_api_key


def test_every_operation_that_refuses_a_key_for_its_scope_documents_the_403(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """Eleven operations (an answers PUT, a result, the PDF, …) answered 403
    ``insufficient-scope`` without listing it, so a generated client raised "unexpected status"
    instead of returning the problem."""
    key, _ = create_api_key(db, settings, scopes=["reports:read"])
    documented = client.get("/openapi.json").json()["paths"]
    refused: list[tuple[str, str]] = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, APIRoute) or not route.path.startswith("/api/v1/"):
            continue
        # The scope is checked before the path's values are: any value will do.
        path = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), route.path)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            response = client.request(method, path, headers={"Authorization": f"Bearer {key}"})
            if response.status_code == 403:
                assert response.json()["type"].endswith("/insufficient-scope")
                refused.append((method, route.path))
                responses = documented[route.path][method.lower()]["responses"]
                assert "403" in responses, (method, route.path)
    assert len(refused) >= 11, refused
