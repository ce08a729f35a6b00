"""Queries of the integrator API: clients and keys, grants, the score feed, webhooks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.kit.db import lock_row
from app.kit.outbox import Outbox
from app.models import (
    ApiClient,
    ApiKey,
    Assessment,
    Counter,
    Enterprise,
    FeedEntry,
    Grant,
    IntegratorNotice,
    Result,
    WebhookDelivery,
    WebhookEndpoint,
)


class ClientRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, client_id: uuid.UUID) -> ApiClient | None:
        return self.session.get(ApiClient, client_id)

    def lock(self, client_id: uuid.UUID) -> ApiClient | None:
        """The client row, locked until commit on PostgreSQL (SQLite's writer lock does this).
        FOR NO KEY UPDATE, as the firm's lock in heatmap upkeep: rows referencing the client
        that this or another transaction inserted (FOR KEY SHARE) must not deadlock it."""
        return self.session.scalar(
            select(ApiClient).where(ApiClient.id == client_id).with_for_update(key_share=True)
        )

    def page(self, *, after: tuple[datetime, uuid.UUID] | None, limit: int) -> list[ApiClient]:
        query = select(ApiClient).order_by(ApiClient.created_at, ApiClient.id).limit(limit)
        if after is not None:
            query = query.where(
                (ApiClient.created_at > after[0])
                | and_(ApiClient.created_at == after[0], ApiClient.id > after[1])
            )
        return list(self.session.scalars(query))

    def enabled(self) -> list[ApiClient]:
        return list(
            self.session.scalars(
                select(ApiClient).where(ApiClient.disabled_at.is_(None)).order_by(ApiClient.name)
            )
        )

    def keys(self, client_ids: Sequence[uuid.UUID]) -> list[ApiKey]:
        if not client_ids:
            return []
        return list(
            self.session.scalars(
                select(ApiKey)
                .where(ApiKey.client_id.in_(client_ids))
                .order_by(ApiKey.created_at, ApiKey.key_id)
            )
        )

    def live_keys(self, client_id: uuid.UUID) -> list[ApiKey]:
        return list(
            self.session.scalars(
                select(ApiKey)
                .where(ApiKey.client_id == client_id, ApiKey.revoked_at.is_(None))
                .order_by(ApiKey.created_at, ApiKey.key_id)
            )
        )

    def key(self, key_id: str) -> ApiKey | None:
        return self.session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))

    def add_client(self, client: ApiClient) -> ApiClient:
        self.session.add(client)
        self.session.flush()
        return client

    def add_key(self, key: ApiKey) -> ApiKey:
        self.session.add(key)
        self.session.flush()
        return key


class GrantRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_enterprise(self, enterprise_id: uuid.UUID) -> None:
        """Serialise a firm's grants, revocations and submissions (``kit.db.lock_row``): each
        reads what the other writes (a submit the consenting integrators, a grant the latest
        result), and two running side by side on PostgreSQL each missed the other's row."""
        lock_row(self.session, Enterprise.id, enterprise_id)

    def for_enterprise(self, enterprise_id: uuid.UUID) -> list[tuple[Grant, ApiClient]]:
        rows = self.session.execute(
            select(Grant, ApiClient)
            .join(ApiClient, ApiClient.id == Grant.client_id)
            .where(Grant.enterprise_id == enterprise_id)
            .order_by(Grant.granted_at, Grant.id)
        )
        return [(grant, client) for grant, client in rows]

    def get(self, enterprise_id: uuid.UUID, client_id: uuid.UUID) -> Grant | None:
        return self.session.scalar(
            select(Grant).where(Grant.enterprise_id == enterprise_id, Grant.client_id == client_id)
        )

    def is_active(self, enterprise_id: uuid.UUID, client_id: uuid.UUID) -> bool:
        grant = self.get(enterprise_id, client_id)
        return grant is not None and grant.revoked_at is None

    def add(self, grant: Grant) -> Grant:
        self.session.add(grant)
        self.session.flush()
        return grant

    def granted_to(
        self, client_id: uuid.UUID, *, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[tuple[Grant, Enterprise]]:
        """The firms whose consent the client holds now, by grant time."""
        query = (
            select(Grant, Enterprise)
            .join(Enterprise, Enterprise.id == Grant.enterprise_id)
            .where(Grant.client_id == client_id, Grant.revoked_at.is_(None))
            .order_by(Grant.granted_at, Grant.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(
                (Grant.granted_at > after[0])
                | and_(Grant.granted_at == after[0], Grant.id > after[1])
            )
        return [(grant, enterprise) for grant, enterprise in self.session.execute(query)]

    def latest_result(self, enterprise_id: uuid.UUID) -> tuple[Result, Assessment] | None:
        """The firm's most recently submitted result."""
        row = self.session.execute(
            select(Result, Assessment)
            .join(Assessment, Assessment.id == Result.assessment_id)
            .where(Assessment.enterprise_id == enterprise_id, Assessment.status == "submitted")
            .order_by(Assessment.submitted_at.desc(), Result.id.desc())
            .limit(1)
        ).first()
        return (row[0], row[1]) if row is not None else None

    def active_client_ids(self, enterprise_id: uuid.UUID) -> list[uuid.UUID]:
        return list(
            self.session.scalars(
                select(Grant.client_id).where(
                    Grant.enterprise_id == enterprise_id, Grant.revoked_at.is_(None)
                )
            )
        )


def feed_counter(client_id: uuid.UUID) -> str:
    """The counter row of one integrator's feed sequence."""
    return f"feed:{client_id.hex}"


class FeedRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def next_seq(self, client_id: uuid.UUID) -> int:
        """Take the integrator's next feed number. The upsert locks its counter row until this
        transaction ends, so a later number can only commit after every earlier one has
        committed (or rolled back, returning its number)."""
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(Counter)
            .values(name=feed_counter(client_id), value=1)
            .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
            .returning(Counter.value)
        )
        value = self.session.execute(statement).scalar_one()
        return int(value)

    def last_seq(self, client_id: uuid.UUID) -> int:
        """The integrator's latest feed number (0 before its first entry)."""
        value = self.session.scalar(
            select(Counter.value).where(Counter.name == feed_counter(client_id))
        )
        return int(value or 0)

    def add(self, entry: FeedEntry) -> None:
        self.session.add(entry)

    def page(
        self, client_id: uuid.UUID, *, after: int, limit: int
    ) -> list[tuple[FeedEntry, Result, Assessment, Enterprise]]:
        """The client's feed after ``after``: its entries of firms with an active grant, by
        seq."""
        rows = self.session.execute(
            select(FeedEntry, Result, Assessment, Enterprise)
            .join(Result, Result.id == FeedEntry.result_id)
            .join(Assessment, Assessment.id == FeedEntry.assessment_id)
            .join(Enterprise, Enterprise.id == FeedEntry.enterprise_id)
            .join(
                Grant,
                and_(
                    Grant.enterprise_id == FeedEntry.enterprise_id,
                    Grant.client_id == client_id,
                    Grant.revoked_at.is_(None),
                ),
            )
            .where(FeedEntry.client_id == client_id, FeedEntry.seq > after)
            .order_by(FeedEntry.seq)
            .limit(limit)
        )
        return [(e, r, a, ent) for e, r, a, ent in rows]


#: Why the worker disables an endpoint with no success for WEBHOOK_DISABLE_AFTER_HOURS; the
#: integrator turns it back on itself (``POST /webhooks/{id}/enable``).
DISABLED_FAILING = "failing_for_long"

#: The webhook outbox: only deliveries of active endpoints are due (``kit.outbox``).
_DELIVERIES = Outbox(
    WebhookDelivery,
    join=(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id),
    where=(WebhookEndpoint.status == "active",),
)


class WebhookRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def endpoint(self, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
        return self.session.get(WebhookEndpoint, endpoint_id)

    def all_endpoints(self) -> list[WebhookEndpoint]:
        return list(self.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))

    def add_endpoint(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        self.session.add(endpoint)
        self.session.flush()
        return endpoint

    def delete_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self.session.delete(endpoint)
        self.session.flush()

    def endpoints_of(self, client_id: uuid.UUID) -> list[WebhookEndpoint]:
        return list(
            self.session.scalars(
                select(WebhookEndpoint)
                .where(WebhookEndpoint.client_id == client_id)
                .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
            )
        )

    def endpoints_page(
        self, *, status: str | None, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[WebhookEndpoint]:
        query = (
            select(WebhookEndpoint)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
            .limit(limit)
        )
        if status is not None:
            query = query.where(WebhookEndpoint.status == status)
        if after is not None:
            query = query.where(
                (WebhookEndpoint.created_at > after[0])
                | and_(WebhookEndpoint.created_at == after[0], WebhookEndpoint.id > after[1])
            )
        return list(self.session.scalars(query))

    def queueing_endpoints(
        self, client_ids: Sequence[uuid.UUID], event_type: str
    ) -> list[WebhookEndpoint]:
        """The endpoints of these clients an event is queued for: the active ones, and those
        the worker disabled for failing (their events wait, since only active endpoints' are
        due, and follow once the integrator re-enables it: docs/integrators.md §7). Not those
        pending approval or disabled by an admin."""
        if not client_ids:
            return []
        endpoints = self.session.scalars(
            select(WebhookEndpoint)
            .where(
                WebhookEndpoint.client_id.in_(client_ids),
                (WebhookEndpoint.status == "active")
                | and_(
                    WebhookEndpoint.status == "disabled",
                    WebhookEndpoint.disabled_reason == DISABLED_FAILING,
                ),
            )
            .order_by(WebhookEndpoint.id)
        )
        return [e for e in endpoints if event_type in (e.events or [])]

    def add_delivery(self, delivery: WebhookDelivery) -> None:
        self.session.add(delivery)

    def deliveries_page(
        self, endpoint_id: uuid.UUID, *, before: tuple[datetime, str] | None, limit: int
    ) -> list[tuple[WebhookDelivery, bool]]:
        """Newest first, each with whether the firm it is about consents to the endpoint's
        client now (True for an event about no firm)."""
        query = (
            select(WebhookDelivery, Grant.id)
            .outerjoin(
                Grant,
                and_(
                    Grant.enterprise_id == WebhookDelivery.enterprise_id,
                    Grant.client_id == WebhookDelivery.client_id,
                    Grant.revoked_at.is_(None),
                ),
            )
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(
                (WebhookDelivery.created_at < before[0])
                | and_(WebhookDelivery.created_at == before[0], WebhookDelivery.id < before[1])
            )
        return [
            (delivery, delivery.enterprise_id is None or grant_id is not None)
            for delivery, grant_id in self.session.execute(query)
        ]

    def cancel_pending(self, client_id: uuid.UUID, enterprise_id: uuid.UUID, reason: str) -> int:
        """Cancel the undelivered events about a firm (its grant was revoked)."""
        result = self.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.client_id == client_id,
                WebhookDelivery.enterprise_id == enterprise_id,
                WebhookDelivery.status == "pending",
                WebhookDelivery.event_type != "grant.revoked",
            )
            # The claim stays: a worker whose send was already in flight then records that
            # attempt (``WebhookWorker._record``); one not yet sent is skipped (``sendable``).
            .values(status="cancelled", last_error=reason)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # --- the worker's queries ---

    def any_due(self, now: datetime) -> bool:
        return _DELIVERIES.any_due(self.session, now)

    def lock_due(self, now: datetime, limit: int) -> list[WebhookDelivery]:
        """Due deliveries of active endpoints, locked (``kit.outbox``)."""
        return _DELIVERIES.lock_due(self.session, now, limit)

    def extend_lease(self, delivery_ids: Sequence[str], token: str, until: datetime) -> None:
        """Move the lease of the deliveries this worker still holds (``token``) to ``until``."""
        _DELIVERIES.extend_lease(self.session, delivery_ids, token, until)

    def sendable(self, delivery_id: str, token: str) -> bool:
        """Whether the worker holding ``token`` may still send this delivery: it is pending, the
        claim is still that worker's and the endpoint still active. A revocation since the claim
        has cancelled it (in the revocation's transaction), so pending also means the firm
        still consents."""
        found = self.session.scalar(
            select(WebhookDelivery.id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == "pending",
                WebhookDelivery.claimed_by == token,
                WebhookEndpoint.status == "active",
            )
        )
        return found is not None

    def delivery(self, delivery_id: str) -> WebhookDelivery | None:
        return self.session.get(WebhookDelivery, delivery_id)

    def count_by_status(self, endpoint_id: uuid.UUID) -> dict[str, int]:
        rows = self.session.execute(
            select(WebhookDelivery.status, func.count())
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .group_by(WebhookDelivery.status)
        )
        return {status: int(count) for status, count in rows}


class NoticeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, notice: IntegratorNotice) -> None:
        self.session.add(notice)

    def page(
        self, client_id: uuid.UUID, *, before: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[IntegratorNotice]:
        query = (
            select(IntegratorNotice)
            .where(IntegratorNotice.client_id == client_id)
            .order_by(IntegratorNotice.created_at.desc(), IntegratorNotice.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(
                (IntegratorNotice.created_at < before[0])
                | and_(IntegratorNotice.created_at == before[0], IntegratorNotice.id < before[1])
            )
        return list(self.session.scalars(query))
