"""Access-control matrix: every JSON operation × every role, on enterprise A's resources.

The operations come from the app's route table (``app.openapi()["paths"]``); each must have a
row in ``EXPECTED`` — a new route fails ``test_every_operation_is_classified`` until someone
decides who may call it. Every request carries a valid body (and a fresh If-Match where the
operation wants one), so the status reflects access, not validation.

Semantics checked: a resource the caller may not see is 404 (never 403); anonymous callers of a
protected operation get 401; an API key lacking a scope 403; officials never see one firm (404)
but get heatmaps; enterprise users and integrators get 404 on heatmaps and admin routes.

Each operation × role is its own test, so that xdist spreads them over its workers. Every worker
keeps, per engine, its own database and app for the matrix, with one world shared by the cases
that change nothing another case looks at (each call goes through a copy of the role's client,
so no cookie a response sets sticks); a case whose success does change the world
(``CHANGES_THE_WORLD``) gets a world of its own in the same database.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.enterprises import service as enterprise_service
from app.kit.db import create_db_engine, create_session_factory
from app.kit.settings import Settings
from app.main import create_app
from app.models import SCOPES, Enterprise
from tests.answers import QUICK, complete_answers, questionnaire, submit_assessment
from tests.databases import drop_postgres_database, migrated_database
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
    quick = questionnaire(QUICK)
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
        "PUT /api/v1/verification/enterprises/{enterprise_id}/flag": lambda: {
            "flagged": True,
            "reason": "no such factory",
        },
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
    role_client = world.clients[role]
    # A copy of the role's client: a cookie the response sets (sign-in) does not stick.
    client = TestClient(world.app, base_url="http://testserver", cookies=role_client.cookies)
    client.headers.update(role_client.headers)
    try:
        response = client.request(method, url_for(op, world), json=body, headers=headers)
    finally:
        client.close()
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
    "GET /api/v1/enterprises/{enterprise_id}/export.csv": row(
        401, 200, 404, 404, 404, 404, 404, 200
    ),
    "GET /api/v1/enterprises/{enterprise_id}/grants": row(401, 200, 404, 404, 404, 404, 404, 200),
    "GET /api/v1/facts": row(200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/grants": row(401, 404, 404, 200, 200, 404, 404, 404),
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
    "POST /api/v1/accounts/register": row(202, 202, 202, 202, 202, 202, 202, 202),
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
    # Only the integrator that registered a firm without users, or an admin; A has its owner.
    "POST /api/v1/enterprises/{enterprise_id}/owner-invitation": row(
        401, 404, 404, 404, 404, 404, 404, 409
    ),
    "POST /api/v1/session": row(200, 200, 200, 200, 200, 200, 200, 200),
    "POST /api/v1/webhooks": row(401, 404, 404, 201, 201, 404, 404, 404),
    "POST /api/v1/webhooks/{endpoint_id}/enable": row(401, 404, 404, 200, 404, 404, 404, 404),
    "PUT /api/v1/assessments/{assessment_id}/answers": row(401, 200, 404, 200, 404, 404, 404, 200),
    "PUT /api/v1/enterprises/{enterprise_id}/contacts": row(401, 200, 404, 404, 404, 404, 404, 200),
    "PUT /api/v1/enterprises/{enterprise_id}/facts": row(401, 200, 404, 200, 404, 404, 404, 200),
    "PUT /api/v1/verification/enterprises/{enterprise_id}": row(
        401, 404, 404, 404, 404, 200, 404, 200
    ),
    "PUT /api/v1/verification/enterprises/{enterprise_id}/flag": row(
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


#: Operations whose success changes what other cases find (a revoked key, a deleted firm, a
#: signed-out role, a submitted draft, a new grant, an endpoint's state): such a case gets a
#: world of its own.
CHANGES_THE_WORLD = {
    "DELETE /api/v1/admin/api-clients/{client_id}/keys/{key_id}",
    "DELETE /api/v1/enterprises/{enterprise_id}",
    "DELETE /api/v1/enterprises/{enterprise_id}/grants/{client_id}",
    "DELETE /api/v1/session",
    "DELETE /api/v1/webhooks/{endpoint_id}",
    "PATCH /api/v1/admin/api-clients/{client_id}",
    "POST /api/v1/admin/api-clients/{client_id}/keys",
    "POST /api/v1/admin/webhooks/{endpoint_id}/approve",
    "POST /api/v1/admin/webhooks/{endpoint_id}/disable",
    "POST /api/v1/assessments/{assessment_id}/submit",
    "POST /api/v1/enterprises/{enterprise_id}/grants",
    "POST /api/v1/session",  # signing in drops the session the caller came with
    "POST /api/v1/webhooks/{endpoint_id}/enable",
    "PUT /api/v1/verification/enterprises/{enterprise_id}",
    "PUT /api/v1/verification/enterprises/{enterprise_id}/flag",
}


#: The roles whose client carries a session cookie.
SIGNED_IN_ROLES = {"enterprise_a", "enterprise_b", "official_district", "official_city", "admin"}


def _allowed(op: str, role: str) -> set[int]:
    expected = EXPECTED[op][role]
    return expected if isinstance(expected, set) else {expected}


class Matrix:
    """The matrix's own database and app (per worker and engine), and its worlds."""

    def __init__(self, app: FastAPI, sessions: sessionmaker[Session], settings: Settings) -> None:
        self.app = app
        self.sessions = sessions
        self.settings = settings
        self.worlds: list[World] = []
        self._shared: World | None = None

    def world_for(self, op: str, role: str) -> World:
        changes = op in CHANGES_THE_WORLD and min(_allowed(op, role)) < 400
        if op.endswith(" /api/v1/session") and role not in SIGNED_IN_ROLES:
            changes = False  # no session of the role's to end or replace
        if changes:
            return self._build()
        if self._shared is None:
            self._shared = self._build()
        return self._shared

    def _build(self) -> World:
        with self.sessions() as db:
            world = build_world(self.app, db, self.settings)
        self.worlds.append(world)
        return world

    def close(self) -> None:
        for world in self.worlds:
            for client in world.clients.values():
                client.close()


@pytest.fixture(scope="session")
def matrix(
    database_url: str, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Matrix]:
    """Not the shared test database: the other tests empty it after each test."""
    engine_name = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    url, postgres_name = migrated_database(engine_name, tmp_path_factory.mktemp("matrix"))
    matrix_settings = settings.model_copy(update={"DATABASE_URL": url})
    engine = create_db_engine(url)
    app = create_app(matrix_settings)
    try:
        with TestClient(app):
            matrix = Matrix(app, create_session_factory(engine), matrix_settings)
            yield matrix
            matrix.close()
    finally:
        engine.dispose()
        if postgres_name is not None:
            drop_postgres_database(postgres_name)


CASES = [(op, role) for op in sorted(EXPECTED) for role in ROLES]


@pytest.mark.parametrize(("op", "role"), CASES, ids=[f"{op} as {role}" for op, role in CASES])
def test_access(matrix: Matrix, op: str, role: str) -> None:
    world = matrix.world_for(op, role)
    status = call(op, role, world)
    if RECORD:
        sys.stdout.write(f"MATRIX={json.dumps([op, role, status])}\n")
        return
    assert status in _allowed(op, role), f"{op} as {role}: {status}, expected {EXPECTED[op][role]}"


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


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "/api/v1/admin/api-clients", {"name": 1}),
        ("GET", "/api/v1/admin/audit-events?limit=0", None),
        ("GET", "/api/v1/heatmaps?cut=nonsense", None),
    ],
)
def test_no_role_no_operation_even_for_a_malformed_request(
    client: TestClient, db: Session, method: str, url: str, body: Any
) -> None:
    """The role guard runs before the request is validated: a firm's user sending a malformed
    request to an admin or officials' operation gets 404 (it was 422, which told the caller the
    operation exists and what it accepts)."""
    login(client, create_user(db, enterprise=create_enterprise(db)))
    assert client.request(method, url, json=body).status_code == 404
