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
Retry-After; a write whose row, or the row it refers to, another request deleted meanwhile
answers 404 (``_deleted_meanwhile``); a uniqueness rule the database enforced answers 409;
anything else unexpected answers 500 with a request id and no internals.

A problem's ``title``, ``detail`` and each ``errors[].message`` are said in the request's
language (``i18n.negotiate_lang``: ``?lang=``, the language cookie, Accept-Language, else
Chinese), translated once, when the response is rendered; ``type``, ``status``, the fields and
the codes never change with it. So a raise site writes its detail in English, as a constant
template whose ``%(name)s`` placeholders are filled from named values::

    raise NotFound("No assessment with this id.")
    raise Conflict("This client already has %(n)s live keys.", n=MAX_LIVE_KEYS)
    FieldError("body.url", "has no host", "invalid_url")
    raise InvalidValue("must have 18 characters, not %(length)s", length=len(code))  # validators

The class names (and ``FieldError``'s message) are extraction keywords of the catalogs
(``tools/catalogs.py``). pydantic's own messages are said by their ``code``
(``PYDANTIC_MESSAGES``); one this service does not know stays pydantic's English.

Only this module knows how a scoring error becomes an HTTP status.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.kit.db import refers_to_a_deleted_row
from app.kit.i18n import N_, html_lang, negotiate_lang, tr
from scoring import Phrase

logger = logging.getLogger("zhizao.errors")

PROBLEM_JSON = "application/problem+json"
Handler = Callable[[Request, Exception], Awaitable[Response]]
PROBLEM_TYPE_BASE = "https://zhizao.dev/problems/"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One bad field: ``field`` is a dotted path into the request (``body.answers.dig_rate``);
    ``message`` an English template (or scoring's ``Phrase``) with ``params`` filled in, said
    in the request's language when the problem is rendered."""

    field: str
    message: str
    code: str = "invalid"
    params: Mapping[str, object] = dataclass_field(default_factory=dict)


def say(lang: str, message: str, params: Mapping[str, object] | None = None) -> str:
    """A problem text in ``lang``: ``message`` translated (a catalog entry, or scoring's
    ``Phrase``), its placeholders filled from ``params`` (a ``Phrase`` among them said in
    ``lang`` too). A text the catalogs do not hold stays as it is (pydantic's English for a code
    this service does not know); a translation whose placeholders do not match its values falls
    back to the English, never to a 500."""
    if isinstance(message, Phrase):
        params = message.params
        message = message.template
    values = {
        name: say(lang, value) if isinstance(value, Phrase) else value
        for name, value in (params or {}).items()
    }
    try:
        return tr(lang, message, **values)
    except (KeyError, ValueError, TypeError):
        logger.warning("problem text %r cannot be filled in %s", message, lang)
    try:
        return message % values if values else message
    except (KeyError, ValueError, TypeError):
        return message


#: The title of each status the service answers with, in RFC 9110's words (Python's
#: ``HTTPStatus`` gives some in an older form before Python 3.13: "Request Entity Too Large",
#: "Unprocessable Entity"); marked here so that they are translated.
STATUS_TITLES = {
    400: N_("Bad Request"),
    401: N_("Unauthorized"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    406: N_("Not Acceptable"),
    409: N_("Conflict"),
    412: N_("Precondition Failed"),
    413: N_("Content Too Large"),
    415: N_("Unsupported Media Type"),
    422: N_("Unprocessable Content"),
    428: N_("Precondition Required"),
    429: N_("Too Many Requests"),
    500: N_("Internal Server Error"),
    503: N_("Service Unavailable"),
}


def status_title(status: int) -> str:
    """The title of a problem that names no title of its own: the status's name in RFC 9110
    (in English; translated when the problem is rendered).

    The rule (RFC 9457 §3.1.3): one problem type keeps one title in a language, whoever raises
    it and on whichever Python; a 422 from the service's own checks and one from FastAPI's
    validation of the body are both "Unprocessable Content". "Error" for a status without a
    name."""
    if status in STATUS_TITLES:
        return STATUS_TITLES[status]
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"


class AppError(Exception):
    """``detail`` is an English template, ``params`` the values of its ``%(name)s``
    placeholders; ``self.detail`` is the English text, ``detail_in`` says it in a language."""

    status_code: int = 500
    problem: str = "internal-error"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
        title: str | None = None,
        **params: object,
    ) -> None:
        self.template = detail
        self.params = params
        self.detail = say("en", detail, params)
        super().__init__(self.detail)
        self.errors = list(errors)
        self.headers = headers or {}
        self.title = title or status_title(self.status_code)

    def detail_in(self, lang: str) -> str:
        return say(lang, self.template, self.params)


class InvalidValue(ValueError):
    """A request model's validator refusing a value (pydantic's code ``value_error``): an English
    template and its values, as ``AppError`` takes them, said in the request's language."""

    def __init__(self, message: str, **params: object) -> None:
        self.template = message
        self.params = params
        super().__init__(say("en", message, params))


class BadRequest(AppError):
    status_code = 400
    problem = "bad-request"


class Unauthorized(AppError):
    status_code = 401
    problem = "unauthorized"

    def __init__(self, detail: str = N_("Authentication required."), **kwargs: Any) -> None:
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

    def __init__(self, detail: str = N_("No such resource."), **kwargs: Any) -> None:
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
    """RFC 9457 problem details; ``errors`` names each bad field, ``request_id`` helps support.
    ``title``, ``detail`` and each ``errors[].message`` are in the request's language (``?lang=``,
    the language cookie, Accept-Language; Chinese by default): branch on ``type`` and
    ``errors[].code``, never on the text."""

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
    detail: str,
    params: Mapping[str, object] | None = None,
    title: str | None = None,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The problem+json response, its texts said in the request's language: ``detail`` (and
    ``title``, by default the status's) are English templates filled from ``params``."""
    lang = negotiate_lang(request, request.query_params.get("lang"))
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + problem,
        "title": say(lang, title or status_title(status)),
        "status": status,
        "detail": say(lang, detail, params),
        "instance": request.url.path,
        "request_id": request_id_of(request),
    }
    if errors:
        body["errors"] = [
            {"field": e.field, "message": say(lang, e.message, e.params), "code": e.code}
            for e in errors
        ]
    # Said in the language asked for, which the client (and a cache) can tell.
    headers = {"Content-Language": html_lang(lang), "Vary": "Accept-Language, Cookie"} | (
        headers or {}
    )
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def request_id_of(request: Request) -> str:
    request_id = getattr(request.state, "request_id", None)
    if request_id is None:
        request_id = uuid.uuid4().hex
        request.state.request_id = request_id
    return str(request_id)


def _location(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc)


#: pydantic's messages by error code, for the codes a request to this service can meet: its
#: English templates (``pydantic_core``'s, ``{name}`` written ``%(name)s``), filled from the
#: error's context. A code not listed keeps pydantic's English message; ``value_error`` is the
#: validator's own (``InvalidValue``).
PYDANTIC_MESSAGES = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "string_type": N_("Input should be a valid string"),
    "string_unicode": N_(
        "Input should be a valid string, unable to parse raw data as a unicode string"
    ),
    "string_too_short": N_(
        "String should have at least %(min_length)s character%(expected_plural)s"
    ),
    "string_too_long": N_("String should have at most %(max_length)s character%(expected_plural)s"),
    "string_pattern_mismatch": N_("String should match pattern '%(pattern)s'"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_parsing_size": N_("Unable to parse input string as an integer, exceeded maximum size"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "finite_number": N_("Input should be a finite number"),
    "decimal_type": N_("Decimal input should be an integer, float, string or Decimal object"),
    "decimal_parsing": N_("Input should be a valid decimal"),
    "decimal_max_digits": N_(
        "Decimal input should have no more than %(max_digits)s digit%(expected_plural)s in total"
    ),
    "decimal_max_places": N_(
        "Decimal input should have no more than %(decimal_places)s decimal place%(expected_plural)s"
    ),
    "decimal_whole_digits": N_(
        "Decimal input should have no more than %(whole_digits)s digit%(expected_plural)s "
        "before the decimal point"
    ),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "greater_than": N_("Input should be greater than %(gt)s"),
    "greater_than_equal": N_("Input should be greater than or equal to %(ge)s"),
    "less_than": N_("Input should be less than %(lt)s"),
    "less_than_equal": N_("Input should be less than or equal to %(le)s"),
    "multiple_of": N_("Input should be a multiple of %(multiple_of)s"),
    "literal_error": N_("Input should be %(expected)s"),
    "enum": N_("Input should be %(expected)s"),
    "list_type": N_("Input should be a valid list"),
    "too_short": N_(
        "%(field_type)s should have at least %(min_length)s item%(expected_plural)s after "
        "validation, not %(actual_length)s"
    ),
    "too_long": N_(
        "%(field_type)s should have at most %(max_length)s item%(expected_plural)s after "
        "validation, not %(actual_length)s"
    ),
    "dict_type": N_("Input should be a valid dictionary"),
    "model_type": N_("Input should be a valid dictionary or instance of %(class_name)s"),
    "model_attributes_type": N_(
        "Input should be a valid dictionary or object to extract fields from"
    ),
    "uuid_type": N_("UUID input should be a string, bytes or UUID object"),
    "uuid_parsing": N_("Input should be a valid UUID, %(error)s"),
    "date_type": N_("Input should be a valid date"),
    "date_parsing": N_("Input should be a valid date in the format YYYY-MM-DD, %(error)s"),
    "date_from_datetime_parsing": N_("Input should be a valid date or datetime, %(error)s"),
    "date_from_datetime_inexact": N_(
        "Datetimes provided to dates should have zero time - e.g. be exact dates"
    ),
    "datetime_type": N_("Input should be a valid datetime"),
    "datetime_parsing": N_("Input should be a valid datetime, %(error)s"),
    "datetime_from_date_parsing": N_("Input should be a valid datetime or date, %(error)s"),
    "datetime_object_invalid": N_("Invalid datetime object, got %(error)s"),
    "timezone_aware": N_("Input should have timezone info"),
}

#: The context value that decides a message's plural "s" (pydantic's ``expected_plural``).
_PLURAL_OF = {
    "string_too_short": "min_length",
    "string_too_long": "max_length",
    "too_short": "min_length",
    "too_long": "max_length",
    "decimal_max_digits": "max_digits",
    "decimal_max_places": "decimal_places",
    "decimal_whole_digits": "whole_digits",
}


#: The codes whose ``expected`` lists the accepted values in English: "'a', 'b' or 'c'".
_CHOICES_OF = frozenset({"literal_error", "enum"})
#: One value in pydantic's list: a quoted string (its repr) or a bare number, and what precedes it.
_CHOICE = re.compile(r"""(^|, | or )('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s,'"]+)""")


def _choices(expected: str) -> str:
    """The values pydantic's ``expected`` lists ("'a', 'b' or 'c'"), comma-separated without its
    English "or" ("'a', 'b', 'c'"): the ``choices`` a translation names instead of ``expected``,
    whose "or" a Chinese sentence cannot keep. ``expected`` as it is when it is no such list."""
    values: list[str] = []
    end = 0
    for match in _CHOICE.finditer(expected):
        if match.start() != end or (match.group(1) == "") != (end == 0):
            return expected
        values.append(match.group(2))
        end = match.end()
    return ", ".join(values) if values and end == len(expected) else expected


def field_errors(raw: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """pydantic's errors (``ValidationError.errors()``) as the problem's ``errors`` entries, each
    message a template the problem says in the request's language (``PYDANTIC_MESSAGES``)."""
    return [_field_error(err) for err in raw]


def _field_error(err: Mapping[str, Any]) -> FieldError:
    field, code = _location(err["loc"]), str(err["type"])
    context = dict(err.get("ctx") or {})
    cause = context.get("error")
    if code == "value_error" and isinstance(cause, InvalidValue):
        return FieldError(field, cause.template, code, cause.params)
    template = PYDANTIC_MESSAGES.get(code)
    if code in _PLURAL_OF:
        context["expected_plural"] = "" if context.get(_PLURAL_OF[code]) == 1 else "s"
    if code in _CHOICES_OF and isinstance(context.get("expected"), str):
        context["choices"] = _choices(context["expected"])
    if template is None or not _fills(template, context):
        return FieldError(field, err["msg"], code)
    return FieldError(field, template, code, context)


def _fills(template: str, values: Mapping[str, object]) -> bool:
    """Whether ``values`` hold every value ``template`` names (pydantic may change a context)."""
    try:
        template % values
    except (KeyError, ValueError, TypeError):
        return False
    return True


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(
        request,
        status=exc.status_code,
        problem=exc.problem,
        title=exc.title,
        detail=exc.template,
        params=exc.params,
        errors=exc.errors,
        headers=exc.headers,
    )


#: The detail of a 422 that names its bad fields (``fields``: their paths, comma-separated).
INVALID_FIELDS = N_("The request has invalid fields: %(fields)s")


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in raw):
        return _malformed_json(request, N_("The request body is not valid JSON."))
    errors = field_errors(raw)
    return problem_response(
        request,
        status=422,
        problem=InvalidInput.problem,
        detail=INVALID_FIELDS,
        params={"fields": ", ".join(e.field for e in errors)},
        errors=errors,
    )


def _malformed_json(request: Request, detail: str) -> JSONResponse:
    return problem_response(
        request,
        status=400,
        problem="malformed-json",
        detail=detail,
        errors=[FieldError("body", "malformed JSON", "json_invalid")],
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
            N_(
                "The request body cannot be read as JSON: it is not UTF-8, or it holds a number "
                "of more than 4,300 digits."
            ),
        )
    phrase = status_title(status)
    # Starlette's own details are the status's name ("Not Found"), said as the title is.
    detail = exc.detail if isinstance(exc.detail, str) else phrase
    return problem_response(
        request,
        status=status,
        problem=phrase.lower().replace(" ", "-"),
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
        detail=N_("The database is busy or restarting; nothing was changed. Retry shortly."),
        headers={"Retry-After": "1"},
    )


async def _deleted_meanwhile(request: Request, exc: Exception) -> JSONResponse:
    """The rule: a write that loses a race with the deletion of what it writes about (a firm's
    owner deleting all its data, on another app instance) is answered as a request made after
    that deletion: 404, nothing of it saved. Every check of the service passed while the row was
    there; the database then tells it at the write: a foreign key whose row was deleted between
    the check and the write (``IntegrityError``, ``kit.db.refers_to_a_deleted_row``: the firm,
    its assessment, a user), or an ORM update of a row that matched none (``StaleDataError``: the
    row was deleted; the assessment's version claims tell that from a newer version themselves,
    ``assessments.service._claim_lost``). The transaction is rolled back with the request.
    Logged with the request id, as a defect that would give the same error would be."""
    with structlog.contextvars.bound_contextvars(request_id=request_id_of(request)):
        logger.warning("write raced a deletion, answered 404: %s", _cause(exc))
    return problem_response(
        request,
        status=404,
        problem=NotFound.problem,
        detail=N_(
            "What this request refers to was deleted by another request at the same moment; "
            "nothing of this one was saved."
        ),
    )


def _cause(exc: Exception) -> object:
    return exc.orig if isinstance(exc, IntegrityError) else exc


async def _concurrent_write(request: Request, exc: Exception) -> JSONResponse:
    """A uniqueness (or other integrity) rule the database enforced where the service's own
    check had passed: another request wrote the same thing between this one's check and its
    write (two sign-ups with one e-mail at the same moment). The transaction is rolled back,
    so nothing of this request was saved, and a retry meets the service's own check and its
    answer. Logged (with the request id) in case it is not a race but a defect. A foreign key
    whose row is gone is not this: :func:`_deleted_meanwhile`."""
    if isinstance(exc, IntegrityError) and refers_to_a_deleted_row(exc):
        return await _deleted_meanwhile(request, exc)
    with structlog.contextvars.bound_contextvars(request_id=request_id_of(request)):
        logger.warning("integrity error answered 409: %s", _cause(exc))
    return problem_response(
        request,
        status=409,
        problem=Conflict.problem,
        detail=N_(
            "Another request saved the same data at the same moment; nothing of this one "
            "was saved. Retry it."
        ),
    )


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    request_id = request_id_of(request)
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        logger.exception("unhandled error")
    return problem_response(
        request,
        status=500,
        problem="internal-error",
        detail=N_("Something went wrong on our side. Quote request id %(request_id)s to support."),
        params={"request_id": request_id},
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
    (StaleDataError, _deleted_meanwhile),
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
