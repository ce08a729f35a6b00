"""HTML rendering of errors for page routes; the JSON API keeps problem+json (``kit.errors``)."""

from __future__ import annotations

import json
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from app.kit.errors import PROBLEM_HANDLERS, Handler
from app.kit.guards import SESSION_COOKIE, authenticator_of
from app.kit.i18n import negotiate_lang
from app.kit.principal import ANONYMOUS, Principal
from app.kit.web.deps import base_context
from app.kit.web.htmx import is_htmx
from app.kit.web.templating import render

#: Paths that are never pages: their errors stay problem+json whatever the client accepts.
NON_PAGE_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi")


def install_error_handlers(app: FastAPI) -> None:
    """Every error answers problem+json (``app.kit.errors``), except on page routes asked for
    by a browser, where the same problem is rendered as an HTML page."""
    for exception, handler in PROBLEM_HANDLERS:
        app.add_exception_handler(exception, _html_for_pages(handler))


def _html_for_pages(handler: Handler) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        response = await handler(request, exc)
        if not wants_html(request):
            return response
        return await run_in_threadpool(html_error, request, response)

    return handle


def _caller(request: Request) -> Principal:
    """Who sees the error page, for its header: known when the route resolved the caller;
    otherwise (an unknown path) read from the session cookie. Anonymous if that fails."""
    principal = getattr(request.state, "principal", None)
    if isinstance(principal, Principal):
        return principal
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return ANONYMOUS
    try:
        with request.app.state.database.sessions() as session:
            return authenticator_of(request).from_cookie(session, token, request)
    except Exception:  # the error page must render even when the database is the problem
        return ANONYMOUS


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(NON_PAGE_PREFIXES) or path == "/api":
        return False
    return is_htmx(request) or "text/html" in request.headers.get("accept", "")


def html_error(request: Request, problem_response: Response) -> Response:
    """The error page for a problem+json response (same status and headers)."""
    problem = json.loads(bytes(problem_response.body))
    status = problem_response.status_code
    kind = str(problem.get("type", "")).rsplit("/", 1)[-1]
    # Signing in is the answer to a missing credential, not to a wrong one the client keeps
    # sending (an Authorization header, which no browser sends): that gets the error page.
    if status == 401 and request.method in ("GET", "HEAD") and kind != "invalid-credentials":
        target = "/login?next=" + quote(
            request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="/"
        )
        if is_htmx(request):
            return Response(status_code=200, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    headers = {
        name: value
        for name, value in problem_response.headers.items()
        if name.lower() in ("retry-after", "etag", "www-authenticate")
    }
    lang = negotiate_lang(request, request.query_params.get("lang"))
    return render(
        request,
        "errors/error.html",
        base_context(request, _caller(request), lang)
        | {
            "status": status,
            "kind": kind,
            "title": problem.get("title", ""),
            "detail": problem.get("detail", ""),
            "request_id": problem.get("request_id"),
        },
        lang=lang,
        status_code=status,
        headers=headers,
    )
