"""App factory: ``create_app(settings)`` builds one service; ``app`` is the one uvicorn serves."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from app.config import Settings, get_settings
from app.db import Database
from app.errors import install_error_handlers, problem_response, problem_responses

logger = logging.getLogger("zhizao")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    ),
}
# /docs loads Swagger UI from its bundled CDN; it gets no CSP of ours.
_NO_CSP_PATHS = ("/docs", "/redoc")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from app.startup import on_startup

        on_startup(app)
        yield
        app.state.database.dispose()

    app = FastAPI(
        title="zhizao 智造 — smart-manufacturing maturity self-assessment",
        version="1.0.0",
        description=(
            "Staged self-assessment of manufacturing SMEs on the Industry 3.0–4.0 ladder, "
            "subsidy matching, integrator API and district heatmaps. Errors are RFC 9457 "
            "`application/problem+json`."
        ),
        lifespan=lifespan,
        responses=problem_responses(400, 422, 500),
    )
    app.state.settings = settings
    app.state.database = Database(settings)
    install_error_handlers(app)

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.state.request_id = request_id[:64]
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > settings.MAX_BODY_BYTES:
            return problem_response(
                request,
                status=413,
                problem="content-too-large",
                title="Content Too Large",
                detail=f"Request bodies are limited to {settings.MAX_BODY_BYTES} bytes.",
            )
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        for name, value in SECURITY_HEADERS.items():
            if name == "Content-Security-Policy" and request.url.path.startswith(_NO_CSP_PATHS):
                continue
            response.headers.setdefault(name, value)
        return response

    from app.api import build_api_router
    from app.health.api import router as health_router

    app.include_router(health_router)
    app.include_router(build_api_router())
    return app
