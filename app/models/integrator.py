"""Integrator API tables: the score feed, webhook endpoints, the webhook outbox, notices."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, Timestamped, UUIDPrimaryKey, utcnow

WEBHOOK_EVENTS = ("assessment.submitted", "grant.created", "grant.revoked")
ENDPOINT_STATUSES = ("pending", "active", "disabled")
DELIVERY_STATUSES = ("pending", "delivered", "failed", "cancelled")


class Counter(Base):
    """A named counter. Taking the next value updates (and so locks) the row until commit, which
    makes values commit in the order they are taken (the score feed relies on it)."""

    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class FeedEntry(Base):
    """One submitted result in one integrator's score feed, in commit order (``seq``).

    Each integrator has its own sequence 1, 2, 3, … (a counter row per integrator): a submission
    adds an entry for every integrator the firm consents to at that moment, and a new grant adds
    the firm's latest result for that integrator. Nothing in an integrator's numbers depends on
    another integrator's activity.
    """

    __tablename__ = "score_feed_entry"

    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_client.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    result_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("result.id", ondelete="CASCADE"), index=True
    )
    assessment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE")
    )
    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEndpoint(UUIDPrimaryKey, Timestamped, Base):
    """Where an integrator wants events sent. Sends only once an admin approved it."""

    __tablename__ = "webhook_endpoint"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'active', 'disabled')", name="status_known"),
    )

    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_client.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: The signing secret ``whsec_<base64>`` (Standard Webhooks), sealed with AES-GCM under a
    #: key derived from SECRET_KEY (``app.integrators.sealing``), and that key's id.
    secret_ciphertext: Mapped[str] = mapped_column(String(200))
    secret_key_id: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(80))
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    #: The first failed attempt since the last success; None while the endpoint is healthy.
    failing_since: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]


class WebhookDelivery(Base):
    """The outbox: one event for one endpoint, written in the transaction of the change it
    reports, and its delivery state. ``id`` is the ``webhook-id`` header on every attempt."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'delivered', 'failed', 'cancelled')", name="status_known"
        ),
        Index("ix_webhook_delivery_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_endpoint_id_created_at", "endpoint_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE")
    )
    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_client.id", ondelete="CASCADE"), index=True
    )
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    #: When the next attempt is due; while a worker holds it, the end of its lease.
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The worker's claim token while an attempt is in flight.
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntegratorNotice(UUIDPrimaryKey, Base):
    """Something an integrator must be told (an endpoint disabled after failing for long)."""

    __tablename__ = "integrator_notice"

    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_client.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    #: The firm the notice is about, if any: deleting the firm deletes its notices.
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    message: Mapped[dict[str, str]] = mapped_column(JSONType)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
