"""The console's list filters (``kit.web.filters``), with the rules of the JSON API behind each
list where there is one (``GET /api/v1/admin/audit-events``, ``…/admin/webhooks``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.kit.schemas import TEXT_PATTERN, DateTimeParam


class AuditFilters(BaseModel):
    action: Annotated[str, Field(max_length=60, pattern=TEXT_PATTERN)] | None = None
    actor_id: Annotated[str, Field(max_length=64, pattern=TEXT_PATTERN)] | None = None
    enterprise_id: uuid.UUID | None = None
    since: DateTimeParam | None = None
    until: DateTimeParam | None = None


class UserFilters(BaseModel):
    email: Annotated[str, Field(max_length=254, pattern=TEXT_PATTERN)] | None = None


class OutboxFilters(BaseModel):
    to: Annotated[str, Field(max_length=254, pattern=TEXT_PATTERN)] | None = None


class WebhookFilters(BaseModel):
    status: Literal["pending", "active", "disabled"] | None = None
