"""Webhook delivery: the outbox worker, its SSRF guard and Standard Webhooks signing.

A delivery moves through three short transactions, with no lock held while the HTTP call runs:

1. claim: due rows of active endpoints are locked (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so
   several ``zhizao worker`` processes share the queue; SQLite: the writer lock) and leased to
   this worker (``claimed_by`` and ``next_attempt_at`` = end of the lease, renewed for the rows
   not yet sent while a batch to a slow receiver goes on);
2. send: the row is read again first and skipped unless it is still pending, still ours and its
   endpoint still active (a firm that revoked its consent since the claim cancelled it: nothing
   about the firm is sent after the revocation but an attempt already in flight); the URL is
   resolved and every address checked (``app.integrators.destinations``, the same check as at
   registration and approval); the request goes to the checked address (no second lookup, so
   no DNS rebinding), signed, without following redirects, and is given up once it has taken
   its allowance (2 × WEBHOOK_TIMEOUT_SECONDS, however slowly the receiver answers: ``Deadline``);
3. record: the outcome is stored if the lease is still ours (also when the row was cancelled
   while the attempt was in flight, so the log shows what was sent); a failure is retried with
   exponential backoff and jitter under the same ``webhook-id``; an endpoint failing for
   WEBHOOK_DISABLE_AFTER_HOURS without a success is disabled and the integrator told.

A worker that dies mid-send leaves a lease that runs out; another worker then sends the same
message again (same ``webhook-id``): delivery is at least once, receivers deduplicate by id.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy.orm.exc import StaleDataError
from standardwebhooks import Webhook

from app.integrators import service
from app.integrators.destinations import Resolver, UnsafeDestination, checked_addresses, resolve
from app.integrators.repository import GrantRepository, WebhookRepository
from app.integrators.sealing import SecretUnavailable
from app.kit.clock import utcnow
from app.kit.db import Database, begin_write
from app.kit.deadline import Deadline
from app.kit.settings import Settings
from app.models import WebhookEndpoint

logger = logging.getLogger("zhizao.webhooks")

USER_AGENT = "zhizao-webhooks/1.0"
BATCH_SIZE = 20


@dataclass(frozen=True, slots=True)
class Attempt:
    ok: bool
    status_code: int | None
    error: str | None


def send_allowance(settings: Settings) -> timedelta:
    """The longest one send may take: a connection and an answer, each within the timeout.
    ``send`` gives up past it (``app.kit.deadline.Deadline``): httpx's timeout bounds each wait
    for the next bytes, and a receiver sending its answer a byte at a time kept one send going
    16 s against an allowance of 2 s (measured)."""
    return timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 2)


def send(
    client: httpx.Client,
    url: str,
    secret: str,
    message_id: str,
    payload: dict[str, Any],
    settings: Settings,
    resolve: Resolver,
    at: datetime,
) -> Attempt:
    """One signed POST to ``url``, pinned to the address that passed the guard."""
    try:
        addresses = checked_addresses(url, settings, resolve)
    except UnsafeDestination as exc:
        return Attempt(False, None, str(exc))
    parts = urlsplit(url)
    assert parts.hostname is not None
    address = addresses[0]
    port = parts.port or (443 if parts.scheme == "https" else 80)
    netloc = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    headers = {
        "Host": host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
        # A connection of its own, so that ``Deadline`` sees it open (a reused one would not).
        "Connection": "close",
    }
    deadline = Deadline(send_allowance(settings).total_seconds())
    extensions: dict[str, Any] = {"trace": deadline.trace}
    if parts.scheme == "https":
        extensions["sni_hostname"] = parts.hostname
    try:
        with (
            deadline,
            client.stream(
                "POST", target, content=body.encode(), headers=headers, extensions=extensions
            ) as response,
        ):
            status = response.status_code
    except httpx.HTTPError as exc:
        if deadline.passed:
            return Attempt(
                False, None, f"given up after {deadline.seconds:g} s: the answer took too long"
            )
        return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= status < 300:
        return Attempt(True, status, None)
    if 300 <= status < 400:
        return Attempt(False, status, "redirect not followed: answer 2xx at the registered URL")
    return Attempt(False, status, f"HTTP {status}")


def backoff(attempts: int, settings: Settings, rng: random.Random | None = None) -> timedelta:
    """Delay before the next try after ``attempts`` failures: exponential, capped, with jitter
    (half fixed, half random) so that many failed deliveries do not retry in lockstep."""
    delay = min(
        settings.WEBHOOK_BACKOFF_MAX_SECONDS,
        settings.WEBHOOK_BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1),
    )
    jitter = (rng or random).uniform(0, delay / 2)
    return timedelta(seconds=delay / 2 + jitter)


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery_id: str
    url: str
    #: The endpoint's signing secret, or why it cannot be opened.
    secret: str | SecretUnavailable
    payload: dict[str, Any]


class WebhookWorker:
    """Delivers due outbox rows; ``run_once`` is one pass (``app.worker`` loops)."""

    name = "webhooks"

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        resolve: Resolver = resolve,
        http_client: httpx.Client | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.database = database
        self.settings = settings
        self.resolve = resolve
        self.batch_size = batch_size
        self.client = http_client or httpx.Client(
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False, trust_env=False
        )
        #: What one send may take (``send`` gives up past it: ``Deadline``).
        self.send_allowance = send_allowance(settings)
        margin = timedelta(seconds=settings.WEBHOOK_LEASE_MARGIN_SECONDS)
        self.lease = self.send_allowance + margin
        #: A batch's unsent rows are leased again once less than a send and a third of the
        #: margin is left (a lease never runs out under a worker that is still sending).
        self.renew_below = self.send_allowance + margin / 3

    def close(self) -> None:
        self.client.close()

    def run_once(self, now: datetime | None = None) -> int:
        """Deliver what is due at ``now``; returns how many deliveries were taken up (each sent,
        or skipped because it was cancelled or taken over since the claim)."""
        now = now or utcnow()
        with self.database.sessions() as session:
            if not WebhookRepository(session).any_due(now):
                return 0
        token = uuid.uuid4().hex
        claimed = self._claim(token, now)
        lease_end = now + self.lease
        for position, item in enumerate(claimed):
            at = max(now, utcnow())
            if lease_end - at < self.renew_below:
                lease_end = at + self.lease
                self._extend_lease(token, [c.delivery_id for c in claimed[position:]], lease_end)
            if not self._sendable(token, item.delivery_id):
                # A batch to a slow receiver takes minutes: a firm that revoked its consent
                # meanwhile (cancelling the row) must not get events sent after it, nor an
                # endpoint an admin disabled. The row is read again right before its send.
                continue
            if isinstance(item.secret, SecretUnavailable):
                failed = Attempt(False, None, f"not sent: signing secret: {item.secret}")
                self._record(token, item.delivery_id, failed, at)
                continue
            attempt = send(
                self.client,
                item.url,
                item.secret,
                item.delivery_id,
                item.payload,
                self.settings,
                self.resolve,
                at,
            )
            self._record(token, item.delivery_id, attempt, at)
        return len(claimed)

    def _claim(self, token: str, now: datetime) -> list[Claimed]:
        claimed: list[Claimed] = []
        with self.database.sessions() as session:
            begin_write(session)
            webhooks = WebhookRepository(session)
            grants = GrantRepository(session)
            for delivery in webhooks.lock_due(now, self.batch_size):
                endpoint = webhooks.endpoint(delivery.endpoint_id)
                assert endpoint is not None  # foreign key
                if (
                    delivery.event_type == "assessment.submitted"
                    and delivery.enterprise_id is not None
                    and not grants.is_active(delivery.enterprise_id, delivery.client_id)
                ):
                    # Consent revoked: the event is never sent (revocation cancels too).
                    delivery.status = "cancelled"
                    delivery.last_error = "cancelled: consent revoked"
                    continue
                delivery.claimed_by = token
                delivery.next_attempt_at = now + self.lease
                claimed.append(
                    Claimed(
                        delivery.id, endpoint.url, self._secret(endpoint), dict(delivery.payload)
                    )
                )
            session.commit()
        return claimed

    def _extend_lease(self, token: str, delivery_ids: list[str], until: datetime) -> None:
        """The lease covers one send; a batch to a slow receiver can take up to a send per row,
        so the rows not yet sent are leased again before the lease could run out under them
        (else another worker would take them over and send them a second time)."""
        with self.database.sessions() as session:
            begin_write(session)
            WebhookRepository(session).extend_lease(delivery_ids, token, until)
            session.commit()

    def _sendable(self, token: str, delivery_id: str) -> bool:
        with self.database.sessions() as session:
            return WebhookRepository(session).sendable(delivery_id, token)

    def _secret(self, endpoint: WebhookEndpoint) -> str | SecretUnavailable:
        try:
            return service.signing_secret(self.settings, endpoint)
        except SecretUnavailable as exc:
            return exc

    def _record(self, token: str, delivery_id: str, attempt: Attempt, at: datetime) -> None:
        settings = self.settings
        with self.database.sessions() as session:
            begin_write(session)
            webhooks = WebhookRepository(session)
            delivery = webhooks.delivery(delivery_id)
            if delivery is None or delivery.claimed_by != token:
                return  # the lease ran out and another worker took it over (or it was deleted)
            endpoint = webhooks.endpoint(delivery.endpoint_id)
            assert endpoint is not None
            now = max(at, utcnow())  # `at` runs ahead of the clock when a test passes `now`
            # Consent revoked while this attempt was in flight (cancellation keeps the claim):
            # the attempt is still recorded, so the log does not say "cancelled, 0 attempts" of
            # an event the receiver got; it is never retried.
            cancelled = delivery.status == "cancelled"
            reason = delivery.last_error
            delivery.claimed_by = None
            delivery.attempts += 1
            delivery.last_attempt_at = at
            delivery.last_status_code = attempt.status_code
            delivery.last_error = attempt.error
            if attempt.ok:
                delivery.status = "delivered"
                delivery.delivered_at = now
                endpoint.last_success_at = now
                endpoint.failing_since = None
            else:
                logger.info("webhook %s to %s failed: %s", delivery.id, endpoint.url, attempt.error)
                if cancelled:
                    delivery.last_error = f"{reason}; the attempt in flight failed: {attempt.error}"
                elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
                    delivery.status = "failed"
                else:
                    delivery.next_attempt_at = now + backoff(delivery.attempts, settings)
                if endpoint.failing_since is None:
                    endpoint.failing_since = at
                failing_for = now - endpoint.failing_since
                if endpoint.status == "active" and failing_for >= timedelta(
                    hours=settings.WEBHOOK_DISABLE_AFTER_HOURS
                ):
                    service.disable_failing_endpoint(session, endpoint, now)
            try:
                session.commit()
            except StaleDataError:
                # Deleted since it was read, with its firm's data (PostgreSQL: the update waited
                # for the deletion, then matched no row): nothing is left to record.
                session.rollback()
