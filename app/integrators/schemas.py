from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from app.kit.schemas import JsonBool, RequestModel, ResponseModel, Text
from app.models import SCOPES, WEBHOOK_EVENTS

Scope = Literal["enterprises:write", "assessments:write", "assessments:read", "reports:read"]
EventType = Literal["assessment.submitted", "grant.created", "grant.revoked"]
assert set(Scope.__args__) == set(SCOPES)  # type: ignore[attr-defined]
assert set(EventType.__args__) == set(WEBHOOK_EVENTS)  # type: ignore[attr-defined]

_CLIENT_ID_EXAMPLE = "0b7f3c1e-8f2a-4c55-9a3e-2d4f1b6c7a90"


# --- API clients and keys (admins) ---------------------------------------------------------------


class ApiKeyRead(ResponseModel):
    key_id: str = Field(
        description="The public part of the key (the 16 hex after the prefix).",
        examples=["3f9a1c0d5e7b2a64"],
    )
    scopes: list[str] = Field(examples=[["assessments:read", "assessments:write"]])
    created_at: datetime
    last_used_at: datetime | None = Field(description="To the minute.")
    revoked_at: datetime | None


class ApiClientRead(ResponseModel):
    id: uuid.UUID = Field(examples=[_CLIENT_ID_EXAMPLE])
    name: str = Field(examples=["示例工业互联网平台"])
    contact_email: str
    disabled_at: datetime | None
    created_at: datetime
    keys: list[ApiKeyRead] = Field(description="Every key, live and revoked, oldest first.")


class ApiClientCreate(RequestModel):
    name: Annotated[Text, Field(min_length=2, max_length=200, examples=["示例工业互联网平台"])]
    contact_email: Annotated[Text, Field(max_length=254, examples=["api@platform.example"])] = ""
    scopes: Annotated[list[Scope], Field(min_length=1, examples=[list(SCOPES)])]


class ApiKeyCreate(RequestModel):
    scopes: list[Scope] | None = Field(
        default=None,
        description="Scopes of the new key; default: those of the client's newest live key.",
        examples=[["assessments:read", "assessments:write"]],
    )


class IssuedKeyRead(ResponseModel):
    client: ApiClientRead
    key: ApiKeyRead
    api_key: str = Field(
        description="The key itself. Shown once: only its SHA-256 is stored.",
        examples=["zk_live_3f9a1c0d5e7b2a64_9c1e..."],
    )


class ApiClientUpdate(RequestModel):
    disabled: JsonBool = Field(description="A disabled client's keys stop working at once.")


# --- consent --------------------------------------------------------------------------------------


class IntegratorSummary(ResponseModel):
    id: uuid.UUID = Field(examples=[_CLIENT_ID_EXAMPLE])
    name: str = Field(examples=["示例工业互联网平台"])


class GrantCreate(RequestModel):
    client_id: uuid.UUID = Field(
        description="The integrator (from GET /integrators) to give access to.",
        examples=[_CLIENT_ID_EXAMPLE],
    )


class GrantRead(ResponseModel):
    client: IntegratorSummary
    enterprise_id: uuid.UUID
    method: Literal["web", "api", "registration"] = Field(
        description="web/api: granted by a user of the firm; registration: recorded by the "
        "integrator that registered the firm, with the consent evidence."
    )
    evidence: dict[str, Any]
    granted_at: datetime
    revoked_at: datetime | None
    active: bool


class GrantedFirm(ResponseModel):
    """A firm that consents to you now."""

    enterprise_id: uuid.UUID
    credit_code: str = Field(examples=["91310115MA1FL3K293"])
    name: str = Field(examples=["上海示例精密机械有限公司"])
    method: Literal["web", "api", "registration"] = Field(
        description="web/api: granted by a user of the firm; registration: you registered the "
        "firm with its consent."
    )
    granted_at: datetime
    scopes: list[str] = Field(
        description="What you may do with the firm's data: the scopes of the key you called with "
        "(a grant covers the firm's profile, assessments, results and reports).",
        examples=[["assessments:read", "assessments:write", "reports:read"]],
    )


# --- feed -----------------------------------------------------------------------------------------


class FeedItem(ResponseModel):
    seq: int = Field(
        description="Position in your feed: your own sequence 1, 2, 3, … (other integrators' "
        "activity does not show in it); increases in commit order, no gaps.",
        examples=[42],
    )
    assessment_id: uuid.UUID
    enterprise_id: uuid.UUID
    credit_code: str = Field(examples=["91310115MA1FL3K293"])
    questionnaire_id: str = Field(examples=["smart-manufacturing-maturity"])
    questionnaire_version: int = Field(examples=[1])
    submitted_at: datetime
    overall: float | None = Field(examples=[3.42])
    rung: float = Field(examples=[3.25])
    stages: dict[str, float] = Field(examples=[{"digitization": 3.5, "automation": 3.25}])
    result_url: str = Field(examples=["/api/v1/assessments/7d1c.../result"])


class FeedPage(ResponseModel):
    items: list[FeedItem]
    next_cursor: str = Field(
        description="Always present: pass it as ?cursor= to continue. An empty page means you "
        "are up to date; keep the cursor and poll again later."
    )
    has_more: bool = Field(description="True when another page is ready now.")


# --- webhooks -------------------------------------------------------------------------------------


class WebhookEndpointCreate(RequestModel):
    url: Annotated[
        Text,
        Field(
            max_length=2000,
            description="https URL that accepts POSTed events.",
            examples=["https://hooks.platform.example/zhizao"],
            # https, and a host that resolves to public addresses only: the custom format.
            json_schema_extra={"format": "zhizao-webhook-url", "pattern": "^https://"},
        ),
    ]
    events: Annotated[
        list[EventType], Field(min_length=1, examples=[["assessment.submitted", "grant.revoked"]])
    ] = ["assessment.submitted", "grant.created", "grant.revoked"]
    description: Annotated[Text, Field(max_length=200, examples=["生产环境"])] = ""

    @field_validator("events")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class WebhookEndpointRead(ResponseModel):
    id: uuid.UUID
    client_id: uuid.UUID
    url: str
    description: str
    events: list[str]
    status: Literal["pending", "active", "disabled"] = Field(
        description="pending: awaiting an admin's approval; active: events are sent; disabled: "
        "by an admin, or automatically after failing for long (see disabled_reason)."
    )
    approved_at: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None
    failing_since: datetime | None
    last_success_at: datetime | None
    created_at: datetime


class WebhookEndpointCreated(WebhookEndpointRead):
    secret: str = Field(
        description="Signing secret (Standard Webhooks, `whsec_...`). Shown once; verify each "
        "delivery with it.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class WebhookDeliveryRead(ResponseModel):
    id: str = Field(
        description="The `webhook-id` header, the same on every attempt.",
        examples=["msg_2b1f0c6e9d8a4e7f9c3b5a1d0e2f4a6c"],
    )
    event_type: str = Field(examples=["assessment.submitted"])
    status: Literal["pending", "delivered", "failed", "cancelled"]
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any] | None = Field(
        description="The event as sent; null while the firm it is about does not consent to "
        "you (after a revocation: its data is not readable, here either)."
    )


class NoticeRead(ResponseModel):
    id: uuid.UUID
    kind: str = Field(examples=["webhook_endpoint_disabled"])
    message: str
    detail: dict[str, Any]
    created_at: datetime
