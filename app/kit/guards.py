"""Authentication: who the caller is (cookie session or API key) and CSRF for cookie requests."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from app.accounts.repository import ApiKeyRepository, WebSessionRepository
from app.auth.security import constant_time_equals, sha256_hex, split_api_key
from app.kit.db import SessionDep
from app.kit.errors import Forbidden, Unauthorized
from app.kit.principal import ANONYMOUS, Principal
from app.kit.settings import Settings
from app.models import utcnow

SESSION_COOKIE = "zhizao_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer_scheme = HTTPBearer(
    auto_error=False,
    bearerFormat="zk_<env>_<key id>_<secret>",
    description="API key of an integrator: `Authorization: Bearer zk_live_...`",
)
cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="Web session of a signed-in user; unsafe requests also send X-CSRF-Token.",
)


class CsrfFailed(Forbidden):
    problem = "csrf-failed"


def _principal_from_api_key(session: SessionDep, presented: str, request: Request) -> Principal:
    parts = split_api_key(presented)
    if parts is None:
        raise Unauthorized("The API key is malformed.")
    key_id, secret = parts
    key = ApiKeyRepository(session).get_with_client(key_id)
    if (
        key is None
        or key.revoked_at is not None
        or key.client.disabled_at is not None
        or not constant_time_equals(key.secret_sha256, sha256_hex(secret))
    ):
        raise Unauthorized("The API key is unknown or revoked.")
    now = utcnow()
    # Throttle the write: last-used time to the minute is all anyone needs.
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        key.last_used_at = now
        session.flush()
        request.state.touch_commit = True
    return Principal(
        kind="api_client",
        id=key.client_id,
        scopes=frozenset(key.scopes),
        request_id=getattr(request.state, "request_id", None),
    )


def principal_from_cookie(session: SessionDep, token: str, request: Request) -> Principal:
    settings: Settings = request.app.state.settings
    web_session = WebSessionRepository(session).get_with_user(sha256_hex(token))
    now = utcnow()
    if web_session is None:
        return ANONYMOUS
    idle_expired = now - web_session.last_seen_at > timedelta(minutes=settings.SESSION_IDLE_MINUTES)
    if idle_expired or now >= web_session.expires_at or not web_session.user.is_active:
        WebSessionRepository(session).delete(web_session.token_hash)
        request.state.touch_commit = True
        return ANONYMOUS
    if now - web_session.last_seen_at > timedelta(minutes=1):
        web_session.last_seen_at = now
        request.state.touch_commit = True
    user = web_session.user
    return Principal(
        kind="user",
        id=user.id,
        role=user.role,
        enterprise_id=user.enterprise_id,
        district_code=user.district_code,
        request_id=getattr(request.state, "request_id", None),
        csrf_token=web_session.csrf_token,
    )


def resolve_principal(
    request: Request,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> Principal:
    if request.headers.get("authorization") is not None:
        if bearer is None:
            raise Unauthorized("Send the API key as `Authorization: Bearer <key>`.")
        principal = _principal_from_api_key(session, bearer.credentials, request)
    elif cookie:
        principal = principal_from_cookie(session, cookie, request)
    else:
        principal = ANONYMOUS
    if getattr(request.state, "touch_commit", False):
        # Housekeeping (last-used, expired session) must stick even when the request fails.
        session.commit()
    request.state.principal = principal
    return principal


async def current_principal(
    request: Request, principal: Annotated[Principal, Depends(resolve_principal)]
) -> Principal:
    """The caller, with CSRF enforced on cookie-authenticated unsafe requests
    (synchronizer token: header ``X-CSRF-Token`` or form field ``csrf_token``)."""
    if principal.csrf_token is not None and request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER)
        content_type = request.headers.get("content-type", "")
        if presented is None and content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.form()
            field = form.get(CSRF_FORM_FIELD)
            presented = field if isinstance(field, str) else None
        if presented is None or not constant_time_equals(presented, principal.csrf_token):
            raise CsrfFailed("The CSRF token is missing or wrong; reload the page and try again.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_signed_in(principal: CurrentPrincipal) -> Principal:
    if principal.kind == "anonymous":
        raise Unauthorized("Sign in or send an API key.")
    return principal


SignedIn = Annotated[Principal, Depends(require_signed_in)]


#: ``openapi_extra`` of operations anyone may call: the caller may also be signed in or send a
#: key (it then counts towards that key's rate limit), which OpenAPI states with ``{}``.
PUBLIC_OPERATION: dict[str, object] = {
    "security": [{}, {"HTTPBearer": []}, {"APIKeyCookie": []}],
}
