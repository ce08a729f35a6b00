"""App factory: ``create_app(settings)`` builds one service; ``app`` (built lazily on first
access) is the one uvicorn serves."""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import hooks
from app.auth.service import Authenticator
from app.integrators.ratelimit import FailedKeys
from app.kit.body_limit import BodyLimitMiddleware, content_too_large
from app.kit.db import Database, close_request_session
from app.kit.errors import problem_responses
from app.kit.head import HeadAsGetMiddleware
from app.kit.settings import Settings, get_settings
from app.kit.web.errors import install_error_handlers
from app.kit.web.security import SECURITY_HEADERS
from app.observability.logging import configure_logging, request_logger
from app.observability.metrics import observe

logger = logging.getLogger("zhizao")
_REQUEST_LOG = logging.getLogger("zhizao.request")  # request_logger's standard-library logger


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    hooks.install()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from app.startup import on_shutdown, on_startup

        on_startup(app)
        yield
        on_shutdown(app)
        app.state.database.dispose()

    app = FastAPI(
        title="zhizao 智造 — smart-manufacturing maturity self-assessment",
        version="1.0.0",
        description=(
            "Staged self-assessment of manufacturing SMEs on the Industry 3.0–4.0 ladder, "
            "subsidy matching, integrator API and district heatmaps. Errors are RFC 9457 "
            "`application/problem+json`: their `title`, `detail` and `errors[].message` are in "
            "the request's language (`?lang=`, the language cookie, `Accept-Language`; Chinese "
            "by default), so a client branches on `type` and `errors[].code`, never on the text."
        ),
        lifespan=lifespan,
        responses=problem_responses(400, 422, 500),
        # Served by app.pages from the service's own files instead of FastAPI's CDN pages.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = Database(settings)
    # Read by app.kit.guards; failed keys are counted per client address by the rate limiter.
    app.state.authenticator = Authenticator(key_failures=FailedKeys())
    install_error_handlers(app)

    # Innermost: the routes see a GET, everything outside still sees the HEAD.
    app.add_middleware(HeadAsGetMiddleware)

    # Chunked bodies declare no length: count them as they stream (413 past the cap). Added
    # before the middleware below so that it sits inside it.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.MAX_BODY_BYTES)

    # Outside the body limit: the request id, logging and metrics see its 413 too.
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.MAX_BODY_BYTES)

    from app.api import build_api_router
    from app.health.api import router as health_router
    from app.kit.guards import document_scope_refusals
    from app.kit.routing import include_flat
    from app.observability.api import router as observability_router

    # Flat: each request is matched against one list of routes (include_flat's docstring).
    for router in (health_router, observability_router, build_api_router()):
        include_flat(app.router, router)
    document_scope_refusals(app.routes)

    from app.pages import mount_pages

    mount_pages(app, settings)
    return app


_SECURITY_HEADERS = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
#: Request ids: 80 random bits per process and a counter, 32 hex digits like a UUID's. Unique
#: without a system call per request (``uuid4`` reads the OS's random source every time, which
#: showed in the profile of the cheapest requests).
_ID_PREFIX = secrets.token_hex(10)
_ID_COUNTER = itertools.count()


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFFFFFFFFFF:012x}"


class RequestContextMiddleware:
    """Every request: an id (``X-Request-ID``, kept from the client or made up), 413 at once
    for a declared body over the cap, one log line and the metrics, the security headers; the
    request's database session closed when it is done (``kit.db.get_session``).

    Pure ASGI on purpose: as a ``@app.middleware("http")`` (Starlette's BaseHTTPMiddleware) the
    same work ran each request through two extra tasks and memory streams, and it cost more
    than a whole ``/healthz`` (docs/benchmarks.md, issue #17 performance).
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = declared = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value.decode("latin-1")[:64]
            elif name == b"content-length":
                declared = value
        request_id = request_id or new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        started_response = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                started_response = True
                status = message["status"]
                headers = message.setdefault("headers", [])
                present = {name.lower() for name, _ in headers}
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                headers.extend(h for h in _SECURITY_HEADERS if h[0] not in present)
                # An API key's budget (app.integrators.ratelimit), on every answer it counted.
                limits = state.get("rate_limit_headers", ())
                headers.extend(h for h in limits if h[0] not in present)
            await send(message)

        started = time.perf_counter()
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            response = content_too_large(Request(scope), self.max_body_bytes)
            await response(scope, receive, send_with_headers)
        else:
            structlog.contextvars.bind_contextvars(request_id=request_id)
            try:
                await self.app(scope, receive, send_with_headers)
            except Exception as exc:
                if started_response:
                    raise
                # Answered here rather than by Starlette's outermost handler, so that the 500
                # carries the request id and the security headers, is logged and counted as
                # every other answer, and leaves the connection open.
                handler = scope["app"].exception_handlers[Exception]
                response = await handler(Request(scope), exc)
                await response(scope, receive, send_with_headers)
            finally:
                structlog.contextvars.unbind_contextvars("request_id")
                await close_request_session(state)
        _observe(scope, status, time.perf_counter() - started)


def _route_template(request: Request) -> str:
    """The matched route's full path template (``/api/v1/assessments/{assessment_id}``).

    A route knows only its path inside the router that declares it; the prefixes of the
    routers it is included in are what the request path has before that part.
    """
    route = request.scope.get("route")
    suffix = getattr(route, "path", None)
    if not isinstance(suffix, str):
        return "<unmatched>"
    params = {k: str(v) for k, v in request.scope.get("path_params", {}).items()}
    try:
        rendered = suffix.format(**params)
    except (KeyError, IndexError, ValueError):
        return suffix
    path: str = request.scope["path"]
    return path[: len(path) - len(rendered)] + suffix if path.endswith(rendered) else suffix


def _observe(scope: Scope, status: int, seconds: float) -> None:
    """One log line and the metrics of a finished request (route template, never ids)."""
    request = Request(scope)
    template = _route_template(request)
    observe(request.method, template, status, seconds)
    if not _REQUEST_LOG.isEnabledFor(logging.INFO):
        # structlog runs its processors (the time stamp, the context) before the standard
        # library drops the line: skip them when the line would be dropped (LOG_LEVEL WARNING).
        return
    state = scope["state"]
    principal = state.get("principal")
    request_logger.info(
        "request",
        method=request.method,
        route=template,
        status=status,
        duration_ms=round(seconds * 1000, 1),
        request_id=state["request_id"],
        caller=principal.kind if principal is not None else "anonymous",
    )


def __getattr__(name: str) -> Any:
    """``app.main.app``, the service uvicorn serves (``uvicorn app.main:app``).

    Built on first access rather than at import, so that importing this module (tests, the CLI)
    neither reads the settings nor touches the database directory.
    """
    if name == "app":
        settings = get_settings()
        configure_logging(settings.LOG_LEVEL, json=settings.LOG_JSON)
        application = create_app(settings)
        globals()["app"] = application
        return application
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
