"""htmx helpers: tell full-page requests from htmx requests, redirect either kind.

Every page works without JavaScript (POST, then 303 to the next page); htmx only enhances
(autosave, partial re-renders). A handler renders the partial for ``HX-Request`` and the full
page otherwise, from the same context.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response


def is_htmx(request: Request) -> bool:
    """A request htmx made (``HX-Request: true``), except history restores, which want pages."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


HtmxDep = Annotated[bool, Depends(is_htmx)]


def redirect(request: Request, url: str) -> Response:
    """303 See Other for a browser; ``HX-Redirect`` (a full navigation) for htmx."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: never an open redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
