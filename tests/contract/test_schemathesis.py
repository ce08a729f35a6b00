"""Fuzz every operation of the public API against its own OpenAPI document (in-process), with
every check schemathesis has (the CLI's ``--checks all``), as each role, on both engines.

Roles: anonymous, a firm's owner, its district's official, an admin, and an integrator holding
every scope and the firm's grant, each in a world of its own (the access matrix's
``build_world``). Which role may call what is the access matrix's ``EXPECTED``
(tests/security/test_access_matrix.py):

- an operation the role may call is fuzzed in both modes. Schema-valid requests (positive mode)
  go to the world's real resources — its firm, its draft (with the draft's current
  ``If-Match``), its endpoint — so that they reach the handlers; schema-invalid ones (negative
  mode) are generated whole;
- an operation the role may not call is fuzzed too, with fewer examples, and every answer must
  be the matrix's refusal (401 or 404), whatever the request holds: the guard runs before
  validation and existence stays private.

What JSON Schema cannot state the document states as custom formats, whose valid values
tests/contract/formats.py generates, so that "schema-valid data is accepted" holds everywhere.

(Schemathesis' pytest plugin does not run under pytest 9, so the operations are driven with its
Hypothesis strategies directly; one test per role and group of operations, so that xdist spreads
them; every failing operation is reported.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
import schemathesis.specs.openapi.checks as openapi_checks
from fastapi import FastAPI
from hypothesis import HealthCheck, given, reject
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from hypothesis.internal.conjecture import providers as hypothesis_providers
from hypothesis.internal.constants_ast import Constants
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode
from schemathesis.python import asgi
from sqlalchemy.orm import Session

from app.kit.settings import Settings
from app.questionnaires.catalog import QuestionnaireCatalog
from tests.contract import formats  # registers the document's custom formats on import
from tests.security.test_access_matrix import (
    CONSENT,
    DRAFT_OPERATIONS,
    EXPECTED,
    SKIPPED_PREFIXES,
    World,
    build_world,
    url_for,
)

#: Examples per operation and mode for a role that may call it, and for one that may not (a
#: refusal comes from the guard, before anything the request holds is looked at). Chosen so
#: that the whole contract suite stays near two minutes per engine on two cores.
EXAMPLES = 8
REFUSED_EXAMPLES = 2
ROLES = ("anonymous", "enterprise_a", "official_district", "admin", "integrator_granted")
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)

# --- checks ---------------------------------------------------------------------------------------

#: ``--checks all``: every check schemathesis registers for OpenAPI.
ALL_CHECKS = [check for check in schemathesis.checks.CHECKS.get_all() if callable(check)]
assert openapi_checks.positive_data_acceptance in ALL_CHECKS
assert openapi_checks.ignored_auth in ALL_CHECKS

ANSWERS = "PUT /api/v1/assessments/{assessment_id}/answers"


def answers_fit_or_accepted(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """Positive data acceptance for PUT answers. Which answers fit depends on the draft's
    questionnaire version and the firm (GET /questionnaires/{id} states it per question), not
    on a schema one document can hold: schema-valid answers are accepted, or refused with 422
    naming only answers and KPIs (``body.answers.<id>``, ``body.kpis.<id>``)."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code == 422:
        fields = [error["field"] for error in response.json()["errors"]]
        assert fields, response.text
        assert all(f.startswith(("body.answers.", "body.kpis.")) for f in fields), fields
        return None
    assert response.status_code < 400 or response.status_code in {401, 403, 404, 409, 429}, (
        response.status_code,
        response.text,
    )
    return None


#: Checks replaced or not applicable, per operation, each with its reason.
EXCLUDED: dict[str, list[Any]] = {
    # Signing out without a session is a harmless no-op (204), not an authentication failure.
    "DELETE /api/v1/session": [openapi_checks.ignored_auth],
    # Replaced by answers_fit_or_accepted (see its docstring).
    ANSWERS: [openapi_checks.positive_data_acceptance],
}
ADDITIONAL: dict[str, list[Any]] = {ANSWERS: [answers_fit_or_accepted]}

# --- operations and roles -------------------------------------------------------------------------


def _refusals(op: str, role: str) -> set[int]:
    expected = EXPECTED[op][role]
    return expected if isinstance(expected, set) else {expected}


def _may_call(op: str, role: str) -> bool:
    return min(_refusals(op, role)) < 400


#: Operations per test: each test builds a world, and xdist spreads the tests.
CHUNK = 12
REFUSED_CHUNK = 40
FUZZED = sorted(
    (op for op in EXPECTED if not op.split(" ", 1)[1].startswith(SKIPPED_PREFIXES)),
    # Deletions last, so that the other operations find the world whole.
    key=lambda op: (op.startswith("DELETE"), op),
)


def _calls() -> dict[tuple[str, str], list[str]]:
    """(role, part) → the operations of one test: those the role may call, CHUNK at a time
    (parts ``1``, ``2``, ...), then those it may not (parts ``refused-1``, ...)."""
    calls: dict[tuple[str, str], list[str]] = {}
    for role in ROLES:
        allowed = [op for op in FUZZED if _may_call(op, role)]
        refused = [op for op in FUZZED if not _may_call(op, role)]
        for start in range(0, len(allowed), CHUNK):
            calls[(role, f"{start // CHUNK + 1}")] = allowed[start : start + CHUNK]
        for start in range(0, len(refused), REFUSED_CHUNK):
            calls[(role, f"refused-{start // REFUSED_CHUNK + 1}")] = refused[
                start : start + REFUSED_CHUNK
            ]
    return calls


CALLS = _calls()


def _negative(case: schemathesis.Case, location: ParameterLocation) -> bool:
    meta = case.meta
    return (
        meta is not None
        and location in meta.components
        and meta.components[location].mode.is_negative
    )


def _refused_per_resource(op: str) -> bool:
    """Firm-level operations refuse per resource (``may_see_enterprise``: 404 for a firm or
    assessment the caller may not see), which needs a well-formed id: a malformed request
    names no resource, so its 422 reveals none. Not a defect."""
    return "{enterprise_id}" in op or "{assessment_id}" in op


def _sends_credentials(case: schemathesis.Case) -> bool:
    """A case whose headers or cookies are made invalid is sent as generated, without the
    role's credentials."""
    return not (
        _negative(case, ParameterLocation.HEADER) or _negative(case, ParameterLocation.COOKIE)
    )


def refused_as_the_matrix_says(op: str, role: str) -> Callable[..., bool | None]:
    """The check for a role that may not call ``op``: whatever the request holds, the answer is
    the matrix's refusal (401 to anonymous, 404 to a signed-in caller: the operation does not
    exist for it). A path made invalid may miss the operation's route: then 404 or 405.

    Not a refusal, and allowed: a body that is not JSON at all is 400 to everyone, because the
    framework reads the body before any route logic runs; it tells nothing of the caller's
    rights (every operation is in the public document anyway) and no resource."""
    refusals = _refusals(op, role)

    def check(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
        allowed = set(refusals)
        if _refused_per_resource(op) and any(
            _negative(case, where)
            for where in (ParameterLocation.PATH, ParameterLocation.QUERY, ParameterLocation.BODY)
        ):
            allowed.add(422)
        if not _sends_credentials(case):
            # A generated header or cookie went instead of the role's: refused as anonymous.
            allowed |= _refusals(op, "anonymous") | {401}
        if _negative(case, ParameterLocation.PATH):
            allowed |= {404, 405}
        if _negative(case, ParameterLocation.BODY) and response.status_code == 400:
            assert response.json()["type"].endswith(("/bad-request", "/malformed-json"))
            return None
        assert response.status_code in allowed, (
            f"{role} on {op}: {response.status_code}, expected {sorted(allowed)}: "
            f"{response.text[:300]}"
        )
        return None

    check.__name__ = "refused_as_the_matrix_says"
    return check


def _positive_body(op: str, role: str, world: World, body: Any) -> Any:
    """What a positive body refers to must exist, which no schema states: a deletion names the
    firm's own credit code, a grant an integrator, a new assessment a served version (anything
    else is 422, by design); and an integrator registering a firm records its consent (optional
    in the schema, which is one for every caller)."""
    if (
        op == "POST /api/v1/enterprises"
        and role.startswith("integrator")
        and isinstance(body, dict)
    ):
        return {**body, "consent": CONSENT}
    if op == "DELETE /api/v1/enterprises/{enterprise_id}" and isinstance(body, dict):
        return {**body, "confirm_credit_code": world.enterprise_a.credit_code}
    if op == "POST /api/v1/enterprises/{enterprise_id}/grants" and isinstance(body, dict):
        return {**body, "client_id": world.ungranted_client_id}
    if isinstance(body, dict) and isinstance(body.get("questionnaire_version"), int):
        # A version that is served, of the questionnaire the body names.
        return {**body, "questionnaire_version": SERVED[body["questionnaire_id"]]}
    return body


CREDENTIAL_HEADERS = {"authorization": "Authorization", "x-csrf-token": "X-CSRF-Token"}
SERVED = {
    q.id: q.version
    for q in QuestionnaireCatalog.from_directory(Settings().QUESTIONNAIRES_DIR).latest()
}


def _run(
    op: str,
    role: str,
    world: World,
    operation: Any,
    mode: GenerationMode,
    transport: Any,
    stats: dict[str, int],
) -> None:
    client = world.clients[role]
    # The role's credentials go into the case itself, so that the auth checks can take them
    # away again, and a negative case's own cookies or headers are what is sent.
    # Spelled as the document names them, so that ignored_auth's probes find and remove them.
    credentials = {
        CREDENTIAL_HEADERS[k.lower()]: v
        for k, v in client.headers.items()
        if k.lower() in CREDENTIAL_HEADERS
    }
    cookies = dict(client.cookies)
    path = op.split(" ", 1)[1]
    positive = mode is GenerationMode.POSITIVE
    # The world's real resources: what url_for (the matrix's) fills in.
    names = {p.name for p in operation.path_parameters}
    real = dict(zip(_placeholders(path), _segments(url_for(op, world), path), strict=True))
    fixed = {k: v for k, v in real.items() if k in names}
    strategy = operation.as_strategy(
        generation_mode=mode, **({"path_parameters": fixed} if positive and fixed else {})
    )
    may_call = _may_call(op, role)
    excluded = EXCLUDED.get(op, [])
    additional = ADDITIONAL.get(op, []) if may_call else [refused_as_the_matrix_says(op, role)]
    checks = [c for c in ALL_CHECKS if c not in excluded]

    @given(case=strategy)
    @hypothesis_settings(
        max_examples=EXAMPLES if may_call else REFUSED_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def check(case: schemathesis.Case) -> None:
        query = case.query or {}
        cursor, questionnaire = query.get("cursor"), query.get("questionnaire_id")
        if positive and cursor is not None and not formats.issued_cursor(cursor):
            reject()  # schema-valid by its pattern alone: not a cursor (issued_cursor's docstring)
        if positive and questionnaire is not None and questionnaire not in SERVED:
            # Drawn from Hypothesis's pool of constants, not from the custom format's strategy
            # (formats.questionnaire_ids): a string, but no questionnaire served here (422).
            reject()
        body_negative = _negative(case, ParameterLocation.BODY)
        if positive and op in DRAFT_OPERATIONS:
            etag = world.etag_of(world.params["draft_id"])
            case.headers = {**(case.headers or {}), "If-Match": etag}
        if positive and not body_negative:
            case.body = _positive_body(op, role, world, case.body)
        if _sends_credentials(case):
            headers = case.headers or {}
            if credentials or cookies:
                # The role's own credential, not one generated for the Authorization scheme
                # (beside a session that is 401 by design: app.kit.errors.InvalidCredentials).
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            case.headers = {**headers, **credentials}
            case.cookies = {**(case.cookies or {}), **cookies}
            # Real credentials, as an auth provider would set them: ignored_auth then probes
            # the operation without them and with invalid ones (each scheme alone) instead of
            # taking them for generated junk.
            case._has_explicit_auth = bool(credentials or cookies)
        stats["cases"] += 1
        case.call_and_validate(session=transport, checks=checks, additional_checks=additional)

    check()


def _placeholders(path: str) -> list[str]:
    return [segment[1:-1] for segment in path.split("/") if segment.startswith("{")]


def _segments(url: str, path: str) -> list[str]:
    return [
        value
        for value, segment in zip(url.split("/"), path.split("/"), strict=True)
        if segment.startswith("{")
    ]


@pytest.fixture(autouse=True)
def _examples_from_the_document_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hypothesis (≥ 6.131) mixes the string and number literals of every local module it has
    seen loaded into what it draws. With ``derandomize`` the examples would then change with any
    literal added anywhere in app/ or tests/, and with which modules an xdist worker happened to
    import first: the same code could pass or fail by the company it keeps. The contract's
    examples come from the document (and tests/contract/formats.py) alone."""
    monkeypatch.setattr(hypothesis_providers, "_get_local_constants", Constants)


@pytest.mark.parametrize(
    ("role", "part"), sorted(CALLS), ids=[f"{role}-{part}" for role, part in sorted(CALLS)]
)
def test_every_operation_honours_its_contract(
    role: str,
    part: str,
    app: FastAPI,
    db: Session,
    settings: Settings,
    schema: Any,
    record_property: Callable[[str, object], None],
) -> None:
    world = build_world(app, db, settings)
    # One client that is never entered: entering runs the app's start-up and shut-down (which
    # stops its PDF workers) around every call.
    transport = asgi.get_client(app)
    failures: dict[str, str] = {}
    stats = {"cases": 0}
    try:
        for op in CALLS[(role, part)]:
            method, path = op.split(" ", 1)
            for mode in MODES:
                try:
                    _run(op, role, world, schema[path][method.lower()], mode, transport, stats)
                except Unsatisfiable:
                    # Nothing to send wrong: the operation takes no parameters and no body.
                    assert mode is GenerationMode.NEGATIVE, op
                except BaseException as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
                    if isinstance(exc, KeyboardInterrupt):
                        raise
                    failures[f"{op} ({mode.value})"] = str(exc)[:3000]
    finally:
        for client in world.clients.values():
            client.close()
    # The summary of the run: `pytest --junitxml` keeps it per test.
    record_property("cases", stats["cases"])
    assert not failures, f"{len(failures)} failed as {role}: {sorted(failures)}\n\n" + "\n\n".join(
        f"{k}:\n{v}" for k, v in failures.items()
    )


@pytest.fixture(scope="session")
def schema(app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_every_operation_is_fuzzed_as_every_role() -> None:
    """Each role meets every JSON operation: called where the matrix allows it, refused
    where it does not; and every operation but one is called by some role."""
    for role in ROLES:
        ops = [op for (r, _), part_ops in CALLS.items() if r == role for op in part_ops]
        assert sorted(ops) == sorted(FUZZED), role
    called = {
        op for (_, part), ops in CALLS.items() if not part.startswith("refused") for op in ops
    }
    # Only the owner invitation is called by nobody here: firm A has its owner (409 to admins).
    assert set(FUZZED) - called == {"POST /api/v1/enterprises/{enterprise_id}/owner-invitation"}
