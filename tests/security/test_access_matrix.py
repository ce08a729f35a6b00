"""Access-control matrix: every JSON operation × every role, on enterprise A's resources.

The operations come from the app's route table (``app.openapi()["paths"]``); each must have a
row in ``EXPECTED`` — a new route fails ``test_every_operation_is_classified`` until someone
decides who may call it. Every request carries a valid body (and a fresh If-Match where the
operation wants one), so the status reflects access, not validation.

Semantics checked: a resource the caller may not see is 404 (never 403); anonymous callers of a
protected operation get 401; an API key lacking a scope 403; officials never see one firm (404)
but get heatmaps; enterprise users and integrators get 404 on heatmaps and admin routes.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.enterprises import service as enterprise_service
from app.kit.settings import PROJECT_ROOT, Settings
from app.models import SCOPES, Enterprise
from scoring import load_questionnaire
from tests.answers import complete_answers, submit_assessment
from tests.factories import (
    PASSWORD,
    create_api_key,
    create_enterprise,
    create_user,
    enterprise_payload,
    login,
    make_credit_code,
)

ROLES = (
    "anonymous",
    "enterprise_a",
    "enterprise_b",
    "integrator_granted",
    "integrator_ungranted",
    "official_district",
    "official_city",
    "admin",
)
#: Not JSON API operations (they have their own tests): docs and the HTML pages.
SKIPPED_PREFIXES = ("/docs", "/redoc", "/openapi.json", "/static")
SAFE = {"GET", "HEAD", "OPTIONS"}


@dataclass
class World:
    app: FastAPI
    enterprise_a: Enterprise
    clients: dict[str, TestClient]
    params: dict[str, str]
    user_a_email: str
    ungranted_client_id: str
    etag_of: Callable[[str], str]
    bodies: dict[str, Any] = field(default_factory=dict)


def _client(app: FastAPI, headers: dict[str, str] | None = None) -> TestClient:
    client = TestClient(app, base_url="http://testserver")
    client.headers.update(headers or {})
    return client


def build_world(app: FastAPI, db: Session, settings: Settings) -> World:
    a = create_enterprise(db, district_code="310115")
    b = create_enterprise(db, district_code="310104")
    users = {
        "enterprise_a": create_user(db, enterprise=a),
        "enterprise_b": create_user(db, enterprise=b),
        "official_district": create_user(db, role="official", district_code="310115"),
        "official_city": create_user(db, role="official"),
        "admin": create_user(db, role="admin"),
    }
    clients: dict[str, TestClient] = {"anonymous": _client(app)}
    for role, user in users.items():
        clients[role] = _client(app)
        login(clients[role], user)
    granted_key, granted = create_api_key(db, settings, scopes=list(SCOPES))
    ungranted_key, ungranted = create_api_key(db, settings, scopes=list(SCOPES))
    clients["integrator_granted"] = _client(app, {"Authorization": f"Bearer {granted_key}"})
    clients["integrator_ungranted"] = _client(app, {"Authorization": f"Bearer {ungranted_key}"})
    owner = clients["enterprise_a"]
    assert owner.post(
        f"/api/v1/enterprises/{a.id}/grants", json={"client_id": str(granted.id)}
    ).status_code in (200, 201)  # type: ignore[attr-defined]
    quick = load_questionnaire(PROJECT_ROOT / "questionnaires" / "quick-check.yaml")
    submitted = submit_assessment(owner, a, quick)
    draft = owner.post(
        f"/api/v1/enterprises/{a.id}/assessments", json={"questionnaire_id": "quick-check"}
    )
    assert draft.status_code == 201, draft.text
    # Fully answered, so that submitting it is allowed (the status then reflects access).
    filled = owner.put(
        f"/api/v1/assessments/{draft.json()['id']}/answers",
        json={"answers": complete_answers(quick, enterprise_service.scoring_profile(a))},
        headers={"If-Match": draft.headers["ETag"]},
    )
    assert filled.status_code == 200, filled.text
    hook = clients["integrator_granted"].post(
        "/api/v1/webhooks", json={"url": "https://hooks.example.com/zhizao"}
    )
    assert hook.status_code == 201, hook.text
    admin = clients["admin"]
    key_id = admin.get(f"/api/v1/admin/api-clients/{granted.id}").json()["keys"][0]["key_id"]  # type: ignore[attr-defined]
    programme = clients["anonymous"].get("/api/v1/subsidies").json()
    programme_id = (programme["items"] if isinstance(programme, dict) else programme)[0]["id"]

    def etag_of(assessment_id: str) -> str:
        return str(admin.get(f"/api/v1/assessments/{assessment_id}").headers.get("ETag", '"x"'))

    return World(
        app=app,
        enterprise_a=a,
        clients=clients,
        params={
            "enterprise_id": str(a.id),
            "submitted_id": str(submitted["assessment_id"]),
            "draft_id": str(draft.json()["id"]),
            "endpoint_id": str(hook.json()["id"]),
            "client_id": str(granted.id),  # type: ignore[attr-defined]
            "key_id": key_id,
            "questionnaire_id": "quick-check",
            "programme_id": str(programme_id),
        },
        user_a_email=users["enterprise_a"].email,
        ungranted_client_id=str(ungranted.id),  # type: ignore[attr-defined]
        etag_of=etag_of,
    )


#: Which of A's assessments an operation's ``{assessment_id}`` means.
DRAFT_OPERATIONS = {
    "PUT /api/v1/assessments/{assessment_id}/answers",
    "POST /api/v1/assessments/{assessment_id}/submit",
}
IF_MATCH_OPERATIONS = DRAFT_OPERATIONS


CONSENT = {
    "given_by": "张经理 (总经理)",
    "given_at": "2026-11-20T09:00:00+08:00",
    "method": "signed_form",
}


def body_for(op: str, role: str, world: World) -> Any:
    """A valid body for the operations that take one."""
    bodies: dict[str, Callable[[], Any]] = {
        "POST /api/v1/accounts/register": lambda: {
            "enterprise": enterprise_payload(),
            "user": {"email": f"new-{make_credit_code()}@example.com", "password": PASSWORD},
        },
        "POST /api/v1/session": lambda: {"email": world.user_a_email, "password": PASSWORD},
        "POST /api/v1/enterprises": lambda: enterprise_payload(
            **({"consent": CONSENT} if role.startswith("integrator") else {})
        ),
        "PUT /api/v1/enterprises/{enterprise_id}/facts": lambda: {"facts": {}},
        "POST /api/v1/enterprises/{enterprise_id}/assessments": lambda: {
            "questionnaire_id": "quick-check"
        },
        "PUT /api/v1/assessments/{assessment_id}/answers": lambda: {"answers": {}},
        "POST /api/v1/webhooks": lambda: {"url": "https://hooks.example.com/other"},
        "POST /api/v1/enterprises/{enterprise_id}/grants": lambda: {
            "client_id": world.ungranted_client_id
        },
        "POST /api/v1/admin/api-clients": lambda: {
            "name": "Another Integrator",
            "scopes": ["assessments:read"],
        },
        "PATCH /api/v1/admin/api-clients/{client_id}": lambda: {"disabled": False},
        "POST /api/v1/admin/api-clients/{client_id}/keys": lambda: {},
        "PUT /api/v1/verification/enterprises/{enterprise_id}": lambda: {"verified": True},
        "PUT /api/v1/enterprises/{enterprise_id}/contacts": lambda: {
            "contacts": [{"name": "王经理", "phone": "+86 21 5555 0100"}]
        },
        "DELETE /api/v1/enterprises/{enterprise_id}": lambda: {
            "confirm_credit_code": world.enterprise_a.credit_code
        },
    }
    make = bodies.get(op)
    return make() if make is not None else None


def url_for(op: str, world: World) -> str:
    path = op.split(" ", 1)[1]
    params = dict(world.params)
    params["assessment_id"] = params["draft_id" if op in DRAFT_OPERATIONS else "submitted_id"]
    return path.format(**params)


def call(op: str, role: str, world: World) -> int:
    method = op.split(" ", 1)[0]
    headers: dict[str, str] = {}
    if op in IF_MATCH_OPERATIONS:
        headers["If-Match"] = world.etag_of(world.params["draft_id"])
    body = body_for(op, role, world)
    response = world.clients[role].request(method, url_for(op, world), json=body, headers=headers)
    return response.status_code


def operations(app: FastAPI) -> list[str]:
    ops = []
    for path, items in app.openapi()["paths"].items():
        if path.startswith(SKIPPED_PREFIXES):
            continue
        for method in items:
            ops.append(f"{method.upper()} {path}")
    return sorted(ops)


# --- the matrix ----------------------------------------------------------------------------------


def row(*statuses: int | set[int]) -> dict[str, int | set[int]]:
    """Expected statuses in the order of ``ROLES``."""
    assert len(statuses) == len(ROLES)
    return dict(zip(ROLES, statuses, strict=True))


# Columns: anonymous, enterprise A, enterprise B, integrator granted on A (all scopes),
# integrator without a grant, district official (A's district), city official, admin.
# Public operations answer everyone alike; /api/v1/session DELETE is a no-op without a session;
# /metrics accepts admin sessions only (a bearer key is no credential there: 401). Officials
# confirm firms of their own district only (verification); city officials get 404 there.
EXPECTED: dict[str, dict[str, int | set[int]]] = {
    "DELETE /api/v1/admin/api-clients/{client_id}/keys/{key_id}": row(
        401, 404, 404, 404, 404, 404, 404, 200
    ),
    "DELETE /api/v1/enterprises/{enterprise_id}": row(401, 200, 404, 404, 404, 404, 404, 200),
    "DELETE /api/v1/enterprises/{enterprise_id}/grants/{client_id}": row(
        401, 200, 404, 404, 404, 404, 404, 200
    ),
    "DELETE /api/v1/session": row(204, 204, 204, 204, 204, 204, 204, 204),
    "DELETE /api/v1/webhooks/{endpoint_id}": row(401, 404, 404, 204, 404, 404, 404, 404),
    "GET /api/v1/admin/api-clients": row(401, 404, 404, 404, 404, 404, 404, 200),
    "GET /api/v1/admin/api-clients/{client_id}": row(401, 404, 404, 404, 404, 404, 404, 200),
    "GET /api/v1/admin/audit-events": row(401, 404, 404, 404, 404, 404, 404, 200),
    "GET /api/v1/admin/webhooks": row(401, 404, 404, 404, 404, 404, 404, 200),
    "GET /api/v1/assessments/{assessment_id}": row(401, 200, 404, 200, 404, 404, 404, 200),
    "GET /api/v1/assessments/{assessment_id}/report.pdf": row(
        401, 200, 404, 200, 404, 404, 404, 200
    ),
    "GET /api/v1/assessments/{assessment_id}/result": row(401, 200, 404, 200, 404, 404, 404, 200),
    "GET /api/v1/assessments/{assessment_id}/subsidies": row(
        401, 200, 404, 200, 404, 404, 404, 200
    ),
    "GET /api/v1/enterprises/{enterprise_id}": row(401, 200, 404, 200, 404, 404, 404, 200),
    "GET /api/v1/enterprises/{enterprise_id}/assessments": row(
        401, 200, 404, 200, 404, 404, 404, 200
    ),
    "GET /api/v1/enterprises/{enterprise_id}/contacts": row(401, 200, 404, 404, 404, 404, 404, 200),
    "GET /api/v1/enterprises/{enterprise_id}/export": row(401, 200, 404, 404, 404, 404, 404, 200),
    "GET /api/v1/enterprises/{enterprise_id}/grants": row(401, 200, 404, 404, 404, 404, 404, 200),
    "GET /api/v1/facts": row(200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/heatmaps": row(401, 404, 404, 404, 404, 200, 200, 200),
    "GET /api/v1/heatmaps.csv": row(401, 404, 404, 404, 404, 200, 200, 200),
    "GET /api/v1/heatmaps/options": row(401, 404, 404, 404, 404, 200, 200, 200),
    "GET /api/v1/integrators": row(401, 200, 200, 404, 404, 404, 404, 200),
    "GET /api/v1/me": row(401, 200, 200, 404, 404, 200, 200, 200),
    "GET /api/v1/notices": row(401, 404, 404, 200, 200, 404, 404, 404),
    "GET /api/v1/questionnaires": row(200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/questionnaires/{questionnaire_id}": row(200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/scores": row(401, 404, 404, 200, 200, 404, 404, 404),
    "GET /api/v1/subsidies": row(200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/subsidies/{programme_id}": row(200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/verification/enterprises": row(401, 404, 404, 404, 404, 200, 404, 200),
    "GET /api/v1/webhooks": row(401, 404, 404, 200, 200, 404, 404, 404),
    "GET /api/v1/webhooks/{endpoint_id}": row(401, 404, 404, 200, 404, 404, 404, 404),
    "GET /api/v1/webhooks/{endpoint_id}/deliveries": row(401, 404, 404, 200, 404, 404, 404, 404),
    "GET /healthz": row(200, 200, 200, 200, 200, 200, 200, 200),
    "GET /metrics": row(401, 404, 404, 401, 401, 404, 404, 200),
    "GET /readyz": row(200, 200, 200, 200, 200, 200, 200, 200),
    "PATCH /api/v1/admin/api-clients/{client_id}": row(401, 404, 404, 404, 404, 404, 404, 200),
    "POST /api/v1/accounts/register": row(201, 201, 201, 201, 201, 201, 201, 201),
    "POST /api/v1/admin/api-clients": row(401, 404, 404, 404, 404, 404, 404, 201),
    "POST /api/v1/admin/api-clients/{client_id}/keys": row(401, 404, 404, 404, 404, 404, 404, 201),
    "POST /api/v1/admin/webhooks/{endpoint_id}/approve": row(
        401, 404, 404, 404, 404, 404, 404, 200
    ),
    "POST /api/v1/admin/webhooks/{endpoint_id}/disable": row(
        401, 404, 404, 404, 404, 404, 404, 200
    ),
    "POST /api/v1/assessments/{assessment_id}/submit": row(401, 200, 404, 200, 404, 404, 404, 200),
    "POST /api/v1/enterprises": row(401, 404, 404, 201, 201, 404, 404, 201),
    "POST /api/v1/enterprises/{enterprise_id}/assessments": row(
        401, 201, 404, 201, 404, 404, 404, 201
    ),
    "POST /api/v1/enterprises/{enterprise_id}/grants": row(401, 201, 404, 404, 404, 404, 404, 201),
    "POST /api/v1/session": row(200, 200, 200, 200, 200, 200, 200, 200),
    "POST /api/v1/webhooks": row(401, 404, 404, 201, 201, 404, 404, 404),
    "POST /api/v1/webhooks/{endpoint_id}/enable": row(401, 404, 404, 200, 404, 404, 404, 404),
    "PUT /api/v1/assessments/{assessment_id}/answers": row(401, 200, 404, 200, 404, 404, 404, 200),
    "PUT /api/v1/enterprises/{enterprise_id}/contacts": row(401, 200, 404, 404, 404, 404, 404, 200),
    "PUT /api/v1/enterprises/{enterprise_id}/facts": row(401, 200, 404, 200, 404, 404, 404, 200),
    "PUT /api/v1/verification/enterprises/{enterprise_id}": row(
        401, 404, 404, 404, 404, 200, 404, 200
    ),
}

RECORD = os.environ.get("ZHIZAO_RECORD_MATRIX") == "1"


def test_every_operation_is_classified(app: FastAPI) -> None:
    missing = [op for op in operations(app) if op not in EXPECTED]
    assert not missing, "Operations without a row in EXPECTED (classify them): " + ", ".join(
        missing
    )
    stale = [op for op in EXPECTED if op not in operations(app)]
    assert not stale, "Rows in EXPECTED for operations that no longer exist: " + ", ".join(stale)
    for op, row in EXPECTED.items():
        assert set(row) == set(ROLES), f"{op}: give every role an expected status"


@pytest.fixture
def world_factory(
    app: FastAPI, db: Session, settings: Settings, client: TestClient
) -> Iterator[Callable[[], World]]:
    made: list[World] = []

    def make() -> World:
        world = build_world(app, db, settings)
        made.append(world)
        return world

    yield make
    # The app (and its PDF cache) is shared by the session's tests: leave no PDFs behind.
    renderer = getattr(app.state, "report_renderer", None)
    for world in made:
        for c in world.clients.values():
            c.close()
        if renderer is not None:
            renderer.forget({uuid.UUID(world.params["submitted_id"])})


def test_matrix(world_factory: Callable[[], World], app: FastAPI) -> None:
    world = world_factory()
    failures: list[str] = []
    recorded: dict[str, dict[str, int]] = {}
    for op in operations(app):
        recorded[op] = {}
        for role in ROLES:
            status = call(op, role, world)
            recorded[op][role] = status
            expected = EXPECTED.get(op, {}).get(role)
            allowed = expected if isinstance(expected, set) else {expected}
            if not RECORD and status not in allowed:
                failures.append(f"{op} as {role}: {status}, expected {expected}")
            if op.split(" ", 1)[0] not in SAFE and status < 400:
                # A successful write may have changed what the next caller finds: start over.
                world = world_factory()
    if RECORD:
        import json
        import sys

        sys.stdout.write("MATRIX=" + json.dumps(recorded) + "\n")
    assert not failures, "\n".join(failures)


def test_key_without_the_scope_is_403(client: TestClient, db: Session, settings: Settings) -> None:
    """With the firm's grant but without the scope an operation needs: 403, not 404."""
    enterprise = create_enterprise(db)
    key, api_client = create_api_key(db, settings, scopes=["reports:read"])
    owner = _client(client.app)  # type: ignore[arg-type]
    login(owner, create_user(db, enterprise=enterprise))
    assert (
        owner.post(
            f"/api/v1/enterprises/{enterprise.id}/grants", json={"client_id": str(api_client.id)}
        ).status_code
        == 201
    )  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {key}"}
    for method, url, body in (
        ("GET", f"/api/v1/enterprises/{enterprise.id}", None),
        ("PUT", f"/api/v1/enterprises/{enterprise.id}/facts", {"facts": {}}),
        (
            "POST",
            f"/api/v1/enterprises/{enterprise.id}/assessments",
            {"questionnaire_id": "quick-check"},
        ),
        ("GET", "/api/v1/scores", None),
    ):
        response = client.request(method, url, json=body, headers=headers)
        assert response.status_code == 403, (method, url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
