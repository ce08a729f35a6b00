"""The OpenAPI document tells the truth about what the service answers (the schemathesis run
in test_schemathesis.py fuzzes the rest)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.kit.cursor import CURSOR_PATTERN
from app.models import Enterprise
from tests.factories import enterprise_payload

METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture(scope="module")
def document(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_api_operation_documents_503_and_429(document: dict[str, Any]) -> None:
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in _operations(document)
        if path.startswith("/api/v1/") and not {"429", "503"} <= set(operation["responses"])
    ]
    assert missing == []


def test_metrics_documents_who_may_not_read_it(document: dict[str, Any]) -> None:
    assert {"401", "404", "503"} <= set(document["paths"]["/metrics"]["get"]["responses"])


def test_every_cursor_parameter_states_its_format(document: dict[str, Any]) -> None:
    cursors = [
        (f"{method.upper()} {path}", parameter["schema"])
        for path, method, operation in _operations(document)
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "cursor"
    ]
    assert len(cursors) > 5
    for label, schema in cursors:
        text = next(s for s in schema.get("anyOf", [schema]) if s.get("type") == "string")
        assert text.get("pattern") == CURSOR_PATTERN, label


def test_a_405_allows_every_method_of_the_path(
    client: TestClient, document: dict[str, Any]
) -> None:
    wrong: dict[str, tuple[str, str]] = {}
    for path, item in document["paths"].items():
        documented = {m.upper() for m in item if m in METHODS}
        absent = next(m for m in ("PATCH", "PUT", "DELETE", "POST") if m not in documented)
        url = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
        response = client.request(absent, url)
        allowed = {m.strip() for m in response.headers.get("allow", "").split(",")}
        if response.status_code != 405 or allowed - {"HEAD"} != documented:
            wrong[path] = (str(response.status_code), response.headers.get("allow", ""))
    assert wrong == {}


@pytest.mark.parametrize("revenue", [45_000_000, 45_000_000.5, "45000000", "45000000.50"])
def test_every_revenue_encoding_the_schema_admits_is_accepted(
    client: TestClient, db: Session, revenue: object
) -> None:
    body = {
        "enterprise": enterprise_payload(annual_revenue_cny=revenue),
        "user": {"email": "owner@example.com", "password": "a long enough password"},
    }
    response = client.post("/api/v1/accounts/register", json=body)
    # Registration answers 202 alike for a new and a taken e-mail (no enumeration): the firm it
    # created shows that the revenue was accepted as sent.
    assert response.status_code == 202, response.text
    stored = db.scalars(select(Enterprise.annual_revenue_cny)).one()
    assert stored == Decimal(str(revenue))
