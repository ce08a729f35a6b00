"""Hostile input answers a 4xx naming the field on both engines, never a 500.

U+0000 in text reached PostgreSQL (psycopg refuses it: 500) while SQLite stored it; a cursor
with an out-of-range or non-integer position overflowed the query (500 on either engine).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, get_args, get_origin

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from pydantic import Field, Strict, ValidationError
from sqlalchemy.orm import Session

from app.kit.schemas import RequestModel, Text
from app.kit.settings import Settings
from tests.factories import (
    create_api_key,
    create_enterprise,
    create_user,
    enterprise_payload,
    login,
)

CONSENT = {
    "given_by": "张经理 (总经理)",
    "given_at": "2026-11-20T09:00:00+08:00",
    "method": "signed_form",
    "reference": "合同 2026-118",
}


def _bearer(db: Session, settings: Settings) -> dict[str, str]:
    key, _client = create_api_key(db, settings)
    return {"Authorization": f"Bearer {key}"}


def _fields(response: object) -> list[str]:
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    return [e["field"] for e in response.json()["errors"]]  # type: ignore[attr-defined]


class TestControlCharacters:
    @pytest.mark.parametrize(
        ("patch", "field"),
        [
            ({"name": "上海\x00示例精密机械有限公司"}, "body.name"),
            ({"consent": CONSENT | {"given_by": "张\x00经理"}}, "body.consent.given_by"),
            ({"consent": CONSENT | {"reference": "合同\x00"}}, "body.consent.reference"),
            ({"name": "上海示例\x1b[31m机械有限公司"}, "body.name"),
        ],
    )
    def test_integrator_registration_names_the_field(
        self, client: TestClient, db: Session, settings: Settings, patch: dict, field: str
    ) -> None:
        body = enterprise_payload() | {"consent": CONSENT} | patch
        response = client.post("/api/v1/enterprises", json=body, headers=_bearer(db, settings))
        assert _fields(response) == [field]

    def test_webhook_url_with_nul_names_the_field(
        self, client: TestClient, db: Session, settings: Settings
    ) -> None:
        response = client.post(
            "/api/v1/webhooks",
            json={"url": "https://hooks.example.com/\x00zhizao"},
            headers=_bearer(db, settings),
        )
        assert _fields(response) == ["body.url"]

    def test_registration_names_the_nested_field(self, client: TestClient) -> None:
        body = {
            "enterprise": enterprise_payload(name="示例\x00有限公司"),
            "user": {"email": "a@example.com", "password": "long enough password"},
        }
        response = client.post("/api/v1/accounts/register", json=body)
        assert _fields(response) == ["body.enterprise.name"]

    def test_a_flag_reason_with_nul_names_the_field(self, client: TestClient, db: Session) -> None:
        """The verification bodies were plain models: a NUL in the reason reached PostgreSQL
        (500 there) and was stored on SQLite."""
        firm = create_enterprise(db, district_code="310115")
        login(client, create_user(db, role="official", district_code="310115"))
        response = client.put(
            f"/api/v1/verification/enterprises/{firm.id}/flag",
            json={"flagged": True, "reason": "名称\x00可疑"},
        )
        assert _fields(response) == ["body.reason"]

    def test_text_is_nfc_normalised_and_keeps_tabs_and_newlines(
        self, client: TestClient, db: Session, settings: Settings
    ) -> None:
        decomposed = "Cafe\u0301 Precision Ltd"  # e + combining acute accent
        body = enterprise_payload(name=decomposed) | {
            "consent": CONSENT | {"reference": "line 1\nline 2\tend"}
        }
        response = client.post("/api/v1/enterprises", json=body, headers=_bearer(db, settings))
        assert response.status_code == 201, response.text
        assert response.json()["name"] == "Caf\u00e9 Precision Ltd"


def _request_models() -> list[type[RequestModel]]:
    from app.main import create_app

    create_app()  # every domain's routes, so every request model, imported
    found: list[type[RequestModel]] = []
    todo = list(RequestModel.__subclasses__())
    while todo:
        model = todo.pop()
        found.append(model)
        todo.extend(model.__subclasses__())
    return found


def _unbounded_strings(schema: dict[str, Any], path: str) -> list[str]:
    if schema.get("type") == "string":
        bounded = "maxLength" in schema or "enum" in schema or "const" in schema
        return [] if bounded or schema.get("format") in {"date-time", "uuid"} else [path]
    found: list[str] = []
    for name, sub in schema.get("properties", {}).items():
        found += _unbounded_strings(sub, f"{path}.{name}")
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            found += _unbounded_strings(sub, path)
    if isinstance(schema.get("items"), dict):
        found += _unbounded_strings(schema["items"], f"{path}[]")
    return found


class TestQueryStrings:
    """A control character in a query parameter reached PostgreSQL (500 there) from the admin
    console's filters and the verification list's district filter; refused callers still get
    their 404 first (the access matrix), so the check is the route's, after its guard."""

    @pytest.mark.parametrize(
        ("url", "field"),
        [
            ("/admin/users?email=a%00b", "query.email"),
            ("/admin/audit?action=%00&actor_id=admin", "query.action"),
            ("/admin/audit?actor_id=x%00", "query.actor_id"),
            ("/admin/outbox?to=x%1B", "query.to"),
        ],
    )
    def test_a_console_filter_with_a_control_character_is_refused(
        self, client: TestClient, db: Session, url: str, field: str
    ) -> None:
        """The console names the field on the page (``kit.web.filters``), whatever the
        client accepts: it is a page, not an API."""
        login(client, create_user(db, role="admin"))
        for accept in ("*/*", "text/html"):
            page = client.get(url, headers={"accept": accept})
            assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
            name = field.removeprefix("query.")
            invalid = BeautifulSoup(page.text, "html.parser").select("[aria-invalid=true]")
            assert [tag["name"] for tag in invalid] == [name]

    def test_the_district_filter_is_a_district_code(self, client: TestClient, db: Session) -> None:
        login(client, create_user(db, role="admin"))
        bad = client.get("/api/v1/verification/enterprises?district_code=a%00b")
        assert _fields(bad) == ["query.district_code"]
        good = client.get("/api/v1/verification/enterprises?district_code=310115")
        assert good.status_code == 200

    def test_a_key_id_is_a_key_id(
        self, client: TestClient, db: Session, settings: Settings
    ) -> None:
        """A NUL in the key id of a revocation (the admin API's and the console's) reached
        PostgreSQL (500 there); a key id has the shape keys are issued with."""
        _key, integrator = create_api_key(db, settings)
        client_id = integrator.id  # type: ignore[attr-defined]
        csrf = login(client, create_user(db, role="admin"))
        api = f"/api/v1/admin/api-clients/{client_id}/keys/a%00b"
        assert _fields(client.delete(api)) == ["path.key_id"]
        page = client.post(
            f"/admin/clients/{client_id}/keys/a%00b/revoke",
            data={"csrf_token": csrf},
            headers={"accept": "text/html"},
        )
        # A page's address with an id that cannot be one is a page not found (the API names it).
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        unknown = client.delete(f"/api/v1/admin/api-clients/{client_id}/keys/{'0' * 16}")
        assert unknown.status_code == 404

    def test_tabs_and_chinese_pass(self, client: TestClient, db: Session) -> None:
        login(client, create_user(db, role="admin"))
        response = client.get("/admin/users", params={"email": "张三\t"})
        assert response.status_code == 200


def test_every_request_body_is_a_request_model() -> None:
    """Only a RequestModel cleans its strings (control characters, NFC) and refuses unknown
    fields: a body of another kind lets a NUL through to the database."""
    from app.main import create_app

    bodies = {
        (*sorted(route.methods), route.path): route.body_field.field_info.annotation  # type: ignore[attr-defined]
        for route in create_app().routes
        if getattr(route, "body_field", None) is not None
    }
    assert len(bodies) >= 10  # the routes were found
    assert {
        route: model
        for route, model in bodies.items()
        if not (isinstance(model, type) and issubclass(model, RequestModel))
    } == {}


def test_every_request_boolean_is_json_true_or_false() -> None:
    """A number where a yes/no is due was read as one: {"verified": 1.0000000000000000001}
    confirmed a firm. Every boolean of a request body is kit.schemas.JsonBool (strict)."""
    models = _request_models()
    lax = [
        f"{model.__name__}.{name}"
        for model in models
        for name, field in model.model_fields.items()
        if _lax_boolean(field.annotation, strict=_strict(field.metadata))
    ]
    assert len(models) > 20 and lax == []


def _strict(metadata: Sequence[object]) -> bool:
    return any(isinstance(m, Strict) and m.strict for m in metadata)


def _lax_boolean(annotation: object, *, strict: bool) -> bool:
    """Whether ``annotation`` holds a ``bool`` that pydantic validates in lax mode."""
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        return _lax_boolean(base, strict=strict or _strict(metadata))
    if annotation is bool:
        return not strict
    return any(_lax_boolean(arg, strict=False) for arg in get_args(annotation))


def test_every_request_string_is_length_bounded() -> None:
    models = _request_models()
    assert len(models) > 20
    unbounded = [
        hole
        for model in models
        for hole in _unbounded_strings(
            model.model_json_schema(ref_template="{model}"), model.__name__
        )
    ]
    assert unbounded == []


def test_request_models_clean_every_string_at_any_depth() -> None:
    class Body(RequestModel):
        name: Annotated[Text, Field(max_length=5)]
        facts: dict[str, Any] = {}

    assert Body(name=" e\u0301\r\n ", facts={"k": ["a\r\nb"]}).model_dump() == {
        "name": "\u00e9",
        "facts": {"k": ["a\nb"]},
    }
    for bad in ({"name": "a\x00"}, {"name": "ok", "facts": {"k": ["\x07"]}}, {"name": "\ud800"}):
        with pytest.raises(ValidationError) as caught:
            Body(**bad)
        assert "control characters" in str(caught.value)
    with pytest.raises(ValidationError, match="at most 5 characters"):
        Body(name="e\u0301" * 6)  # 12 code points as typed, 6 characters in NFC


class TestCursors:
    @pytest.mark.parametrize(
        "cursor",
        [
            "WzE5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5XQ==",  # [19999999999999999999999999]
            "WzkyMjMzNzIwMzY4NTQ3NzU4MDhd",  # [9223372036854775808]: 2^63, one past bigint
            "W3RydWVd",  # [true]
            "WzEuNV0",  # [1.5]
        ],
    )
    def test_the_feed_names_the_cursor(
        self, client: TestClient, db: Session, settings: Settings, cursor: str
    ) -> None:
        response = client.get(
            "/api/v1/scores", params={"cursor": cursor}, headers=_bearer(db, settings)
        )
        assert _fields(response) == ["query.cursor"]

    def test_the_audit_trail_names_the_cursor(self, client: TestClient, db: Session) -> None:
        login(client, create_user(db, role="admin"))
        response = client.get(
            "/api/v1/admin/audit-events", params={"cursor": "WzkyMjMzNzIwMzY4NTQ3NzU4MDhd"}
        )
        assert _fields(response) == ["query.cursor"]

    def test_the_audit_trail_reads_up_to_its_largest_id(
        self, client: TestClient, db: Session
    ) -> None:
        """The trail's ids are INTEGER: 2^31 - 1 is a cursor, one more is refused (it was a 500
        on PostgreSQL, "integer out of range", while the codec allowed any BIGINT)."""
        login(client, create_user(db, role="admin"))
        largest = "WzIxNDc0ODM2NDdd"  # [2147483647]
        response = client.get("/api/v1/admin/audit-events", params={"cursor": largest})
        assert response.status_code == 200, response.text
        past = "WzIxNDc0ODM2NDhd"  # [2147483648]
        response = client.get("/api/v1/admin/audit-events", params={"cursor": past})
        assert _fields(response) == ["query.cursor"]

    def test_a_feed_position_past_the_end_is_refused(
        self, client: TestClient, db: Session, settings: Settings
    ) -> None:
        """The feed is numbered per integrator: a position it never issued answers 422 (not 500,
        not an empty page that would hide an old cursor's skipped entries)."""
        last = "WzkyMjMzNzIwMzY4NTQ3NzU4MDdd"  # [9223372036854775807]
        response = client.get(
            "/api/v1/scores", params={"cursor": last}, headers=_bearer(db, settings)
        )
        assert _fields(response) == ["query.cursor"]
