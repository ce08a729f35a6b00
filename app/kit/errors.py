"""Application errors and their one rendering: RFC 9457 ``application/problem+json``.

Exception tree (status in brackets)::

    AppError                     base; carries status, title, detail and optional field errors
    ├── BadRequest        [400]  the request cannot be read (malformed JSON)
    ├── Unauthorized      [401]  no or bad credentials
    │   └── InvalidCredentials     credentials were presented and are wrong (RFC 6750 §3.1)
    ├── Forbidden         [403]  a key lacks a scope, CSRF fails (never for a resource)
    ├── NotFound          [404]  absent, or not visible to the caller (existence is private)
    ├── Conflict          [409]  the state forbids it (already submitted, request in progress)
    ├── PreconditionFailed[412]  If-Match names an outdated version
    ├── InvalidInput      [422]  well-formed but with bad fields (``errors`` lists each)
    ├── PreconditionRequired [428]  a write without If-Match
    └── TooManyRequests   [429]  throttled; carries Retry-After

A database that is busy or restarting (SQLAlchemy ``OperationalError``) answers 503 with
Retry-After; anything else unexpected answers 500 with a request id and no internals.

Only this module knows how a scoring error becomes an HTTP status.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

logger = logging.getLogger("zhizao.errors")

PROBLEM_JSON = "application/problem+json"
Handler = Callable[[Request, Exception], Awaitable[Response]]
PROBLEM_TYPE_BASE = "https://zhizao.dev/problems/"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One bad field: ``field`` is a dotted path into the request (``body.answers.dig_rate``)."""

    field: str
    message: str
    code: str = "invalid"


#: RFC 9110's names of the statuses whose name Python's ``HTTPStatus`` gives in an older form
#: before Python 3.13 ("Request Entity Too Large", "Unprocessable Entity").
_RFC_9110_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


def status_title(status: int) -> str:
    """The title of a problem that names no title of its own: the status's name in RFC 9110.

    The rule (RFC 9457 §3.1.3): one problem type keeps one title, whoever raises it and on
    whichever Python; a 422 from the service's own checks and one from FastAPI's validation of
    the body are both "Unprocessable Content". "Error" for a status without a name."""
    if status in _RFC_9110_TITLES:
        return _RFC_9110_TITLES[status]
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"


class AppError(Exception):
    status_code: int = 500
    problem: str = "internal-error"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}
        self.title = title or status_title(self.status_code)


class BadRequest(AppError):
    status_code = 400
    problem = "bad-request"


class Unauthorized(AppError):
    status_code = 401
    problem = "unauthorized"

    def __init__(self, detail: str = "Authentication required.", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class InvalidCredentials(Unauthorized):
    """An ``Authorization`` header that does not authenticate: a malformed, unknown or revoked
    key, or another scheme than Bearer.

    The rule (RFC 6750 §3.1): credentials that are presented and invalid are an error, never
    something to fall back from. A request that also carries a valid session cookie is still
    401, so a client never acts as someone other than the credential it sent. Page routes
    render it as an error page instead of sending the browser to sign in (signing in cannot
    help while the header is sent).
    """

    problem = "invalid-credentials"

    def __init__(self, detail: str, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        super().__init__(detail, **kwargs)


class Forbidden(AppError):
    """Only for what reveals no resource: a key without the scope an operation needs, a CSRF
    failure. A resource the caller may not see is `NotFound`."""

    status_code = 403
    problem = "forbidden"


class NotFound(AppError):
    status_code = 404
    problem = "not-found"

    def __init__(self, detail: str = "No such resource.", **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)


class Conflict(AppError):
    status_code = 409
    problem = "conflict"


class PreconditionFailed(AppError):
    status_code = 412
    problem = "precondition-failed"


class InvalidInput(AppError):
    status_code = 422
    problem = "invalid-input"


class PreconditionRequired(AppError):
    status_code = 428
    problem = "precondition-required"


class TooManyRequests(AppError):
    status_code = 429
    problem = "too-many-requests"

    def __init__(self, detail: str, *, retry_after: int, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(max(1, retry_after))})
        super().__init__(detail, **kwargs)


class ProblemFieldError(BaseModel):
    field: str = Field(examples=["body.credit_code"])
    message: str
    code: str = "invalid"


class Problem(BaseModel):
    """RFC 9457 problem details; ``errors`` names each bad field, ``request_id`` helps support."""

    type: str = Field(examples=[PROBLEM_TYPE_BASE + "invalid-input"])
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[ProblemFieldError] | None = None


def problem_response(
    request: Request,
    *,
    status: int,
    problem: str,
    title: str,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + problem,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": request_id_of(request),
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message, "code": e.code} for e in errors]
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def request_id_of(request: Request) -> str:
    request_id = getattr(request.state, "request_id", None)
    if request_id is None:
        request_id = uuid.uuid4().hex
        request.state.request_id = request_id
    return str(request_id)


def _location(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc)


def field_errors(raw: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """pydantic's errors (``ValidationError.errors()``) as the problem's ``errors`` entries."""
    return [
        FieldError(field=_location(err["loc"]), message=err["msg"], code=err["type"]) for err in raw
    ]


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(
        request,
        status=exc.status_code,
        problem=exc.problem,
        title=exc.title,
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in raw):
        return _malformed_json(request, "The request body is not valid JSON.")
    errors = field_errors(raw)
    return problem_response(
        request,
        status=422,
        problem=InvalidInput.problem,
        title=status_title(422),
        detail="The request has invalid fields: " + ", ".join(e.field for e in errors),
        errors=errors,
    )


def _malformed_json(request: Request, detail: str) -> JSONResponse:
    return problem_response(
        request,
        status=400,
        problem="malformed-json",
        title="Bad Request",
        detail=detail,
        errors=[FieldError(field="body", message="malformed JSON", code="json_invalid")],
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 400 and isinstance(exc.__cause__, ValueError):
        # FastAPI's "error parsing the body": JSON it could not decode other than by a syntax
        # error (invalid UTF-8, an integer past Python's 4,300-digit limit). The same problem as
        # malformed JSON, naming the body, not a bare 400.
        return _malformed_json(
            request,
            "The request body cannot be read as JSON: it is not UTF-8, or it holds a number "
            "of more than 4,300 digits.",
        )
    phrase = status_title(status)
    detail = exc.detail if isinstance(exc.detail, str) else phrase
    return problem_response(
        request,
        status=status,
        problem=phrase.lower().replace(" ", "-"),
        title=phrase,
        detail=detail,
        headers=dict(exc.headers or {}) | _allow(request, status),
    )


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allow(request: Request, status: int) -> dict[str, str]:
    """On 405, ``Allow`` lists every method the path answers (RFC 9110 §15.5.6); Starlette
    names only the methods of the first route whose path matched. ``HEAD`` wherever ``GET`` is
    (``app.kit.head``)."""
    if status != 405:
        return {}
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    if "GET" in allowed and "HEAD" not in allowed:
        allowed.insert(allowed.index("GET") + 1, "HEAD")
    return {"Allow": ", ".join(allowed)} if allowed else {}


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # A locked SQLite file or a PostgreSQL restart: nothing was changed, a retry will do.
    logger.warning("database unavailable: %s", type(exc).__name__)
    return problem_response(
        request,
        status=503,
        problem="database-unavailable",
        title="Service Unavailable",
        detail="The database is busy or restarting; nothing was changed. Retry shortly.",
        headers={"Retry-After": "1"},
    )


async def _concurrent_write(request: Request, exc: Exception) -> JSONResponse:
    """A uniqueness (or other integrity) rule the database enforced where the service's own
    check had passed: another request wrote the same thing between this one's check and its
    write (two sign-ups with one e-mail at the same moment). The transaction is rolled back,
    so nothing of this request was saved, and a retry meets the service's own check and its
    answer. Logged (with the request id) in case it is not a race but a defect."""
    with structlog.contextvars.bound_contextvars(request_id=request_id_of(request)):
        logger.warning(
            "integrity error answered 409: %s", exc.orig if isinstance(exc, IntegrityError) else exc
        )
    return problem_response(
        request,
        status=409,
        problem=Conflict.problem,
        title=status_title(409),
        detail="Another request saved the same data at the same moment; nothing of this one "
        "was saved. Retry it.",
    )


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    request_id = request_id_of(request)
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        logger.exception("unhandled error")
    return problem_response(
        request,
        status=500,
        problem="internal-error",
        title="Internal Server Error",
        detail=f"Something went wrong on our side. Quote request id {request_id} to support.",
    )


#: The problem+json handler of each kind of exception (``app.kit.web.errors`` installs them,
#: rendering page errors as HTML).
PROBLEM_HANDLERS: tuple[tuple[type[Exception], Handler], ...] = (
    (AppError, _app_error),
    (RequestValidationError, _validation_error),
    (StarletteHTTPException, _http_error),
    (OperationalError, _database_unavailable),
    (PoolTimeout, _database_unavailable),
    (IntegrityError, _concurrent_write),
    (Exception, _unhandled),
)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting problem+json for the given statuses."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
