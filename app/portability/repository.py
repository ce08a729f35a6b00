"""Queries behind a firm's export that no other domain's service answers for one firm: the
requests to join it, its invitations, the mails to its people, and what integrators were sent
about it. Every query is narrowed to the one firm's id (tenant isolation) and oldest first.

Like ``enterprises.data_repository`` (deleting the firm), the export reads across the domains'
tables: it is the one place that gathers everything held about a firm.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    AccessClaim,
    ApiClient,
    FeedEntry,
    Invitation,
    MailMessage,
    WebhookDelivery,
)


class ExportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claims(self, enterprise_id: uuid.UUID) -> list[AccessClaim]:
        return list(
            self.session.scalars(
                select(AccessClaim)
                .where(AccessClaim.enterprise_id == enterprise_id)
                .order_by(AccessClaim.created_at, AccessClaim.id)
            )
        )

    def invitations(self, enterprise_id: uuid.UUID) -> list[Invitation]:
        return list(
            self.session.scalars(
                select(Invitation)
                .where(Invitation.enterprise_id == enterprise_id)
                .order_by(Invitation.created_at, Invitation.id)
            )
        )

    def mails(self, enterprise_id: uuid.UUID, to: Collection[str]) -> list[MailMessage]:
        """Messages about the firm to these addresses."""
        if not to:
            return []
        return list(
            self.session.scalars(
                select(MailMessage)
                .where(MailMessage.enterprise_id == enterprise_id, MailMessage.to_address.in_(to))
                .order_by(MailMessage.created_at, MailMessage.id)
            )
        )

    def deliveries(self, enterprise_id: uuid.UUID) -> list[tuple[WebhookDelivery, str]]:
        """The webhook events about the firm, each with the name of the integrator sent it."""
        rows = self.session.execute(
            select(WebhookDelivery, ApiClient.name)
            .join(ApiClient, ApiClient.id == WebhookDelivery.client_id)
            .where(WebhookDelivery.enterprise_id == enterprise_id)
            .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
        )
        return [(delivery, name) for delivery, name in rows]

    def feed_entries(self, enterprise_id: uuid.UUID) -> list[tuple[FeedEntry, str]]:
        """The firm's results put into integrators' score feeds, each with the integrator's
        name."""
        rows = self.session.execute(
            select(FeedEntry, ApiClient.name)
            .join(ApiClient, ApiClient.id == FeedEntry.client_id)
            .where(FeedEntry.enterprise_id == enterprise_id)
            .order_by(FeedEntry.created_at, FeedEntry.client_id, FeedEntry.seq)
        )
        return [(entry, name) for entry, name in rows]
