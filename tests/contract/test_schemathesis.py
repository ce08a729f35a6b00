"""Fuzz every operation of the public API against its own OpenAPI document (in-process).

Checks: no server error, responses conform to their schemas, no undocumented status code,
and requests that violate the schema are rejected. Runs as an admin (who may call everything),
so the generated requests reach the handlers instead of stopping at authentication.

(Schemathesis' pytest plugin does not run under pytest 9, so the operations are driven with
its Hypothesis strategies directly, all in one app per database engine; every failing
operation is reported.)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from sqlalchemy.orm import Session

from app.kit.settings import Settings
from app.main import create_app
from tests.factories import create_enterprise, create_user, login

EXAMPLES = int(os.environ.get("ZHIZAO_FUZZ_EXAMPLES", "10"))
METHODS = ("get", "put", "post", "patch", "delete")
# Schema-valid data may still be refused: a credit code's check character, a district that
# exists, an answer that fits the questionnaire are rules JSON Schema cannot state.
EXCLUDED_CHECKS = [schemathesis.checks.positive_data_acceptance]
# Signing out without a session is a harmless no-op (204), not an authentication failure.
EXCLUDED_PER_OPERATION = {"DELETE /api/v1/session": [schemathesis.checks.ignored_auth]}


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


def test_every_operation_honours_its_contract(settings: Settings, db: Session) -> None:
    app = create_app(settings)
    failures: dict[str, str] = {}
    with TestClient(app) as client:
        login(client, create_user(db, role="admin"))
        create_enterprise(db)
        headers = {"X-CSRF-Token": client.headers["X-CSRF-Token"]}
        cookies = dict(client.cookies)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        labels = [
            (path, method)
            for path, methods in app.openapi()["paths"].items()
            for method in methods
            if method in METHODS
        ]
        assert len(labels) > 20
        for path, method in labels:
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
