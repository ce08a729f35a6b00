"""Problems (RFC 9457): one problem type, one title, whoever raises it."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from app.kit.errors import PROBLEM_HANDLERS, Forbidden, InvalidInput, status_title
from app.kit.guards import InsufficientScope


class Body(BaseModel):
    count: int


def _app() -> FastAPI:
    app = FastAPI()
    for exception, handler in PROBLEM_HANDLERS:
        app.add_exception_handler(exception, handler)

    @app.post("/validated")
    def validated(body: Body) -> None:
        """FastAPI refuses a bad body itself (``RequestValidationError``)."""

    @app.post("/checked")
    def checked() -> None:
        raise InvalidInput("The service's own check refused it.")

    @app.post("/too-large")
    def too_large() -> None:
        raise HTTPException(413)

    @app.get("/forbidden")
    def forbidden() -> None:
        raise Forbidden("Not for you.")

    @app.get("/scoped")
    def scoped() -> None:
        raise InsufficientScope("The key lacks a scope.")

    @app.post("/raced")
    def raced() -> None:
        """A unique rule the database enforced after the service's own check had passed."""
        raise IntegrityError("INSERT …", {}, Exception("duplicate key value"))

    return app


def test_invalid_input_has_rfc_9110s_title_whoever_refuses_it() -> None:
    client = TestClient(_app())
    by_fastapi = client.post("/validated", json={"count": "many"})
    by_service = client.post("/checked")
    assert by_fastapi.status_code == by_service.status_code == 422
    problems = [by_fastapi.json(), by_service.json()]
    assert {p["type"] for p in problems} == {"https://zhizao.dev/problems/invalid-input"}
    assert {p["title"] for p in problems} == {"Unprocessable Content"}


def test_a_starlette_413_is_the_same_problem_as_the_body_limits() -> None:
    problem = TestClient(_app()).post("/too-large").json()
    assert problem["type"] == "https://zhizao.dev/problems/content-too-large"
    assert problem["title"] == "Content Too Large"


def test_a_missing_scope_is_a_problem_type_of_its_own() -> None:
    client = TestClient(_app())
    generic, scope = client.get("/forbidden").json(), client.get("/scoped").json()
    assert (generic["type"], generic["title"]) == (
        "https://zhizao.dev/problems/forbidden",
        "Forbidden",
    )
    assert (scope["status"], scope["type"], scope["title"]) == (
        403,
        "https://zhizao.dev/problems/insufficient-scope",
        "Insufficient scope",
    )


def test_status_title() -> None:
    assert [status_title(s) for s in (404, 413, 422, 599)] == [
        "Not Found",
        "Content Too Large",
        "Unprocessable Content",
        "Error",
    ]


def test_a_body_json_cannot_read_is_the_malformed_json_problem() -> None:
    """Invalid UTF-8, or an integer of more than 4,300 digits (Python's limit), was a bare 400
    "There was an error parsing the body" with no field named (found by fuzzing); a syntax error
    was already this problem."""
    client = TestClient(_app())
    for content in (b'{"count": 1', b'{"count": "\xff"}', b'{"count": ' + b"9" * 5000 + b"}"):
        response = client.post(
            "/validated", content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, content[:20]
        problem = response.json()
        assert problem["type"].endswith("/malformed-json"), problem
        assert [e["field"] for e in problem["errors"]] == ["body"]


def test_a_write_another_request_made_first_is_a_409_not_a_500() -> None:
    """Two acceptances of different invitations with one e-mail at the same moment: the later
    insert broke the unique rule and answered 500."""
    response = TestClient(_app(), raise_server_exceptions=False).post("/raced")
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"].endswith("/conflict") and "Retry" in problem["detail"]
