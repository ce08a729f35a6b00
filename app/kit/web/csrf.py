"""CSRF for the forms shown before sign-in (register, sign in).

Signed-in forms carry the session's synchronizer token (``csrf_token``), checked by
``app.kit.guards.current_principal``. Before sign-in there is no session, so these forms
use a signed double-submit: a random nonce in an HttpOnly cookie and, in the form, an HMAC of it
under the service secret. A cross-site page can neither read the cookie nor forge the HMAC.
Unsafe page requests also must not come from another site (``Sec-Fetch-Site`` / ``Origin``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response
from starlette.datastructures import FormData

from app.kit.guards import CsrfFailed
from app.kit.principal import Principal
from app.kit.settings import Settings, settings_of

PRE_SESSION_COOKIE = "zhizao_csrf"


def _sign(settings: Settings, nonce: str) -> str:
    key = settings.SECRET_KEY.get_secret_value().encode()
    return hmac.new(key, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()


def pre_session_token(request: Request) -> str:
    """The token to put in an anonymous form (``attach_pre_session_cookie`` sets the nonce)."""
    settings = settings_of(request)
    nonce = request.cookies.get(PRE_SESSION_COOKIE)
    if not nonce or len(nonce) > 64:
        nonce = secrets.token_urlsafe(24)
        request.state.new_csrf_nonce = nonce
    return _sign(settings, nonce)


def attach_pre_session_cookie(request: Request, response: Response) -> None:
    nonce = getattr(request.state, "new_csrf_nonce", None)
    if nonce is not None:
        response.set_cookie(
            PRE_SESSION_COOKIE,
            nonce,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )


def check_pre_session_token(request: Request, presented: object) -> None:
    settings = settings_of(request)
    nonce = request.cookies.get(PRE_SESSION_COOKIE)
    if (
        not nonce
        or not isinstance(presented, str)
        or not hmac.compare_digest(presented, _sign(settings, nonce))
    ):
        raise CsrfFailed("The form has expired; reload the page and try again.")


def check_same_origin(request: Request) -> None:
    """Refuse unsafe page requests that a browser says came from another site."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise CsrfFailed("Cross-site form submissions are refused.")
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        # Host only: behind a TLS-terminating proxy the scheme seen here differs.
        if urlsplit(origin).netloc != request.headers.get("host", request.url.netloc):
            raise CsrfFailed("Cross-site form submissions are refused.")


def check_form(request: Request, principal: Principal, form: FormData) -> None:
    """An unsafe page request: from this site, and carrying the pre-session token when no one is
    signed in (a signed-in caller's session token was checked with the principal)."""
    check_same_origin(request)
    if principal.csrf_token is None:
        check_pre_session_token(request, form.get("csrf_token"))
