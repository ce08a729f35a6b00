"""Fuzz every operation of the public API against its own OpenAPI document (in-process).

Checks: no server error, responses conform to their schemas, no undocumented status code,
and requests that violate the schema are rejected. Runs as an admin (who may call everything),
so the generated requests reach the handlers instead of stopping at authentication.

(Schemathesis' pytest plugin does not run under pytest 9, so the operations are driven with
its Hypothesis strategies directly, on the shared test app; one test per group of operations —
their first path segment — so that xdist spreads them; every failing operation is reported.)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from sqlalchemy.orm import Session

from app.kit.settings import Environment, Settings
from app.main import create_app
from tests.contract import formats  # noqa: F401  (registers the document's custom formats)
from tests.factories import create_enterprise, create_user, login

EXAMPLES = int(os.environ.get("ZHIZAO_FUZZ_EXAMPLES", "10"))
METHODS = ("get", "put", "post", "patch", "delete")
# Every check, positive data acceptance included: what JSON Schema cannot state (a credit
# code's check character, a cursor of this list, a past quarter) the document states as custom
# formats, whose valid values tests/contract/formats.py generates.
EXCLUDED_CHECKS: list[Any] = []
EXCLUDED_PER_OPERATION = {
    # Signing out without a session is a harmless no-op (204), not an authentication failure.
    "DELETE /api/v1/session": [schemathesis.checks.ignored_auth],
    # Which answers fit depends on the draft's questionnaire version and the firm (GET
    # /questionnaires/{id} states it per question), not on a schema one document can hold.
    "PUT /api/v1/assessments/{assessment_id}/answers": [
        schemathesis.checks.positive_data_acceptance
    ],
}


def _contract_check(
    operation: Any, headers: dict[str, str], cookies: dict[str, str], excluded: list[Any]
) -> Callable[[], None]:
    @given(case=operation.as_strategy())
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, cookies=cookies, excluded_checks=excluded)

    return check  # type: ignore[no-any-return]


def _operations() -> dict[str, list[tuple[str, str]]]:
    """(path, method) of every operation, grouped by the path's first segment after /api/v1."""
    document = create_app(
        Settings(ENV=Environment.testing, DATABASE_URL="sqlite://", SECRET_KEY="x" * 32)
    ).openapi()
    groups: dict[str, list[tuple[str, str]]] = {}
    for path, methods in document["paths"].items():
        group = path.removeprefix("/api/v1").strip("/").split("/")[0].split(".")[0] or "root"
        groups.setdefault(group, []).extend((path, m) for m in methods if m in METHODS)
    return groups


OPERATIONS = _operations()


@pytest.fixture(scope="session")
def schema(app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_the_groups_cover_the_api() -> None:
    assert sum(len(ops) for ops in OPERATIONS.values()) > 20


@pytest.mark.parametrize("group", sorted(OPERATIONS))
def test_every_operation_honours_its_contract(
    group: str, schema: Any, client: TestClient, db: Session
) -> None:
    failures: dict[str, str] = {}
    login(client, create_user(db, role="admin"))
    create_enterprise(db)
    headers = {"X-CSRF-Token": client.headers["X-CSRF-Token"]}
    cookies = dict(client.cookies)
    for path, method in OPERATIONS[group]:
        label = f"{method.upper()} {path}"
        excluded = EXCLUDED_CHECKS + EXCLUDED_PER_OPERATION.get(label, [])
        check = _contract_check(schema[path][method], headers, cookies, excluded)
        try:
            check()
        except BaseException as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures[label] = str(exc)[:3000]
    assert not failures, f"{len(failures)} operations failed: {sorted(failures)}\n\n" + "\n\n".join(
        f"{k}:\n{v}" for k, v in failures.items()
    )
