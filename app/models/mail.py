"""The mail outbox: messages written in the transaction of the change they announce, delivered
by the worker (``app/mail/worker.py``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UUIDPrimaryKey, utcnow

MAIL_STATUSES = ("pending", "sent", "failed")


class MailMessage(UUIDPrimaryKey, Base):
    """One e-mail to one address. ``secret`` messages carry a link that grants something (a
    password reset, an invitation): their body is blanked once sent, so the outbox never keeps a
    usable link longer than delivery takes."""

    __tablename__ = "mail_message"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status_known"),
        Index("ix_mail_message_status_next_attempt_at", "status", "next_attempt_at"),
    )

    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    #: What the message is about ("password_reset", "invitation", "claim_received", ...).
    kind: Mapped[str] = mapped_column(String(40))
    secret: Mapped[bool] = mapped_column(default=False)
    #: The firm the message is about, if any: deleting the firm deletes its messages.
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    #: When the next attempt is due; while a worker holds the message, the end of its lease.
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None]
