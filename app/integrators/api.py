"""Integrator API routes: the score feed, webhooks and notices (integrators), consent (enterprise
users), API clients and webhook approval (admins)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status

from app.auth.security import KEY_ID_PATTERN
from app.integrators import service
from app.integrators.schemas import (
    ApiClientCreate,
    ApiClientRead,
    ApiClientUpdate,
    ApiKeyCreate,
    ApiKeyRead,
    FeedPage,
    GrantCreate,
    GrantedFirm,
    GrantRead,
    IntegratorSummary,
    IssuedKeyRead,
    NoticeRead,
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointRead,
)
from app.kit.cursor import MAX_LIMIT, FeedCursorQuery, Page, PageDep, TimeTextPageDep
from app.kit.db import SessionDep
from app.kit.errors import problem_responses
from app.kit.guards import AdminOnly, IntegratorOnly, SignedIn, scoped
from app.kit.i18n import LangDep
from app.kit.principal import Principal
from app.kit.routing import domain_router, include_flat
from app.kit.settings import SettingsDep

router = APIRouter()
feed_router = domain_router(tags=["feed"])
webhooks_router = domain_router(tags=["webhooks"])
consent_router = domain_router(tags=["consent"])
admin_router = domain_router(prefix="/admin", tags=["admin"])

Reader = Annotated[Principal, Depends(scoped("assessments:read"))]
# Every route here is an integrator's own: each also takes ``IntegratorOnly``, a dependency, so
# that anyone else gets the 404 before the query or body is validated (not a 422 first).


# --- feed ----------------------------------------------------------------------------------------


@feed_router.get(
    "/scores",
    operation_id="scores_feed",
    response_model=FeedPage,
    responses=problem_responses(403, 422, 429),
    summary="Score feed: submitted results of the firms that consented, in commit order",
    description=(
        "Start without a cursor, then pass `next_cursor` back. The order is the order in which "
        "submissions committed, so a cursor never skips a result that commits later: no gaps, "
        "no duplicates. An empty page means you are up to date: keep the cursor and poll again. "
        "Firms whose consent was revoked disappear from the feed at once. `seq` is numbered "
        "per integrator; a cursor past the end of your sequence (one kept from before it was "
        "per integrator) is 422: read from the start again."
    ),
)
def scores_feed(
    session: SessionDep,
    principal: Reader,
    _caller: IntegratorOnly,
    cursor: FeedCursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = 100,
) -> FeedPage:
    return service.feed(session, principal, cursor=cursor, limit=limit)


@feed_router.get(
    "/grants",
    operation_id="grants_received",
    response_model=Page[GrantedFirm],
    responses=problem_responses(403, 422, 429),
    summary="The firms that granted you access, by grant time (with the grant's method)",
    description="Poll it, or subscribe to the `grant.created` webhook event. A firm that "
    "revoked its grant is no longer listed.",
)
def granted_firms(
    session: SessionDep, principal: Reader, _caller: IntegratorOnly, page: PageDep
) -> Page[GrantedFirm]:
    return service.granted_firms(session, principal, cursor=page.cursor, limit=page.limit)


# --- webhooks (integrators) ----------------------------------------------------------------------


@webhooks_router.post(
    "/webhooks",
    operation_id="webhooks_create",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookEndpointCreated,
    responses=problem_responses(403, 422, 429),
    summary="Register a webhook endpoint (sent to once an administrator approves it)",
)
def create_webhook(
    body: WebhookEndpointCreate,
    session: SessionDep,
    principal: Reader,
    _caller: IntegratorOnly,
    settings: SettingsDep,
    response: Response,
) -> WebhookEndpointCreated:
    created = service.create_endpoint(session, principal, settings, body)
    response.headers["Location"] = f"/api/v1/webhooks/{created.id}"
    return created


@webhooks_router.get(
    "/webhooks",
    operation_id="webhooks_list",
    response_model=list[WebhookEndpointRead],
    responses=problem_responses(403, 429),
    summary="Your webhook endpoints",
)
def list_webhooks(
    session: SessionDep, principal: Reader, _caller: IntegratorOnly
) -> list[WebhookEndpointRead]:
    return service.list_endpoints(session, principal)


@webhooks_router.get(
    "/webhooks/{endpoint_id}",
    operation_id="webhooks_get",
    response_model=WebhookEndpointRead,
    responses=problem_responses(403, 429),
    summary="One of your webhook endpoints",
)
def get_webhook(
    endpoint_id: uuid.UUID, session: SessionDep, principal: Reader, _caller: IntegratorOnly
) -> WebhookEndpointRead:
    return service.get_endpoint(session, principal, endpoint_id)


@webhooks_router.delete(
    "/webhooks/{endpoint_id}",
    operation_id="webhooks_delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(403, 429),
    summary="Delete a webhook endpoint and its delivery log",
)
def delete_webhook(
    endpoint_id: uuid.UUID, session: SessionDep, principal: Reader, _caller: IntegratorOnly
) -> Response:
    service.delete_endpoint(session, principal, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@webhooks_router.post(
    "/webhooks/{endpoint_id}/enable",
    operation_id="webhooks_enable",
    response_model=WebhookEndpointRead,
    responses=problem_responses(403, 409, 429),
    summary="Turn an endpoint disabled for failing back on; undelivered events are retried",
)
def enable_webhook(
    endpoint_id: uuid.UUID, session: SessionDep, principal: Reader, _caller: IntegratorOnly
) -> WebhookEndpointRead:
    return service.reenable_endpoint(session, principal, endpoint_id)


@webhooks_router.get(
    "/webhooks/{endpoint_id}/deliveries",
    operation_id="webhooks_deliveries",
    response_model=Page[WebhookDeliveryRead],
    responses=problem_responses(403, 422, 429),
    summary="The endpoint's delivery log, newest first",
)
def list_deliveries(
    endpoint_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    _caller: IntegratorOnly,
    page: TimeTextPageDep,
) -> Page[WebhookDeliveryRead]:
    return service.list_deliveries(
        session, principal, endpoint_id, cursor=page.cursor, limit=page.limit
    )


@webhooks_router.get(
    "/notices",
    operation_id="notices_list",
    response_model=Page[NoticeRead],
    responses=problem_responses(403, 422, 429),
    summary="Notices to your integration (e.g. an endpoint disabled after failing), newest first",
)
def list_notices(
    session: SessionDep, principal: Reader, _caller: IntegratorOnly, lang: LangDep, page: PageDep
) -> Page[NoticeRead]:
    return service.list_notices(session, principal, lang, cursor=page.cursor, limit=page.limit)


# --- consent (enterprise users) ------------------------------------------------------------------


@consent_router.get(
    "/integrators",
    operation_id="integrators_list",
    response_model=list[IntegratorSummary],
    summary="Integrators a firm can grant access to",
)
def list_integrators(session: SessionDep, principal: SignedIn) -> list[IntegratorSummary]:
    return service.integrator_directory(session, principal)


@consent_router.get(
    "/enterprises/{enterprise_id}/grants",
    operation_id="grants_list",
    response_model=list[GrantRead],
    summary="Integrators the firm gave access to, active and revoked",
)
def list_grants(
    enterprise_id: uuid.UUID, session: SessionDep, principal: SignedIn
) -> list[GrantRead]:
    return service.list_grants(session, principal, enterprise_id)


@consent_router.post(
    "/enterprises/{enterprise_id}/grants",
    operation_id="grants_create",
    status_code=status.HTTP_201_CREATED,
    response_model=GrantRead,
    responses=problem_responses(403, 422),
    summary="Give an integrator access to the firm's profile, assessments and results",
)
def create_grant(
    enterprise_id: uuid.UUID, body: GrantCreate, session: SessionDep, principal: SignedIn
) -> GrantRead:
    return service.grant_access(session, principal, enterprise_id, body.client_id, method="api")


@consent_router.delete(
    "/enterprises/{enterprise_id}/grants/{client_id}",
    operation_id="grants_revoke",
    response_model=GrantRead,
    responses=problem_responses(403),
    summary="Revoke an integrator's access: reads, feed and webhooks end at once",
)
def revoke_grant(
    enterprise_id: uuid.UUID, client_id: uuid.UUID, session: SessionDep, principal: SignedIn
) -> GrantRead:
    return service.revoke_access(session, principal, enterprise_id, client_id)


# --- admin ---------------------------------------------------------------------------------------


@admin_router.get(
    "/api-clients",
    operation_id="admin_api_clients_list",
    response_model=Page[ApiClientRead],
    responses=problem_responses(422),
    summary="API clients (integrators) and their keys",
)
def admin_list_clients(
    session: SessionDep, principal: AdminOnly, page: PageDep
) -> Page[ApiClientRead]:
    return service.list_clients(session, principal, cursor=page.cursor, limit=page.limit)


@admin_router.post(
    "/api-clients",
    operation_id="admin_api_clients_create",
    status_code=status.HTTP_201_CREATED,
    response_model=IssuedKeyRead,
    responses=problem_responses(403, 422),
    summary="Register an integrator; its first API key is in the answer, once",
)
def admin_create_client(
    body: ApiClientCreate, session: SessionDep, principal: AdminOnly, settings: SettingsDep
) -> IssuedKeyRead:
    return service.create_client(session, principal, settings, body)


@admin_router.get(
    "/api-clients/{client_id}",
    operation_id="admin_api_clients_get",
    response_model=ApiClientRead,
    summary="One API client and its keys",
)
def admin_get_client(
    client_id: uuid.UUID, session: SessionDep, principal: AdminOnly
) -> ApiClientRead:
    return service.get_client(session, principal, client_id)


@admin_router.patch(
    "/api-clients/{client_id}",
    operation_id="admin_api_clients_update",
    response_model=ApiClientRead,
    responses=problem_responses(403, 422),
    summary="Disable (every key stops at once) or re-enable an API client",
)
def admin_update_client(
    client_id: uuid.UUID, body: ApiClientUpdate, session: SessionDep, principal: AdminOnly
) -> ApiClientRead:
    return service.set_client_disabled(session, principal, client_id, body.disabled)


@admin_router.post(
    "/api-clients/{client_id}/keys",
    operation_id="admin_api_keys_create",
    status_code=status.HTTP_201_CREATED,
    response_model=IssuedKeyRead,
    responses=problem_responses(403, 409, 422),
    summary="Issue a new key for rotation (at most two live keys; revoke the old one after)",
)
def admin_create_key(
    client_id: uuid.UUID,
    body: ApiKeyCreate,
    session: SessionDep,
    principal: AdminOnly,
    settings: SettingsDep,
) -> IssuedKeyRead:
    new = service.issue_key(
        session, principal, settings, client_id, list(body.scopes) if body.scopes else None
    )
    client = service.get_client(session, principal, client_id)
    return IssuedKeyRead(
        client=client, key=ApiKeyRead.model_validate(new.key), api_key=new.plaintext
    )


@admin_router.delete(
    "/api-clients/{client_id}/keys/{key_id}",
    operation_id="admin_api_keys_revoke",
    response_model=ApiKeyRead,
    responses=problem_responses(403),
    summary="Revoke a key at once",
)
def admin_revoke_key(
    client_id: uuid.UUID,
    key_id: Annotated[str, Path(pattern=KEY_ID_PATTERN)],
    session: SessionDep,
    principal: AdminOnly,
) -> ApiKeyRead:
    return ApiKeyRead.model_validate(service.revoke_key(session, principal, key_id, client_id))


@admin_router.get(
    "/webhooks",
    operation_id="admin_webhooks_list",
    response_model=Page[WebhookEndpointRead],
    responses=problem_responses(422),
    summary="Webhook endpoints, e.g. those awaiting approval (?status=pending)",
)
def admin_list_webhooks(
    session: SessionDep,
    principal: AdminOnly,
    page: PageDep,
    status_filter: Annotated[
        Literal["pending", "active", "disabled"] | None, Query(alias="status")
    ] = None,
) -> Page[WebhookEndpointRead]:
    return service.admin_list_endpoints(
        session, principal, status=status_filter, cursor=page.cursor, limit=page.limit
    )


@admin_router.post(
    "/webhooks/{endpoint_id}/approve",
    operation_id="admin_webhooks_approve",
    response_model=WebhookEndpointRead,
    responses=problem_responses(403, 422),
    summary="Approve (or re-enable) a webhook endpoint",
)
def admin_approve_webhook(
    endpoint_id: uuid.UUID, session: SessionDep, principal: AdminOnly, settings: SettingsDep
) -> WebhookEndpointRead:
    return service.approve_endpoint(session, principal, settings, endpoint_id)


@admin_router.post(
    "/webhooks/{endpoint_id}/disable",
    operation_id="admin_webhooks_disable",
    response_model=WebhookEndpointRead,
    responses=problem_responses(403),
    summary="Disable a webhook endpoint",
)
def admin_disable_webhook(
    endpoint_id: uuid.UUID, session: SessionDep, principal: AdminOnly
) -> WebhookEndpointRead:
    return service.admin_disable_endpoint(session, principal, endpoint_id)


for _child in (feed_router, webhooks_router, consent_router, admin_router):
    include_flat(router, _child)
