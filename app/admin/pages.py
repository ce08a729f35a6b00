"""The admin console's pages (``/admin``). Admins only: to everyone else they do not exist.

Every action is a plain form (POST, then 303 back with a confirmation), so the console works
without JavaScript; each calls the owning domain's service, which checks the admin again and
writes the audit event.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.accounts import service as accounts_service
from app.admin.schemas import AuditFilters, OutboxFilters, UserFilters, WebhookFilters
from app.audit import service as audit_service
from app.auth.security import KEY_ID_PATTERN
from app.integrators import service as integrator_service
from app.integrators.schemas import ApiClientCreate, WebhookEndpointRead
from app.kit.db import SessionDep
from app.kit.errors import AppError, InvalidInput, say
from app.kit.guards import require_admin
from app.kit.i18n import N_, Lang, tr
from app.kit.idempotency import claim as claim_once
from app.kit.idempotency import complete as completed_once
from app.kit.idempotency import fingerprint
from app.kit.principal import Principal
from app.kit.reference import DISTRICTS
from app.kit.routing import domain_router
from app.kit.settings import Settings, SettingsDep
from app.kit.web.csrf import check_same_origin
from app.kit.web.deps import FormDep, PageLang, SignedInPage, base_context, form_str
from app.kit.web.filters import DATE_HINT, ID_HINT, Filters, read_filters
from app.kit.web.flash import flash_message, flash_redirect
from app.kit.web.forms import form_errors
from app.kit.web.templating import render
from app.mail import service as mail_service
from app.mail.worker import SENT_SECRET_BODY
from app.models import SCOPES
from app.verification import service as verification_service
from scoring import Phrase

router = domain_router(prefix="/admin", include_in_schema=False)

APPROVED = flash_message("admin.webhook_approved", N_("Webhook endpoint approved."))
DISABLED = flash_message("admin.webhook_disabled", N_("Webhook endpoint disabled."))
KEY_REVOKED = flash_message("admin.key_revoked", N_("API key revoked."))
CLIENT_CHANGED = flash_message("admin.client_changed", N_("API client updated."))
USER_CHANGED = flash_message("admin.user_changed", N_("User updated."))

F = TypeVar("F", bound=BaseModel)


def _admin(principal: SignedInPage) -> Principal:
    return require_admin(principal)


@dataclass(frozen=True, slots=True)
class ConsolePage:
    """A request to the admin console by an admin: what every console page works with."""

    request: Request
    session: Session
    settings: Settings
    principal: Principal
    lang: Lang

    def show(self, template: str, status_code: int = 200, **values: Any) -> Response:
        """The console page ``admin/<template>`` with ``values``."""
        context = base_context(self.request, self.principal, self.lang) | values
        return render(
            self.request, f"admin/{template}", context, lang=self.lang, status_code=status_code
        )

    def filters(self, model: type[F], **hints: str) -> Filters[F]:
        """The list's filters (``kit.web.filters``). When one is not valid, the page says which
        and why (422) and lists nothing: never the whole list as if it were the filtered one."""
        return read_filters(self.request, self.lang, model, hints)


def console_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(_admin)],
    lang: PageLang,
) -> ConsolePage:
    return ConsolePage(request, session, settings, principal, lang)


AdminPage = Annotated[ConsolePage, Depends(console_page)]


# --- webhook destinations -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EndpointView:
    endpoint: WebhookEndpointRead
    client_name: str
    #: Every address the URL's host resolves to now (what an approval lets the worker send to).
    addresses: list[str]
    #: Why the worker would refuse to send there, if it would, in the page's language.
    problem: str | None
    #: Why a disabled endpoint is off (its ``disabled_reason``), in the page's language.
    disabled: str | None


#: Why an endpoint is disabled, as the console says each ``disabled_reason`` the service
#: writes (a code without a phrase here shows as stored).
DISABLED_REASONS = {
    integrator_service.DISABLED_FAILING: N_("no delivery succeeded for too long"),
    integrator_service.DISABLED_BY_ADMIN: N_("by an administrator"),
}


def disabled_reason(lang: Lang, code: str | None) -> str | None:
    """``code`` (an endpoint's ``disabled_reason``) in ``lang``'s words."""
    if code is None or code not in DISABLED_REASONS:
        return code
    return tr(lang, DISABLED_REASONS[code])


def destination(url: str, settings: Settings) -> tuple[list[str], Phrase | None]:
    """The addresses ``url`` resolves to and, if registration, approval and the worker would
    refuse them, why (one resolver and check: ``app.integrators.destinations``)."""
    return integrator_service.destination(url, settings)


def _endpoint_views(console: ConsolePage, status: str | None) -> list[EndpointView]:
    page = integrator_service.admin_list_endpoints(
        console.session, console.principal, status=status, cursor=None, limit=100
    )
    names = {
        c.id: c.name
        for c in integrator_service.list_clients(
            console.session, console.principal, cursor=None, limit=200
        ).items
    }
    views = []
    for endpoint in page.items:
        addresses, reason = (
            destination(endpoint.url, console.settings)
            if endpoint.status == "pending"
            else ([], None)
        )
        # The same reason, in the same words, as the API's problem for this URL.
        problem = say(console.lang, reason) if reason is not None else None
        views.append(
            EndpointView(
                endpoint,
                names.get(endpoint.client_id, ""),
                addresses,
                problem,
                disabled_reason(console.lang, endpoint.disabled_reason),
            )
        )
    return views


# --- the console ----------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse, name="admin_console")
def home(console: AdminPage) -> Response:
    return console.show(
        "console.html",
        verification=verification_service.listing(
            console.session,
            console.principal,
            status="pending",
            district_code=None,
            cursor=None,
            limit=10,
        ),
        # Firms an official flagged: only an admin decides on them.
        flagged=verification_service.listing(
            console.session,
            console.principal,
            status=None,
            flagged=True,
            district_code=None,
            cursor=None,
            limit=10,
        ),
        claims=accounts_service.pending_claims(console.session, console.principal),
        webhooks=_endpoint_views(console, "pending"),
        mails=mail_service.recent(console.session, console.principal, cursor=None, limit=5).items,
    )


# --- webhooks -------------------------------------------------------------------------------------


@router.get("/webhooks", response_class=HTMLResponse, name="admin_webhooks")
def webhooks(console: AdminPage) -> Response:
    filters = console.filters(WebhookFilters)
    if filters.values is None:
        return console.show(
            "webhooks.html", 422, webhooks=[], status=filters.typed["status"], errors=filters.errors
        )
    status = filters.values.status
    return console.show(
        "webhooks.html", webhooks=_endpoint_views(console, status), status=status or "", errors={}
    )


@router.post("/webhooks/{endpoint_id}/approve", name="admin_webhook_approve")
def approve_webhook(console: AdminPage, endpoint_id: uuid.UUID) -> Response:
    check_same_origin(console.request)
    integrator_service.approve_endpoint(
        console.session, console.principal, console.settings, endpoint_id
    )
    return flash_redirect(console.request, "/admin/webhooks", APPROVED)


@router.post("/webhooks/{endpoint_id}/disable", name="admin_webhook_disable")
def disable_webhook(console: AdminPage, endpoint_id: uuid.UUID) -> Response:
    check_same_origin(console.request)
    integrator_service.admin_disable_endpoint(console.session, console.principal, endpoint_id)
    return flash_redirect(console.request, "/admin/webhooks", DISABLED)


# --- API clients and keys -------------------------------------------------------------------------


#: A form key as the page issues it (``secrets.token_urlsafe``); any other is ignored.
FORM_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _clients_page(
    console: ConsolePage,
    *,
    issued: str | None = None,
    error: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    sent_before: bool = False,
    status_code: int = 200,
) -> Response:
    """``values`` and ``errors``: a refused new-client form, shown again as it was sent with
    each field's error."""
    return console.show(
        "clients.html",
        clients=integrator_service.list_clients(
            console.session, console.principal, cursor=None, limit=200
        ).items,
        scopes=SCOPES,
        issued=issued,
        error=error,
        values=values or {},
        errors=errors or {},
        sent_before=sent_before,
        # One key per page shown: its forms that make a key (a new client, a rotation) are
        # done once with it (``_sent_before``).
        form_key=secrets.token_urlsafe(16),
        status_code=status_code,
    )


def _once_key(console: ConsolePage, form: FormData) -> str | None:
    """The idempotency key of a key-making form: its path and the page's form key. None when
    the form carries no key the page issued (then nothing guards against sending it twice)."""
    sent = form_str(form, "form_key")
    return f"page:{console.request.url.path}:{sent}" if FORM_KEY.fullmatch(sent) else None


def _sent_before(console: ConsolePage, key: str | None) -> bool:
    """Claim ``key`` for this request, in its transaction; True when an earlier request with it
    was done (the page answering a POST was reloaded, the button pressed twice): the key it
    made was shown on that answer, once, and is not made or shown again."""
    if key is None:
        return False
    path = console.request.url.path
    done = claim_once(
        console.session, console.principal.caller_key, key, fingerprint("POST", path, b"")
    )
    return done is not None


def _done_once(console: ConsolePage, key: str | None, made: dict[str, str]) -> None:
    """Record ``key`` as done, with what it made, in the transaction that made it."""
    if key is not None:
        completed_once(console.session, console.principal.caller_key, key, 200, made)


@router.get("/clients", response_class=HTMLResponse, name="admin_clients")
def clients(console: AdminPage) -> Response:
    return _clients_page(console)


@router.post("/clients", response_class=HTMLResponse, name="admin_client_create")
def create_client(console: AdminPage, form: FormDep) -> Response:
    """Shows the new key on the answer page itself, once (never in a redirect or a cookie)."""
    check_same_origin(console.request)
    values: dict[str, Any] = {
        "name": form_str(form, "name"),
        "contact_email": form_str(form, "contact_email"),
        "scopes": [s for s in form.getlist("scopes") if isinstance(s, str)],
    }
    once = _once_key(console, form)
    try:  # the API's rules: a name too long was cut to 200 characters without a word
        body = ApiClientCreate(**values)
        if _sent_before(console, once):  # a reload of the page that showed its key
            return _clients_page(console, sent_before=True)
        issued = integrator_service.create_api_client(
            console.session,
            console.principal,
            console.settings,
            name=body.name,
            scopes=list(body.scopes),
            contact_email=body.contact_email,
        )
    except (ValidationError, InvalidInput) as exc:
        console.session.rollback()
        errors = form_errors(console.lang, exc) if isinstance(exc, ValidationError) else {}
        if "scopes" in errors or isinstance(exc, InvalidInput):
            errors["scopes"] = tr(console.lang, "Choose at least one of the scopes shown.")
        return _clients_page(console, values=values, errors=errors, status_code=422)
    _done_once(console, once, {"client_id": str(issued.client.id), "key_id": issued.key.key_id})
    console.session.flush()
    return _clients_page(console, issued=issued.plaintext)


@router.post("/clients/{client_id}/keys", response_class=HTMLResponse, name="admin_key_create")
def issue_key(console: AdminPage, client_id: uuid.UUID, form: FormDep) -> Response:
    """Shows the new key on the answer page itself, once, as ``create_client`` does."""
    check_same_origin(console.request)
    once = _once_key(console, form)
    try:
        if _sent_before(console, once):  # a reload of the page that showed its key
            return _clients_page(console, sent_before=True)
        new = integrator_service.issue_key(
            console.session, console.principal, console.settings, client_id
        )
    except AppError as exc:
        console.session.rollback()
        message = tr(
            console.lang, "No key was issued: %(reason)s", reason=exc.detail_in(console.lang)
        )
        return _clients_page(console, error=message, status_code=409)
    _done_once(console, once, {"client_id": str(client_id), "key_id": new.key.key_id})
    return _clients_page(console, issued=new.plaintext)


@router.post("/clients/{client_id}/keys/{key_id}/revoke", name="admin_key_revoke")
def revoke_key(
    console: AdminPage, client_id: uuid.UUID, key_id: Annotated[str, Path(pattern=KEY_ID_PATTERN)]
) -> Response:
    check_same_origin(console.request)
    integrator_service.revoke_key(console.session, console.principal, key_id, client_id)
    return flash_redirect(console.request, "/admin/clients", KEY_REVOKED)


@router.post("/clients/{client_id}/disabled", name="admin_client_disable")
def set_client_disabled(console: AdminPage, client_id: uuid.UUID, form: FormDep) -> Response:
    check_same_origin(console.request)
    disabled = form_str(form, "disabled") == "1"
    integrator_service.set_client_disabled(console.session, console.principal, client_id, disabled)
    return flash_redirect(console.request, "/admin/clients", CLIENT_CHANGED)


# --- users ----------------------------------------------------------------------------------------


@router.get("/users", response_class=HTMLResponse, name="admin_users")
def users(console: AdminPage) -> Response:
    filters = console.filters(UserFilters)
    shown: dict[str, Any] = {"email": filters.typed["email"], "errors": filters.errors}
    if filters.values is None:
        return console.show("users.html", 422, page=None, **shown)
    page = accounts_service.list_users(
        console.session,
        console.principal,
        cursor=console.request.query_params.get("cursor") or None,
        limit=50,
        email=filters.values.email,
    )
    return console.show(
        "users.html",
        page=page,
        districts={code: d.name(console.lang) for code, d in DISTRICTS.items()},
        **shown,
    )


@router.post("/users/{user_id}/active", name="admin_user_active")
def set_user_active(console: AdminPage, user_id: uuid.UUID, form: FormDep) -> Response:
    check_same_origin(console.request)
    accounts_service.set_user_active(
        console.session, console.principal, user_id, form_str(form, "active") == "1"
    )
    return flash_redirect(console.request, "/admin/users", USER_CHANGED)


# --- audit trail ----------------------------------------------------------------------------------


#: The audit trail's actor kinds and target types as the console names them (the stored values
#: are identifiers; one without a name here shows as stored).
AUDIT_NAMES = {
    "anonymous": N_("anonymous visitor"),
    "cli": N_("command line"),
    "system": N_("the service"),
    "access_claim": N_("request to join a firm"),
    "api_client": N_("API client"),
    "assessment": N_("assessment"),
    "claim": N_("claim of a firm"),
    "contact": N_("contact person"),
    "enterprise": N_("enterprise"),
    "grant": N_("data access grant"),
    "heatmap": N_("heatmap"),
    "invitation": N_("invitation"),
    "login": N_("sign-in"),
    "reset": N_("password reset"),
    "user": N_("user"),
    "webhook_endpoint": N_("webhook endpoint"),
}


@router.get("/audit", response_class=HTMLResponse, name="admin_audit")
def audit(console: AdminPage) -> Response:
    """The trail searched by the filters of ``GET /api/v1/admin/audit-events``, with its rules."""
    filters = console.filters(AuditFilters, enterprise_id=ID_HINT, since=DATE_HINT, until=DATE_HINT)
    shown: dict[str, Any] = {
        "filters": filters.typed,
        "errors": filters.errors,
        "names": AUDIT_NAMES,
    }
    where = filters.values
    if where is None:
        return console.show("audit.html", 422, events=[], next_cursor=None, **shown)
    events, next_cursor = audit_service.search(
        console.session,
        console.principal,
        cursor=console.request.query_params.get("cursor") or None,
        limit=50,
        where=audit_service.AuditFilter(
            action=where.action,
            actor_id=where.actor_id,
            enterprise_id=where.enterprise_id,
            since=where.since,
            until=_through_day(filters.typed["until"], where.until),
        ),
    )
    return console.show("audit.html", events=events, next_cursor=next_cursor, **shown)


def _through_day(typed: str, until: datetime | None) -> datetime | None:
    """The end of the audit page's "until" filter. A date picked there is the last day listed
    (its events included: the API's ``until`` is the first moment left out, and a day given to
    it means its midnight); a date and time typed by hand is that moment, as the API reads it."""
    if until is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", typed.strip()):
        return until
    try:
        return until + timedelta(days=1)
    except OverflowError:  # through 9999-12-31: no end at all
        return None


# --- mail outbox ----------------------------------------------------------------------------------


@router.get("/outbox", response_class=HTMLResponse, name="admin_outbox")
def outbox(console: AdminPage) -> Response:
    filters = console.filters(OutboxFilters)
    shown: dict[str, Any] = {
        "to": filters.typed["to"],
        "errors": filters.errors,
        "smtp_host": console.settings.SMTP_HOST,
        # A sent secret message's body is this note, stored in English: said in the page's.
        "sent_secret_body": SENT_SECRET_BODY,
        "sent_secret_note": tr(console.lang, SENT_SECRET_BODY),
    }
    if filters.values is None:
        return console.show("outbox.html", 422, page=None, **shown)
    to = filters.values.to
    page = mail_service.recent(
        console.session,
        console.principal,
        cursor=console.request.query_params.get("cursor") or None,
        limit=30,
        to_address=to.lower() if to else None,
    )
    return console.show("outbox.html", page=page, **shown)
