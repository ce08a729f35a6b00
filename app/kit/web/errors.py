"""HTML rendering of errors for page routes; the JSON API keeps problem+json (``kit.errors``)."""

from __future__ import annotations

import json
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response

from app.kit.errors import INVALID_FIELDS, PROBLEM_HANDLERS, AppError, Handler, NotFound
from app.kit.guards import SESSION_COOKIE, authenticator_of
from app.kit.i18n import negotiate_lang
from app.kit.principal import ANONYMOUS, Principal
from app.kit.web.deps import base_context
from app.kit.web.htmx import is_htmx, safe_next
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
        if wants_html(request) and _names_no_page(exc):
            exc = NotFound()
            response = await _APP_ERROR(request, exc)
        else:
            response = await handler(request, exc)
        if not wants_html(request):
            return response
        return await run_in_threadpool(html_error, request, response, exc)

    return handle


_APP_ERROR = dict(PROBLEM_HANDLERS)[AppError]


def _names_no_page(exc: Exception) -> bool:
    """Whether a page's address cannot name a page: an id or name in its path that cannot even
    be read (``/assessments/not-a-uuid``).

    The rule (design §7): a page the caller may not see, or that cannot exist, answers 404, the
    same page as an unknown id gets; never a 422 naming the path parameter. The JSON API keeps
    its 422, which names the field for the program that sent it."""
    return isinstance(exc, RequestValidationError) and any(
        (error.get("loc") or ("",))[0] == "path" for error in exc.errors()
    )


def _lists_fields(exc: Exception | None) -> bool:
    """Whether a problem's detail lists its refused fields by their paths (``INVALID_FIELDS``:
    "body.reason", "query.x"), which a page's reader cannot know: the page says so in words."""
    if isinstance(exc, RequestValidationError):
        return True
    return isinstance(exc, AppError) and exc.template == INVALID_FIELDS


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


def _same_site(request: Request, url: str | None) -> str | None:
    """``url``'s path and query if it is a page of this site, else ``None``."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.url.netloc:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_next(path, default="") or None


def _page_of(request: Request) -> str:
    """The page a request came from, to come back to after signing in: a GET's own URL; for a
    form's POST the page the browser showed (htmx says which, a plain post's Referer does, the
    site's Referrer-Policy being same-origin), else the POST's own path (a wizard form posts to
    its page's URL)."""
    own = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method in ("GET", "HEAD"):
        return own
    shown = request.headers.get("hx-current-url") if is_htmx(request) else None
    return (
        _same_site(request, shown)
        or _same_site(request, request.headers.get("referer"))
        or request.url.path
    )


def sign_in_url(request: Request) -> str:
    """The sign-in page, coming back to the request's page (``_page_of``) afterwards."""
    return "/login?next=" + quote(_page_of(request), safe="/")


def _back_url(request: Request) -> str | None:
    """The page of this site the browser came from (its Referer), to offer a way back: for a
    form's post, the form's page; none for a page that is this very address (the error page
    reloaded)."""
    back = _same_site(request, request.headers.get("referer"))
    own = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return None if back == own and request.method in ("GET", "HEAD") else back


def html_error(
    request: Request, problem_response: Response, exc: Exception | None = None
) -> Response:
    """The error page for a problem+json response (same status and headers); ``exc``, the
    exception it answers, decides whether its detail can be shown as it is (``_lists_fields``)."""
    problem = json.loads(bytes(problem_response.body))
    status = problem_response.status_code
    kind = str(problem.get("type", "")).rsplit("/", 1)[-1]
    # Signing in is the answer to a missing credential (never signed in, or the session ended),
    # not to a wrong one the client keeps sending (an Authorization header, which no browser
    # sends): that gets the error page. A page is redirected to sign in, and so is htmx's
    # request from a page (a wizard's autosave: HX-Redirect, back to the page afterwards); a
    # plain form post gets the error page with a sign-in link (redirecting would drop what it
    # posted without a word).
    signing_in = status == 401 and kind != "invalid-credentials"
    if signing_in and request.method in ("GET", "HEAD"):
        target = sign_in_url(request)
        if is_htmx(request):
            return Response(status_code=200, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    if signing_in and is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": sign_in_url(request)})
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
            "detail": "" if _lists_fields(exc) else problem.get("detail", ""),
            "request_id": problem.get("request_id"),
            "back_url": _back_url(request),
            "sign_in_url": sign_in_url(request) if signing_in else None,
        },
        lang=lang,
        status_code=status,
        headers=headers,
    )
