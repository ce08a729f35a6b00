"""Who the caller is, and what each kind of caller may see: authorization in one module.

Authentication turns a cookie session or an API key into a :class:`Principal` (the credential
checks belong to ``app.auth``; the app factory puts its ``Authenticator`` on ``app.state``).
Routes then state who may call them with an ``Annotated`` guard::

    def list_clients(principal: AdminOnly, ...)          # 401 anonymous, 404 everyone else
    def feed(principal: Annotated[Principal, Depends(scoped("assessments:read"))], ...)

and services ask the same rules (:func:`require_admin`, :func:`may_see_enterprise`, ...) for
callers that come without a route (the CLI is an admin).

The rules (design §7). A resource a caller may not see answers 404, never 403; 403 is only for
an API key without the scope an operation needs, and for CSRF failures.

=================  ===========================================================================
caller             sees
=================  ===========================================================================
anonymous          questionnaires, subsidy catalogue, facts, registration, sign-in (else 401)
enterprise user    its own enterprise: profile, assessments, results, reports, grants, privacy
integrator (key)   the enterprises that granted it access and have not revoked it, within the
                   key's scopes; its own webhooks, notices and feed; never a list of firms
official           heatmaps (a district official: breakdowns of its own district) and, for a
                   district official, confirming the firms of its district; never one firm
admin, CLI         everything (audited)
=================  ===========================================================================

"May see this enterprise" is :func:`may_see_enterprise`: the one rule every firm-level read and
write goes through (assessments, results, reports, grants, privacy); :func:`enterprise_visibility`
is the same rule as a SQL condition, for reading a firm's row and the right to see it at once.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    SQLColumnExpression,
    bindparam,
    exists,
    false,
    select,
    true,
)
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute

from app.kit.db import SessionDep
from app.kit.errors import (
    Forbidden,
    InvalidCredentials,
    NotFound,
    Unauthorized,
    problem_responses,
)
from app.kit.i18n import N_
from app.kit.principal import ANONYMOUS, Principal
from app.models import Enterprise, Grant

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

#: ``openapi_extra`` of operations anyone may call: the caller may also be signed in or send a
#: key (it then counts towards that key's rate limit), which OpenAPI states with ``{}``.
PUBLIC_OPERATION: dict[str, object] = {
    "security": [{}, {"HTTPBearer": []}, {"APIKeyCookie": []}],
}


class CsrfFailed(Forbidden):
    problem = "csrf-failed"


class InsufficientScope(Forbidden):
    """An API key without the scope the operation needs: its own problem type, so that its own
    title ("Insufficient scope") is the only one that type ever carries."""

    problem = "insufficient-scope"

    def __init__(self, detail: str, **kwargs: Any) -> None:
        kwargs.setdefault("title", N_("Insufficient scope"))
        super().__init__(detail, **kwargs)


# --- authentication ------------------------------------------------------------------------------


class Authenticator(Protocol):
    """Turns a presented credential into the caller (``app.auth.service.Authenticator``)."""

    def from_api_key(self, session: Session, presented: str, request: Request) -> Principal: ...

    def from_cookie(self, session: Session, token: str, request: Request) -> Principal: ...


def client_address(request: Request) -> str:
    """The address a request came from, the one notion of it (the sign-in throttle, failed API
    keys): behind a reverse proxy, uvicorn's ``--forwarded-allow-ips`` makes it the real
    client's."""
    return request.client.host if request.client else "unknown"


def authenticator_of(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


def resolve_principal(
    request: Request,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> Principal:
    """The API key when an ``Authorization`` header is sent (and then only the key: an invalid
    one is 401 even beside a valid session cookie, see ``InvalidCredentials``), else the
    session cookie, else anonymous."""
    authenticator = authenticator_of(request)
    # Until a credential is accepted the caller is anonymous (the error page and log say so).
    request.state.principal = ANONYMOUS
    if request.headers.get("authorization") is not None:
        if bearer is None:
            raise InvalidCredentials("Send the API key as `Authorization: Bearer <key>`.")
        principal = authenticator.from_api_key(session, bearer.credentials, request)
    elif cookie:
        principal = authenticator.from_cookie(session, cookie, request)
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
    await _enforce_csrf(request, principal)
    return principal


async def _enforce_csrf(request: Request, principal: Principal) -> None:
    if principal.csrf_token is not None and request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER)
        content_type = request.headers.get("content-type", "")
        if presented is None and content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.form()
            field = form.get(CSRF_FORM_FIELD)
            presented = field if isinstance(field, str) else None
        if presented is None or not hmac.compare_digest(
            presented.encode(), principal.csrf_token.encode()
        ):
            raise CsrfFailed("The CSRF token is missing or wrong; reload the page and try again.")


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


# --- the rules -----------------------------------------------------------------------------------


# The guards below do no I/O: async, so that FastAPI calls them on the event loop instead of
# sending each through the thread pool (a measurable share of a cheap request).
async def require_signed_in(principal: CurrentPrincipal) -> Principal:
    return _signed_in(principal)


def _signed_in(principal: Principal) -> Principal:
    if principal.kind == "anonymous":
        raise Unauthorized("Sign in or send an API key.")
    return principal


SignedIn = Annotated[Principal, Depends(require_signed_in)]


def require_admin(principal: Principal) -> Principal:
    """Admins (and the CLI); to anyone else the operation does not exist."""
    if not principal.is_admin:
        raise NotFound()
    return principal


def require_integrator(principal: Principal) -> uuid.UUID:
    """An integrator's own resources (feed, webhooks, notices); its API client id."""
    if not principal.is_integrator or principal.id is None:
        raise NotFound()
    return principal.id


def may_see_heatmaps(principal: Principal) -> bool:
    """Officials (district or city-wide) and admins; everyone else is told the page is absent."""
    return principal.is_admin or principal.is_official


def require_heatmap_viewer(principal: Principal) -> Principal:
    if not may_see_heatmaps(principal):
        raise NotFound()
    return principal


def may_see_enterprise(session: Session, principal: Principal, enterprise_id: uuid.UUID) -> bool:
    """The single rule of firm-level visibility (design §7).

    Admins see every firm, an enterprise user its own, an integrator the firms that granted it
    access and have not revoked it. Officials see aggregates only, never one firm.
    """
    if principal.is_admin:
        return True
    if principal.is_enterprise_user:
        return principal.enterprise_id == enterprise_id
    if principal.is_integrator and principal.id is not None:
        return _AccessRepository(session).has_active_grant(enterprise_id, principal.id)
    return False


def enterprise_visibility(
    principal: Principal, enterprise_id: SQLColumnExpression[uuid.UUID]
) -> ColumnElement[bool]:
    """:func:`may_see_enterprise` as a SQL condition on a column that holds an enterprise id, so
    that a firm's row and the right to see it are read in one query (a resource the caller may
    not see is absent either way: 404). The same rule, case by case (:func:`visibility_of`),
    with the caller's ids filled in."""
    return visibility_of(principal).condition(enterprise_id, with_values=True)


@dataclass(frozen=True, slots=True)
class Visibility:
    """:func:`enterprise_visibility` in two parts: the condition's ``shape`` with the caller's
    ids as bound parameters, and their values (``params``). A statement built on one shape is
    the same for every caller of that shape, so a repository can build it once and keep it
    (statement construction cost more than the query on the hot reads; docs/benchmarks.md,
    "ep-result")."""

    shape: Literal["all", "own", "granted", "none"]
    params: dict[str, uuid.UUID]

    def condition(
        self, enterprise_id: SQLColumnExpression[uuid.UUID], *, with_values: bool = False
    ) -> ColumnElement[bool]:
        """The condition on ``enterprise_id``; its parameters carry ``params``' values when
        ``with_values`` (a statement made for one caller), else they are bound at execution."""

        def param(name: str) -> BindParameter[uuid.UUID]:
            return bindparam(name, self.params[name]) if with_values else bindparam(name)

        if self.shape == "all":
            return true()
        if self.shape == "own":
            return enterprise_id == param("visible_enterprise_id")
        if self.shape == "granted":
            return exists().where(
                Grant.enterprise_id == enterprise_id,
                Grant.client_id == param("visible_client_id"),
                Grant.revoked_at.is_(None),
            )
        return false()


def visibility_of(principal: Principal) -> Visibility:
    """The rule of :func:`may_see_enterprise` for one caller: admins every firm, an enterprise
    user its own, an integrator the firms with an active grant to it; nobody else any."""
    if principal.is_admin:
        return Visibility("all", {})
    if principal.is_enterprise_user:
        if principal.enterprise_id is None:
            return Visibility("none", {})
        return Visibility("own", {"visible_enterprise_id": principal.enterprise_id})
    if principal.is_integrator and principal.id is not None:
        return Visibility("granted", {"visible_client_id": principal.id})
    return Visibility("none", {})


def visible_enterprise(
    session: Session, principal: Principal, enterprise_id: uuid.UUID
) -> Enterprise:
    """The enterprise, if it exists and the caller may see it; otherwise 404."""
    enterprise = _AccessRepository(session).enterprise(enterprise_id)
    if enterprise is None or not may_see_enterprise(session, principal, enterprise_id):
        raise NotFound("No enterprise with this id.")
    return enterprise


def require_firm_member(session: Session, principal: Principal, enterprise_id: uuid.UUID) -> None:
    """Acting on all of a firm's data or on its consent (export, deletion, contacts, grants):
    the firm's own users and admins; to integrators and everyone else the firm is absent."""
    if principal.is_integrator:
        raise NotFound("No enterprise with this id.")
    visible_enterprise(session, principal, enterprise_id)


class _AccessRepository:
    """The two reads the visibility rule needs."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def enterprise(self, enterprise_id: uuid.UUID) -> Enterprise | None:
        return self.session.get(Enterprise, enterprise_id)

    def has_active_grant(self, enterprise_id: uuid.UUID, client_id: uuid.UUID) -> bool:
        return (
            self.session.scalar(
                select(Grant.id).where(
                    Grant.enterprise_id == enterprise_id,
                    Grant.client_id == client_id,
                    Grant.revoked_at.is_(None),
                )
            )
            is not None
        )


# --- guards: the rules as route dependencies -----------------------------------------------------


def scoped(scope: str) -> Callable[[Request, Principal], Awaitable[Principal]]:
    """Signed in; an API key must also carry ``scope`` (403 otherwise). Users are not scoped.
    (Async: no I/O, so no trip through the thread pool.)"""

    # current_principal and require_signed_in inline (the same checks in the same order): each
    # dependency level is resolved per request in pure Python, and every API call passes here.
    async def check(
        request: Request, principal: Annotated[Principal, Depends(resolve_principal)]
    ) -> Principal:
        await _enforce_csrf(request, principal)
        _signed_in(principal)
        if principal.is_integrator and scope not in principal.scopes:
            raise InsufficientScope(
                "This API key lacks the scope %(scope)s this operation needs.", scope=repr(scope)
            )
        return principal

    check.scope = scope  # type: ignore[attr-defined]  # read by document_scope_refusals
    return check


def document_scope_refusals(routes: Iterable[BaseRoute]) -> None:
    """Every operation that needs a key's scope (a :func:`scoped` dependency anywhere in its
    dependencies) documents the 403 ``insufficient-scope`` it answers without one: a dependency
    cannot declare responses, and eleven operations answered a 403 their OpenAPI did not list
    (a generated client then raised "unexpected status" instead of returning the problem)."""
    for route in routes:
        if isinstance(route, APIRoute) and 403 not in route.responses:
            if _needs_scope(route.dependant):
                merged = {**route.responses, **problem_responses(403)}
                route.responses = dict(sorted(merged.items(), key=lambda item: str(item[0])))


def _needs_scope(dependant: Dependant) -> bool:
    return any(hasattr(sub.call, "scope") or _needs_scope(sub) for sub in dependant.dependencies)


async def _admin_only(principal: SignedIn) -> Principal:
    return require_admin(principal)


async def _heatmap_viewer(principal: SignedIn) -> Principal:
    return require_heatmap_viewer(principal)


#: Admins only: 401 for anonymous callers, 404 for everyone else (before the body is read).
AdminOnly = Annotated[Principal, Depends(_admin_only)]
#: Officials and admins (heatmaps).
HeatmapViewer = Annotated[Principal, Depends(_heatmap_viewer)]


# Guards that refuse before FastAPI validates the request: a caller who may not call an operation
# gets its 401/404 whatever the request holds (a malformed body must not answer 422 and so tell
# a stranger what the operation expects).


async def _integrator_only(principal: SignedIn) -> Principal:
    require_integrator(principal)
    return principal


def may_verify_firms(principal: Principal) -> bool:
    """Admins, and officials of one district (the firms of that district; city-wide officials
    confirm none)."""
    return principal.is_admin or (principal.is_official and principal.district_code is not None)


async def _verifier(principal: SignedIn) -> Principal:
    if not may_verify_firms(principal):
        raise NotFound()
    return principal


async def _integrator_or_admin(principal: SignedIn) -> Principal:
    if not (principal.is_integrator or principal.is_admin):
        raise NotFound("No enterprise with this id.")
    return principal


def _firm_member(enterprise_id: uuid.UUID, session: SessionDep, principal: SignedIn) -> Principal:
    require_firm_member(session, principal, enterprise_id)
    return principal


#: An integrator's own resources (webhooks, notices): 401 anonymous, 404 everyone else.
IntegratorOnly = Annotated[Principal, Depends(_integrator_only)]
#: Confirming firms (admins, district officials).
Verifier = Annotated[Principal, Depends(_verifier)]
#: Integrators (the firms they registered) and admins: the owner invitation.
IntegratorOrAdmin = Annotated[Principal, Depends(_integrator_or_admin)]
#: The firm's own users and admins, for the whole firm's data (export, contacts); needs the
#: route's ``enterprise_id``.
FirmMember = Annotated[Principal, Depends(_firm_member)]
