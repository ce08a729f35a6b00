from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from app.kit.schemas import ResponseModel


class MailMessageRead(ResponseModel):
    """A message of the outbox as an admin reads it (a sent secret message has no body)."""

    id: uuid.UUID
    to_address: str
    subject: str
    body: str
    kind: str
    secret: bool
    status: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
