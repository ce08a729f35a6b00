"""Queries on the mail outbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app.kit.outbox import Outbox
from app.models import MailMessage

#: The mail outbox (``kit.outbox``).
_OUTBOX = Outbox(MailMessage)


class MailRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, message: MailMessage) -> MailMessage:
        self.session.add(message)
        return message

    def get(self, message_id: uuid.UUID) -> MailMessage | None:
        return self.session.get(MailMessage, message_id)

    def page(
        self,
        *,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
        to_address: str | None = None,
    ) -> list[MailMessage]:
        """Newest first."""
        query = (
            select(MailMessage)
            .order_by(MailMessage.created_at.desc(), MailMessage.id.desc())
            .limit(limit)
        )
        if to_address is not None:
            query = query.where(MailMessage.to_address == to_address)
        if before is not None:
            query = query.where(
                (MailMessage.created_at < before[0])
                | and_(MailMessage.created_at == before[0], MailMessage.id < before[1])
            )
        return list(self.session.scalars(query))

    # --- the worker's queries ---

    def any_due(self, now: datetime) -> bool:
        return _OUTBOX.any_due(self.session, now)

    def lock_due(self, now: datetime, limit: int) -> list[MailMessage]:
        """Due messages, locked (``kit.outbox``)."""
        return _OUTBOX.lock_due(self.session, now, limit)

    def extend_lease(self, message_ids: Sequence[uuid.UUID], token: str, until: datetime) -> None:
        """Move the lease of the messages this worker still holds (``token``) to ``until``."""
        _OUTBOX.extend_lease(self.session, message_ids, token, until)

    def sendable(self, message_id: uuid.UUID, token: str) -> bool:
        """Whether the worker holding ``token`` may still send this message: it is there, pending
        and still that worker's claim. The deletion of the firm it is about deletes it (in the
        deletion's transaction), so being there also means the firm has not been deleted."""
        found = self.session.scalar(
            select(MailMessage.id).where(
                MailMessage.id == message_id,
                MailMessage.status == "pending",
                MailMessage.claimed_by == token,
            )
        )
        return found is not None
