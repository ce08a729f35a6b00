"""Integrator API: API clients and key rotation (admins), consent grants (enterprise users),
the score feed and webhook endpoints (integrators).

Access: admin operations answer 404 to everyone else; a firm's grants are seen by its own users
and admins; an integrator sees only its own endpoints, deliveries and notices, and in the feed only
firms whose consent is active. Revoking consent ends reads, the feed and webhooks in the same
transaction.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.security import issue_api_key
from app.integrators import events, schemas, sealing
from app.integrators.destinations import (
    UnsafeDestination,
    allows_http,
    checked_addresses,
)
from app.integrators.repository import DISABLED_FAILING as DISABLED_FAILING  # the console says it
from app.integrators.repository import (
    ClientRepository,
    FeedRepository,
    GrantRepository,
    NoticeRepository,
    WebhookRepository,
)
from app.kit.clock import utcnow
from app.kit.cursor import POSITION, TIME_TEXT, TIME_UUID, Page, paginate
from app.kit.db import begin_write
from app.kit.errors import Conflict, FieldError, InvalidInput, NotFound
from app.kit.guards import (
    require_admin,
    require_firm_member,
    require_integrator,
    visible_enterprise,
)
from app.kit.i18n import N_, Lang
from app.kit.principal import SYSTEM, Principal
from app.kit.settings import Settings
from app.models import SCOPES, ApiClient, ApiKey, Grant, IntegratorNotice, WebhookEndpoint
from scoring import Phrase

#: Live keys a client may hold at once: the current one and its successor during rotation.
MAX_LIVE_KEYS = 2
DISABLED_BY_ADMIN = "disabled_by_admin"


def _created(row: ApiClient | IntegratorNotice | WebhookEndpoint) -> tuple[datetime, uuid.UUID]:
    return row.created_at, row.id


# --- API clients and keys ------------------------------------------------------------------------


def client_view(client: ApiClient, keys: list[ApiKey]) -> schemas.ApiClientRead:
    return schemas.ApiClientRead(
        id=client.id,
        name=client.name,
        contact_email=client.contact_email,
        disabled_at=client.disabled_at,
        created_at=client.created_at,
        keys=[schemas.ApiKeyRead.model_validate(k) for k in keys if k.client_id == client.id],
    )


def list_clients(
    session: Session, principal: Principal, *, cursor: str | None, limit: int
) -> Page[schemas.ApiClientRead]:
    require_admin(principal)
    repository = ClientRepository(session)
    rows = repository.page(after=TIME_UUID.decode(cursor), limit=limit + 1)
    page, next_cursor = paginate(rows, limit, TIME_UUID, _created)
    keys = repository.keys([c.id for c in page])
    return Page[schemas.ApiClientRead](
        items=[client_view(c, keys) for c in page], next_cursor=next_cursor
    )


def get_client(
    session: Session, principal: Principal, client_id: uuid.UUID
) -> schemas.ApiClientRead:
    require_admin(principal)
    repository = ClientRepository(session)
    client = repository.get(client_id)
    if client is None:
        raise NotFound("No API client with this id.")
    return client_view(client, repository.keys([client.id]))


@dataclass(frozen=True, slots=True)
class NewKey:
    key: ApiKey
    plaintext: str


@dataclass(frozen=True, slots=True)
class NewClient:
    client: ApiClient
    key: ApiKey
    plaintext: str


def _add_key(
    repository: ClientRepository, settings: Settings, client_id: uuid.UUID, scopes: list[str]
) -> NewKey:
    issued = issue_api_key(settings.api_key_prefix)
    key = repository.add_key(
        ApiKey(
            client_id=client_id,
            key_id=issued.key_id,
            secret_sha256=issued.secret_sha256,
            scopes=sorted(set(scopes)),
        )
    )
    return NewKey(key, issued.plaintext)


def create_api_client(
    session: Session,
    principal: Principal,
    settings: Settings,
    *,
    name: str,
    scopes: list[str],
    contact_email: str = "",
) -> NewClient:
    """Register an integrator with its first key: the one way to create an API client (the
    admin API and ``zhizao create-api-client``). The key's plaintext is in the answer, once."""
    require_admin(principal)
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise InvalidInput(
            "unknown scopes: %(unknown)s; known: %(known)s",
            unknown=", ".join(unknown),
            known=", ".join(SCOPES),
            errors=[FieldError("body.scopes", "unknown scope", "unknown")],
        )
    repository = ClientRepository(session)
    client = repository.add_client(ApiClient(name=name, contact_email=contact_email))
    new = _add_key(repository, settings, client.id, scopes)
    audit.record(
        session,
        principal,
        "api_client.create",
        "api_client",
        client.id,
        detail={"scopes": new.key.scopes},
    )
    return NewClient(client, new.key, new.plaintext)


def create_client(
    session: Session, principal: Principal, settings: Settings, data: schemas.ApiClientCreate
) -> schemas.IssuedKeyRead:
    issued = create_api_client(
        session,
        principal,
        settings,
        name=data.name,
        scopes=list(data.scopes),
        contact_email=data.contact_email,
    )
    return schemas.IssuedKeyRead(
        client=client_view(issued.client, [issued.key]),
        key=schemas.ApiKeyRead.model_validate(issued.key),
        api_key=issued.plaintext,
    )


def issue_key(
    session: Session,
    principal: Principal,
    settings: Settings,
    client_id: uuid.UUID,
    scopes: list[str] | None = None,
) -> NewKey:
    """A new key for rotation. At most MAX_LIVE_KEYS are live: revoke the old one first."""
    require_admin(principal)
    begin_write(session)
    repository = ClientRepository(session)
    client = repository.lock(client_id)  # concurrent rotations wait here
    if client is None:
        raise NotFound("No API client with this id.")
    live = repository.live_keys(client.id)
    if len(live) >= MAX_LIVE_KEYS:
        raise Conflict(
            "This client already has %(n)s live keys; revoke the older one (%(key_id)s) before "
            "issuing another.",
            n=MAX_LIVE_KEYS,
            key_id=live[0].key_id,
        )
    if scopes is None:
        if not live:
            raise InvalidInput(
                "The client has no live key to copy scopes from; name the scopes.",
                errors=[FieldError("body.scopes", "required when no key is live", "missing")],
            )
        scopes = list(live[-1].scopes)
    new = _add_key(repository, settings, client.id, scopes)
    audit.record(
        session,
        principal,
        "api_key.create",
        "api_client",
        client.id,
        detail={"key_id": new.key.key_id, "scopes": new.key.scopes},
    )
    return new


def revoke_key(
    session: Session, principal: Principal, key_id: str, client_id: uuid.UUID | None = None
) -> ApiKey:
    """Revoke a key at once (the next request with it answers 401)."""
    require_admin(principal)
    begin_write(session)
    key = ClientRepository(session).key(key_id)
    if key is None or (client_id is not None and key.client_id != client_id):
        raise NotFound("No API key with this id.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(
            session,
            principal,
            "api_key.revoke",
            "api_client",
            key.client_id,
            detail={"key_id": key.key_id},
        )
        session.flush()
    return key


def set_client_disabled(
    session: Session, principal: Principal, client_id: uuid.UUID, disabled: bool
) -> schemas.ApiClientRead:
    require_admin(principal)
    begin_write(session)
    repository = ClientRepository(session)
    client = repository.get(client_id)
    if client is None:
        raise NotFound("No API client with this id.")
    if disabled and client.disabled_at is None:
        client.disabled_at = utcnow()
        audit.record(session, principal, "api_client.disable", "api_client", client.id)
    elif not disabled and client.disabled_at is not None:
        client.disabled_at = None
        audit.record(session, principal, "api_client.enable", "api_client", client.id)
    session.flush()
    return client_view(client, repository.keys([client.id]))


# --- consent -------------------------------------------------------------------------------------


def integrator_directory(session: Session, principal: Principal) -> list[schemas.IntegratorSummary]:
    """The integrators a firm may grant access to (enabled API clients)."""
    if not (principal.is_enterprise_user or principal.is_admin):
        raise NotFound()
    return [
        schemas.IntegratorSummary.model_validate(c) for c in ClientRepository(session).enabled()
    ]


def grant_view(grant: Grant, client: ApiClient) -> schemas.GrantRead:
    return schemas.GrantRead(
        client=schemas.IntegratorSummary.model_validate(client),
        enterprise_id=grant.enterprise_id,
        method=grant.method,
        evidence=grant.evidence or {},
        granted_at=grant.granted_at,
        revoked_at=grant.revoked_at,
        active=grant.revoked_at is None,
    )


def list_grants(
    session: Session, principal: Principal, enterprise_id: uuid.UUID
) -> list[schemas.GrantRead]:
    """Every integrator the firm has granted access to, active and revoked."""
    require_firm_member(session, principal, enterprise_id)
    return [grant_view(g, c) for g, c in GrantRepository(session).for_enterprise(enterprise_id)]


def grant_access(
    session: Session,
    principal: Principal,
    enterprise_id: uuid.UUID,
    client_id: uuid.UUID,
    *,
    method: Literal["web", "api"] = "api",
) -> schemas.GrantRead:
    """A user of the firm grants an integrator access (again, after a revocation)."""
    begin_write(session)
    require_firm_member(session, principal, enterprise_id)
    enterprise = visible_enterprise(session, principal, enterprise_id)
    GrantRepository(session).lock_enterprise(enterprise_id)  # against a submit beside it
    client = ClientRepository(session).get(client_id)
    if client is None or client.disabled_at is not None:
        raise InvalidInput(
            "No integrator with this id.",
            errors=[FieldError("body.client_id", "no such integrator", "unknown")],
        )
    repository = GrantRepository(session)
    grant = repository.get(enterprise_id, client_id)
    now = utcnow()
    user_id = principal.id if principal.kind == "user" else None
    if grant is None:
        grant = repository.add(
            Grant(
                enterprise_id=enterprise_id,
                client_id=client_id,
                method=method,
                evidence={},
                granted_by_user_id=user_id,
                granted_at=now,
            )
        )
    elif grant.revoked_at is not None:
        grant.revoked_at = None
        grant.method = method
        grant.evidence = {}
        grant.granted_by_user_id = user_id
        grant.granted_at = now
    else:
        return grant_view(grant, client)  # already granted: nothing changes
    session.flush()
    events.on_grant_created(session, grant, enterprise)
    audit.record(
        session,
        principal,
        "grant.create",
        "grant",
        grant.id,
        enterprise_id=enterprise_id,
        detail={"client_id": str(client_id), "method": method},
    )
    session.flush()
    return grant_view(grant, client)


def revoke_access(
    session: Session, principal: Principal, enterprise_id: uuid.UUID, client_id: uuid.UUID
) -> schemas.GrantRead:
    """End an integrator's access at once: reads and the feed (they check the grant), pending
    webhooks about the firm (cancelled here) and future ones (never enqueued)."""
    begin_write(session)
    require_firm_member(session, principal, enterprise_id)
    grant = GrantRepository(session).get(enterprise_id, client_id)
    client = ClientRepository(session).get(client_id)
    if grant is None or client is None:
        raise NotFound("This integrator has no access to the enterprise.")
    if grant.revoked_at is None:
        # A submit beside it must not queue events for the grant this revocation ends.
        GrantRepository(session).lock_enterprise(enterprise_id)
        grant.revoked_at = utcnow()
        session.flush()
        events.on_grant_revoked(session, grant)
        audit.record(
            session,
            principal,
            "grant.revoke",
            "grant",
            grant.id,
            enterprise_id=enterprise_id,
            detail={"client_id": str(client_id)},
        )
    return grant_view(grant, client)


def granted_firms(
    session: Session, principal: Principal, *, cursor: str | None, limit: int
) -> Page[schemas.GrantedFirm]:
    """The firms that consent to the calling integrator now, by grant time."""
    client_id = require_integrator(principal)
    rows = GrantRepository(session).granted_to(
        client_id, after=TIME_UUID.decode(cursor), limit=limit + 1
    )
    page, next_cursor = paginate(rows, limit, TIME_UUID, lambda r: (r[0].granted_at, r[0].id))
    scopes = sorted(principal.scopes)
    return Page[schemas.GrantedFirm](
        items=[
            schemas.GrantedFirm(
                enterprise_id=enterprise.id,
                credit_code=enterprise.credit_code,
                name=enterprise.name,
                method=grant.method,
                granted_at=grant.granted_at,
                scopes=scopes,
            )
            for grant, enterprise in page
        ],
        next_cursor=next_cursor,
    )


# --- feed ----------------------------------------------------------------------------------------


def feed(
    session: Session, principal: Principal, *, cursor: str | None, limit: int
) -> schemas.FeedPage:
    """Submitted results of the firms that consented, in commit order (app.integrators.events)."""
    client_id = require_integrator(principal)
    after = POSITION.decode(cursor) or 0
    feed_entries = FeedRepository(session)
    if after > feed_entries.last_seq(client_id):
        # Only a cursor of another sequence gets here (one from before the feed was numbered
        # per integrator): it would wait for numbers that come much later, silently.
        raise InvalidInput(
            "This cursor is past the end of your feed (it dates from before the feed was "
            "numbered per integrator): read the feed from the start again.",
            errors=[FieldError("query.cursor", "past the end of the feed", "invalid_cursor")],
        )
    rows = feed_entries.page(client_id, after=after, limit=limit + 1)
    page = rows[:limit]
    items = [
        schemas.FeedItem(
            seq=entry.seq,
            assessment_id=assessment.id,
            enterprise_id=enterprise.id,
            credit_code=enterprise.credit_code,
            questionnaire_id=assessment.questionnaire_id,
            questionnaire_version=assessment.questionnaire_version,
            submitted_at=assessment.submitted_at or result.computed_at,
            overall=float(result.overall) if result.overall is not None else None,
            rung=float(result.rung),
            stages={k: float(v) for k, v in result.stages.items()},
            result_url=f"/api/v1/assessments/{assessment.id}/result",
        )
        for entry, result, assessment, enterprise in page
    ]
    last = page[-1][0].seq if page else after
    return schemas.FeedPage(
        items=items, next_cursor=POSITION.encode(last), has_more=len(rows) > limit
    )


# --- webhook endpoints ---------------------------------------------------------------------------


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def check_endpoint_url(url: str, settings: Settings) -> tuple[str, list[str]]:
    """The URL and the addresses it may be sent to, or 422 naming ``url``: the shape (https, no
    credentials or fragment, a valid port), then ``destinations.checked_addresses`` (numeric
    spellings normalised, every resolved address public). Registration and approval both check;
    the worker checks again before each delivery."""

    def bad(message: str, **params: object) -> InvalidInput:
        return InvalidInput(
            "The URL cannot be used: %(problem)s.",
            problem=Phrase(message, **params),
            errors=[FieldError("body.url", message, "invalid_url", params)],
        )

    try:
        # urlsplit raises on brackets it cannot read ("https://[::1/h", "https://]/h", an IPv4
        # address in brackets): that is a malformed URL, not a server error.
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise bad(N_("is malformed (%(error)s)"), error=str(exc)) from exc
    allowed = {"https", "http"} if allows_http(settings) else {"https"}
    if parts.scheme not in allowed:
        raise bad(N_("must be an https URL") if "http" not in allowed else N_("must be http(s)"))
    if not parts.hostname:
        raise bad(N_("has no host"))
    if parts.username or parts.password:
        raise bad(N_("must not carry credentials"))
    if parts.fragment:
        raise bad(N_("must not have a #fragment"))
    try:
        port = parts.port  # raises on a port that is no number or beyond 65535
    except ValueError as exc:
        raise bad(N_("has an invalid port")) from exc
    if port == 0:  # urlsplit accepts it, no connection can be made to it
        raise bad(N_("has an invalid port"))
    try:
        addresses = checked_addresses(url.strip(), settings)
    except UnsafeDestination as exc:
        raise bad(
            N_("%(reason)s (every address the host is or resolves to must be public)"),
            reason=exc.reason,
        ) from exc
    return url.strip(), addresses


def destination(url: str, settings: Settings) -> tuple[list[str], Phrase | None]:
    """The addresses ``url`` resolves to and, if it would be refused, why (the admin sees both
    before approving): the reason as a ``Phrase``, which the page says in its language."""
    try:
        return checked_addresses(url, settings), None
    except UnsafeDestination as exc:
        return [], exc.reason


def _own_endpoint(
    session: Session, principal: Principal, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    client_id = require_integrator(principal)
    endpoint = WebhookRepository(session).endpoint(endpoint_id)
    if endpoint is None or endpoint.client_id != client_id:
        raise NotFound("No webhook endpoint with this id.")
    return endpoint


def create_endpoint(
    session: Session, principal: Principal, settings: Settings, data: schemas.WebhookEndpointCreate
) -> schemas.WebhookEndpointCreated:
    client_id = require_integrator(principal)
    url, _ = check_endpoint_url(data.url, settings)
    endpoint_id, secret = uuid.uuid4(), new_webhook_secret()
    sealed = sealing.seal(settings, endpoint_id, secret)
    endpoint = WebhookRepository(session).add_endpoint(
        WebhookEndpoint(
            id=endpoint_id,
            client_id=client_id,
            url=url,
            description=data.description,
            events=list(data.events),
            secret_ciphertext=sealed.ciphertext,
            secret_key_id=sealed.key_id,
            status="pending",
        )
    )
    audit.record(
        session,
        principal,
        "webhook.create",
        "webhook_endpoint",
        endpoint.id,
        detail={"url": url, "events": endpoint.events},
    )
    return schemas.WebhookEndpointCreated(
        **schemas.WebhookEndpointRead.model_validate(endpoint).model_dump(), secret=secret
    )


def signing_secret(settings: Settings, endpoint: WebhookEndpoint) -> str:
    """The endpoint's signing secret in clear (the sender signs with it); raises
    ``sealing.SecretUnavailable`` when no configured key opens it."""
    return sealing.unseal(
        settings,
        endpoint.id,
        sealing.Sealed(endpoint.secret_key_id, endpoint.secret_ciphertext),
    )


def reseal_secrets(session: Session, settings: Settings) -> tuple[int, int]:
    """Re-seal every signing secret not sealed under the current key (``zhizao secrets
    rotate``): ``(re-sealed, already current)``. A secret no configured key opens stops the
    run (SecretUnavailable) before anything is written."""
    begin_write(session)
    current = sealing.current_key_id(settings)
    endpoints = WebhookRepository(session).all_endpoints()
    stale = [e for e in endpoints if e.secret_key_id != current]
    opened = [(e, signing_secret(settings, e)) for e in stale]
    for endpoint, secret in opened:
        sealed = sealing.seal(settings, endpoint.id, secret)
        endpoint.secret_ciphertext, endpoint.secret_key_id = sealed.ciphertext, sealed.key_id
    session.flush()
    return len(opened), len(endpoints) - len(opened)


def list_endpoints(session: Session, principal: Principal) -> list[schemas.WebhookEndpointRead]:
    client_id = require_integrator(principal)
    return [
        schemas.WebhookEndpointRead.model_validate(e)
        for e in WebhookRepository(session).endpoints_of(client_id)
    ]


def get_endpoint(
    session: Session, principal: Principal, endpoint_id: uuid.UUID
) -> schemas.WebhookEndpointRead:
    return schemas.WebhookEndpointRead.model_validate(
        _own_endpoint(session, principal, endpoint_id)
    )


def delete_endpoint(session: Session, principal: Principal, endpoint_id: uuid.UUID) -> None:
    begin_write(session)
    endpoint = _own_endpoint(session, principal, endpoint_id)
    audit.record(
        session,
        principal,
        "webhook.delete",
        "webhook_endpoint",
        endpoint.id,
        detail={"url": endpoint.url},
    )
    WebhookRepository(session).delete_endpoint(endpoint)


def reenable_endpoint(
    session: Session, principal: Principal, endpoint_id: uuid.UUID
) -> schemas.WebhookEndpointRead:
    """After fixing a receiver, the integrator turns an endpoint disabled for failing back on;
    its undelivered events are then retried. One an admin disabled stays off."""
    begin_write(session)
    endpoint = _own_endpoint(session, principal, endpoint_id)
    if endpoint.status == "disabled":
        if endpoint.disabled_reason != DISABLED_FAILING:
            raise Conflict("An administrator disabled this endpoint; contact them.")
        endpoint.status = "active"
        endpoint.disabled_at = None
        endpoint.disabled_reason = None
        endpoint.failing_since = None
        audit.record(session, principal, "webhook.enable", "webhook_endpoint", endpoint.id)
        session.flush()
    return schemas.WebhookEndpointRead.model_validate(endpoint)


def list_deliveries(
    session: Session,
    principal: Principal,
    endpoint_id: uuid.UUID,
    *,
    cursor: str | None,
    limit: int,
) -> Page[schemas.WebhookDeliveryRead]:
    """The endpoint's delivery log, newest first. An event about a firm that does not consent
    to the integrator now keeps its row (status, attempts: the integrator's own delivery record)
    but shows no payload: the firm's data is not readable after a revocation, here either."""
    endpoint = _own_endpoint(session, principal, endpoint_id)
    rows = WebhookRepository(session).deliveries_page(
        endpoint.id, before=TIME_TEXT.decode(cursor), limit=limit + 1
    )
    page, next_cursor = paginate(rows, limit, TIME_TEXT, lambda r: (r[0].created_at, r[0].id))
    items = [
        schemas.WebhookDeliveryRead(
            id=d.id,
            event_type=d.event_type,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
            last_attempt_at=d.last_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            delivered_at=d.delivered_at,
            created_at=d.created_at,
            payload=d.payload if consents else None,
        )
        for d, consents in page
    ]
    return Page[schemas.WebhookDeliveryRead](items=items, next_cursor=next_cursor)


def list_notices(
    session: Session, principal: Principal, lang: Lang, *, cursor: str | None, limit: int
) -> Page[schemas.NoticeRead]:
    client_id = require_integrator(principal)
    rows = NoticeRepository(session).page(
        client_id, before=TIME_UUID.decode(cursor), limit=limit + 1
    )
    page, next_cursor = paginate(rows, limit, TIME_UUID, _created)
    items = [
        schemas.NoticeRead(
            id=n.id,
            kind=n.kind,
            message=n.message.get(lang) or n.message.get("zh", ""),
            detail=n.detail,
            created_at=n.created_at,
        )
        for n in page
    ]
    return Page[schemas.NoticeRead](items=items, next_cursor=next_cursor)


# --- webhook endpoints (admins) ------------------------------------------------------------------


def admin_list_endpoints(
    session: Session, principal: Principal, *, status: str | None, cursor: str | None, limit: int
) -> Page[schemas.WebhookEndpointRead]:
    require_admin(principal)
    rows = WebhookRepository(session).endpoints_page(
        status=status, after=TIME_UUID.decode(cursor), limit=limit + 1
    )
    page, next_cursor = paginate(rows, limit, TIME_UUID, _created)
    return Page[schemas.WebhookEndpointRead](
        items=[schemas.WebhookEndpointRead.model_validate(e) for e in page], next_cursor=next_cursor
    )


def _admin_endpoint(
    session: Session, principal: Principal, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    require_admin(principal)
    endpoint = WebhookRepository(session).endpoint(endpoint_id)
    if endpoint is None:
        raise NotFound("No webhook endpoint with this id.")
    return endpoint


def approve_endpoint(
    session: Session, principal: Principal, settings: Settings, endpoint_id: uuid.UUID
) -> schemas.WebhookEndpointRead:
    """An admin approves (or re-enables) an endpoint: events are sent to it from now on."""
    begin_write(session)
    endpoint = _admin_endpoint(session, principal, endpoint_id)
    check_endpoint_url(endpoint.url, settings)
    if endpoint.status != "active":
        now = utcnow()
        endpoint.status = "active"
        endpoint.approved_at = now
        endpoint.approved_by = principal.caller_key
        endpoint.disabled_at = None
        endpoint.disabled_reason = None
        endpoint.failing_since = None
        audit.record(
            session,
            principal,
            "webhook.approve",
            "webhook_endpoint",
            endpoint.id,
            detail={"url": endpoint.url},
        )
        session.flush()
    return schemas.WebhookEndpointRead.model_validate(endpoint)


def admin_disable_endpoint(
    session: Session, principal: Principal, endpoint_id: uuid.UUID
) -> schemas.WebhookEndpointRead:
    begin_write(session)
    endpoint = _admin_endpoint(session, principal, endpoint_id)
    if endpoint.status != "disabled":
        endpoint.status = "disabled"
        endpoint.disabled_at = utcnow()
        endpoint.disabled_reason = DISABLED_BY_ADMIN
        audit.record(session, principal, "webhook.disable", "webhook_endpoint", endpoint.id)
        session.flush()
    return schemas.WebhookEndpointRead.model_validate(endpoint)


def disable_failing_endpoint(session: Session, endpoint: WebhookEndpoint, now: datetime) -> None:
    """The worker gives up on an endpoint failing for long and tells the integrator."""
    endpoint.status = "disabled"
    endpoint.disabled_at = now
    endpoint.disabled_reason = DISABLED_FAILING
    since = endpoint.failing_since.isoformat() if endpoint.failing_since else now.isoformat()
    NoticeRepository(session).add(
        IntegratorNotice(
            client_id=endpoint.client_id,
            kind="webhook_endpoint_disabled",
            message={
                "zh": f"Webhook 端点 {endpoint.url} 自 {since} 起持续投递失败，已被停用。"
                f"修复接收端后，可通过 POST /api/v1/webhooks/{endpoint.id}/enable 重新启用，"
                "未送达的事件将重新投递。",
                "en": f"Webhook endpoint {endpoint.url} has failed every delivery since {since} "
                "and was disabled. Fix the receiver, then re-enable it with "
                f"POST /api/v1/webhooks/{endpoint.id}/enable; undelivered events are then retried.",
            },
            detail={"endpoint_id": str(endpoint.id), "url": endpoint.url, "failing_since": since},
            created_at=now,
        )
    )
    audit.record(
        session,
        SYSTEM,
        "webhook.auto_disable",
        "webhook_endpoint",
        endpoint.id,
        detail={"failing_since": since},
    )
