"""Webhooks: registration and approval, the outbox written with the submit, signed delivery,
retries under the same id, the SSRF guard, the delivery log, disabling failing endpoints."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.enterprises.repository import EnterpriseRepository
from app.integrators.repository import WebhookRepository
from app.integrators.worker import UnsafeDestination, WebhookWorker, backoff, checked_addresses
from app.kit import clock
from app.kit.clock import utcnow
from app.kit.db import Database
from app.kit.settings import Settings
from app.main import create_app
from app.models import IntegratorNotice, WebhookDelivery
from tests.app.integrators.helpers import (
    Integrator,
    Receiver,
    free_port,
    register_firm,
    submitted,
    wait_for,
)
from tests.factories import create_user, login


def register_endpoint(
    client: TestClient, integrator: Integrator, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url, "description": "测试"}
    if events is not None:
        body["events"] = events
    response = client.post("/api/v1/webhooks", json=body, headers=integrator.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def approve(client: TestClient, db: Session, endpoint_id: str) -> None:
    """Approve as an admin in a separate signed-in client (the test client stays an integrator)."""
    admin = TestClient(client.app)  # no `with`: the app is already running
    login(admin, create_user(db, role="admin"))
    response = admin.post(f"/api/v1/admin/webhooks/{endpoint_id}/approve")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "active"


def queue_submissions(
    client: TestClient, db: Session, integrator: Integrator, url: str, count: int
) -> None:
    """An approved endpoint at ``url`` and ``count`` firms' submits queued for it."""
    endpoint = register_endpoint(client, integrator, url)
    approve(client, db, endpoint["id"])
    for _ in range(count):
        firm = register_firm(client, integrator.headers)
        submitted(client, integrator.headers, firm["id"])


@pytest.fixture
def database(settings: Settings) -> Any:
    database = Database(settings)
    yield database
    database.dispose()


@pytest.fixture
def worker(database: Database, settings: Settings) -> Any:
    worker = WebhookWorker(database, settings)
    yield worker
    worker.close()


def deliveries(db: Session) -> list[WebhookDelivery]:
    db.rollback()
    return list(db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at)))


class TestRegistration:
    def test_endpoint_waits_for_approval_and_secret_is_shown_once(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        receiver: Receiver,
        worker: WebhookWorker,
    ) -> None:
        created = register_endpoint(client, integrator, receiver.url)
        assert created["status"] == "pending"
        assert created["secret"].startswith("whsec_")
        assert set(created["events"]) == {"assessment.submitted", "grant.created", "grant.revoked"}
        shown = client.get(f"/api/v1/webhooks/{created['id']}", headers=integrator.headers)
        assert "secret" not in shown.json()

        firm = register_firm(client, integrator.headers)
        submitted(client, integrator.headers, firm["id"])
        assert deliveries(db) == []  # nothing is queued for an unapproved endpoint
        assert worker.run_once() == 0

    @pytest.mark.parametrize(
        "url",
        [
            "ftp://hooks.example.com/x",
            "https://user:pw@hooks.example.com/x",
            "https://10.1.2.3/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[fd00::1]/hook",
            "https://192.168.1.20/hook",
        ],
    )
    def test_unusable_urls_are_refused(
        self, client: TestClient, integrator: Integrator, url: str
    ) -> None:
        response = client.post("/api/v1/webhooks", json={"url": url}, headers=integrator.headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body.url"

    def test_https_only_unless_allowed(
        self, settings: Settings, engine: object, integrator: Integrator
    ) -> None:
        strict = settings.model_copy(
            update={"WEBHOOK_ALLOW_HTTP": False, "WEBHOOK_ALLOW_LOOPBACK": False}
        )
        with TestClient(create_app(strict)) as client:
            for url in ("http://hooks.example.com/x", "https://127.0.0.1/x", "https://localhost/x"):
                response = client.post(
                    "/api/v1/webhooks", json={"url": url}, headers=integrator.headers
                )
                assert response.status_code == 422, url

    def test_endpoints_of_others_are_404(
        self,
        client: TestClient,
        integrator: Integrator,
        other_integrator: Integrator,
        receiver: Receiver,
    ) -> None:
        created = register_endpoint(client, integrator, receiver.url)
        for method, suffix in (
            ("GET", ""),
            ("GET", "/deliveries"),
            ("DELETE", ""),
            ("POST", "/enable"),
        ):
            response = client.request(
                method,
                f"/api/v1/webhooks/{created['id']}{suffix}",
                headers=other_integrator.headers,
            )
            assert response.status_code == 404, (method, suffix)
        assert client.get("/api/v1/webhooks", headers=other_integrator.headers).json() == []

    def test_only_admins_approve(
        self, client: TestClient, integrator: Integrator, receiver: Receiver
    ) -> None:
        created = register_endpoint(client, integrator, receiver.url)
        response = client.post(
            f"/api/v1/admin/webhooks/{created['id']}/approve", headers=integrator.headers
        )
        assert response.status_code == 404


class TestDelivery:
    def test_receiver_gets_a_signed_event_that_standardwebhooks_verifies(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        receiver: Receiver,
        worker: WebhookWorker,
    ) -> None:
        endpoint = register_endpoint(client, integrator, receiver.url)
        approve(client, db, endpoint["id"])
        firm = register_firm(client, integrator.headers)
        result = submitted(client, integrator.headers, firm["id"])

        [queued] = deliveries(db)  # written by the submit's own transaction
        assert queued.status == "pending" and queued.event_type == "assessment.submitted"
        assert worker.run_once() == 1

        [got] = receiver.received
        payload = Webhook(endpoint["secret"]).verify(got.body, got.headers)
        assert got.headers["webhook-id"] == queued.id
        assert payload["type"] == "assessment.submitted"
        data = payload["data"]
        assert data["assessment_id"] == result["assessment_id"]
        assert data["enterprise_id"] == firm["id"]
        assert data["rung"] == result["rung"]
        assert data["seq"] == 1
        assert got.headers["Host"] == f"127.0.0.1:{receiver.port}"
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + "A" * 43).verify(got.body, got.headers)

        log = client.get(
            f"/api/v1/webhooks/{endpoint['id']}/deliveries", headers=integrator.headers
        ).json()
        assert [d["id"] for d in log["items"]] == [queued.id]
        assert log["items"][0]["status"] == "delivered"
        assert log["items"][0]["attempts"] == 1 and log["items"][0]["last_status_code"] == 204
        assert worker.run_once() == 0  # nothing left

    def test_receiver_down_then_up_gets_the_event_once_under_the_same_id(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        worker: WebhookWorker,
    ) -> None:
        down = Receiver(free_port())  # nothing listens on this port yet
        endpoint = register_endpoint(client, integrator, down.url)
        approve(client, db, endpoint["id"])
        firm = register_firm(client, integrator.headers)
        submitted(client, integrator.headers, firm["id"])

        assert worker.run_once() == 1
        [failed] = deliveries(db)
        assert failed.status == "pending" and failed.attempts == 1
        assert failed.last_error and "ConnectError" in failed.last_error
        assert failed.next_attempt_at > utcnow()
        assert worker.run_once() == 0  # not due yet

        down.statuses = [500]  # up again, but failing once more
        down.start()
        try:
            later = failed.next_attempt_at + timedelta(seconds=1)
            assert worker.run_once(now=later) == 1
            [retried] = deliveries(db)
            assert retried.status == "pending" and retried.attempts == 2
            assert retried.last_status_code == 500
            assert worker.run_once(now=retried.next_attempt_at + timedelta(seconds=1)) == 1
            assert worker.run_once(now=utcnow() + timedelta(days=2)) == 0
        finally:
            down.stop()

        [done] = deliveries(db)
        assert done.status == "delivered" and done.attempts == 3
        ids = [r.headers["webhook-id"] for r in down.received]
        assert ids == [done.id, done.id]  # the 500 and the success: one id throughout
        # each attempt is signed afresh and verifies
        for got in down.received:
            Webhook(endpoint["secret"]).verify(got.body, got.headers)

    def test_redirects_are_not_followed(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        receiver: Receiver,
        worker: WebhookWorker,
    ) -> None:
        elsewhere = Receiver(free_port()).start()
        try:
            receiver.statuses = [307]
            receiver.location = elsewhere.url
            endpoint = register_endpoint(client, integrator, receiver.url)
            approve(client, db, endpoint["id"])
            firm = register_firm(client, integrator.headers)
            submitted(client, integrator.headers, firm["id"])
            assert worker.run_once() == 1
            [delivery] = deliveries(db)
            assert delivery.status == "pending" and delivery.last_status_code == 307
            assert "redirect" in (delivery.last_error or "")
            assert elsewhere.received == []
        finally:
            elsewhere.stop()

    def test_send_time_guard_refuses_names_resolving_to_private_addresses(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        database: Database,
        settings: Settings,
    ) -> None:
        endpoint = register_endpoint(client, integrator, "http://hooks.partner.example/x")
        approve(client, db, endpoint["id"])
        firm = register_firm(client, integrator.headers)
        submitted(client, integrator.headers, firm["id"])
        # The name was public at registration and approval; now it resolves inside.
        rebinding = WebhookWorker(
            database, settings, resolve=lambda host, port: ["169.254.169.254"]
        )
        try:
            assert rebinding.run_once() == 1
        finally:
            rebinding.close()
        [delivery] = deliveries(db)
        assert delivery.status == "pending" and delivery.last_status_code is None
        assert "not a public address" in (delivery.last_error or "")

    def test_loopback_is_refused_unless_allowed(self, settings: Settings) -> None:
        strict = settings.model_copy(update={"WEBHOOK_ALLOW_LOOPBACK": False})
        with pytest.raises(UnsafeDestination):
            checked_addresses("http://127.0.0.1:9/x", strict, lambda h, p: ["127.0.0.1"])
        with pytest.raises(UnsafeDestination):
            checked_addresses("http://x.example/", strict, lambda h, p: ["::ffff:10.0.0.1"])
        assert checked_addresses("http://127.0.0.1:9/x", settings, lambda h, p: ["127.0.0.1"]) == [
            "127.0.0.1"
        ]
        assert checked_addresses("https://x.example/", strict, lambda h, p: ["93.184.215.14"]) == [
            "93.184.215.14"
        ]

    def test_backoff_grows_exponentially_with_jitter_and_a_cap(self, settings: Settings) -> None:
        import random

        rng = random.Random(7)
        delays = [backoff(n, settings, rng).total_seconds() for n in range(1, 14)]
        base, cap = settings.WEBHOOK_BACKOFF_BASE_SECONDS, settings.WEBHOOK_BACKOFF_MAX_SECONDS
        for n, delay in enumerate(delays, start=1):
            full = min(cap, base * 2 ** (n - 1))
            assert full / 2 <= delay <= full
        assert len({round(d, 3) for d in delays}) == len(delays)  # jittered

    def test_endpoint_failing_for_long_is_disabled_and_the_integrator_told(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        worker: WebhookWorker,
    ) -> None:
        down = Receiver(free_port())
        endpoint = register_endpoint(client, integrator, down.url)
        approve(client, db, endpoint["id"])
        firm = register_firm(client, integrator.headers)
        submitted(client, integrator.headers, firm["id"])
        assert worker.run_once() == 1
        [delivery] = deliveries(db)
        much_later = utcnow() + timedelta(hours=worker.settings.WEBHOOK_DISABLE_AFTER_HOURS + 1)
        assert worker.run_once(now=much_later) == 1

        state = client.get(f"/api/v1/webhooks/{endpoint['id']}", headers=integrator.headers)
        assert state.json()["status"] == "disabled"
        assert state.json()["disabled_reason"] == "failing_for_long"
        notices = client.get(
            "/api/v1/notices", params={"lang": "en"}, headers=integrator.headers
        ).json()["items"]
        assert notices[0]["kind"] == "webhook_endpoint_disabled"
        assert "disabled" in notices[0]["message"] and down.url in notices[0]["message"]
        zh = client.get("/api/v1/notices", headers=integrator.headers).json()["items"]
        assert "停用" in zh[0]["message"]
        db.rollback()
        assert db.scalar(select(IntegratorNotice.kind)) == "webhook_endpoint_disabled"
        assert worker.run_once(now=much_later + timedelta(days=1)) == 0  # nothing sent now

        # the integrator fixes the receiver and turns the endpoint back on: the event follows
        down.start()
        try:
            enabled = client.post(
                f"/api/v1/webhooks/{endpoint['id']}/enable", headers=integrator.headers
            )
            assert enabled.json()["status"] == "active"
            assert worker.run_once(now=much_later + timedelta(days=2)) == 1
        finally:
            down.stop()
        assert [r.headers["webhook-id"] for r in down.received] == [delivery.id]


class TestRevocation:
    def test_revoke_cancels_pending_events_and_sends_grant_revoked(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        receiver: Receiver,
        worker: WebhookWorker,
    ) -> None:
        endpoint = register_endpoint(client, integrator, receiver.url)
        approve(client, db, endpoint["id"])
        firm = register_firm(client, integrator.headers)
        submitted(client, integrator.headers, firm["id"])  # queued, not yet sent

        firm_user = TestClient(client.app)
        enterprise = EnterpriseRepository(db).get(uuid.UUID(firm["id"]))
        login(firm_user, create_user(db, enterprise=enterprise))
        response = firm_user.delete(
            f"/api/v1/enterprises/{firm['id']}/grants/{integrator.client_id}"
        )
        assert response.status_code == 200

        by_type = {d.event_type: d for d in deliveries(db)}
        assert by_type["assessment.submitted"].status == "cancelled"
        assert by_type["grant.revoked"].status == "pending"
        assert worker.run_once() == 1
        [got] = receiver.received
        payload = Webhook(endpoint["secret"]).verify(got.body, got.headers)
        assert payload["type"] == "grant.revoked"
        assert payload["data"] == {
            "enterprise_id": firm["id"],
            "revoked_at": payload["data"]["revoked_at"],
        }

        # a submission after the revoke (by the firm) is queued for nobody
        assert worker.run_once() == 0


class TestWorkers:
    def test_embedded_worker_delivers_in_the_background(
        self,
        settings: Settings,
        engine: object,
        db: Session,
        integrator: Integrator,
        receiver: Receiver,
    ) -> None:
        embedded = settings.model_copy(
            update={"WEBHOOK_WORKER": "embedded", "WEBHOOK_POLL_SECONDS": 0.05}
        )
        with TestClient(create_app(embedded)) as client:
            endpoint = register_endpoint(client, integrator, receiver.url)
            approve(client, db, endpoint["id"])
            firm = register_firm(client, integrator.headers)
            submitted(client, integrator.headers, firm["id"])
            assert wait_for(lambda: len(receiver.received) == 1)
            assert client.app.state.worker is not None
        # stopped with the app
        assert client.app.state.worker is None

    def test_several_workers_send_each_event_once(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        receiver: Receiver,
        database: Database,
        settings: Settings,
    ) -> None:
        queue_submissions(client, db, integrator, receiver.url, 6)
        workers = [WebhookWorker(database, settings, batch_size=2) for _ in range(3)]
        barrier = threading.Barrier(len(workers))

        def drain(worker: WebhookWorker) -> None:
            barrier.wait()
            while worker.run_once() > 0:
                pass

        threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        for worker in workers:
            worker.close()
        ids = [r.headers["webhook-id"] for r in receiver.received]
        assert len(ids) == 6 and len(set(ids)) == 6
        assert {d.status for d in deliveries(db)} == {"delivered"}
        assert sorted(json.loads(r.body)["data"]["seq"] for r in receiver.received) == list(
            range(1, 7)
        )

    @pytest.mark.parametrize("margin", [30.0, 3.0])  # the default, and a short lease
    def test_a_slow_batch_keeps_its_unsent_rows_leased_so_no_other_worker_resends_them(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        receiver: Receiver,
        database: Database,
        settings: Settings,
        margin: float,
    ) -> None:
        """Each send takes its whole allowance (2 × the timeout): a batch of five outlasts one
        lease. Before each send, another worker looks for due rows: it must find none."""
        settings = settings.model_copy(update={"WEBHOOK_LEASE_MARGIN_SECONDS": margin})
        queue_submissions(client, db, integrator, receiver.url, 5)
        up_for_grabs: list[bool] = []
        with clock.frozen(utcnow()) as time:

            def slow_receiver(request: httpx.Request) -> httpx.Response:
                with database.sessions() as other_worker:
                    up_for_grabs.append(WebhookRepository(other_worker).any_due(time.now))
                time.advance(timedelta(seconds=2 * settings.WEBHOOK_TIMEOUT_SECONDS))
                return httpx.Response(204)

            slow = httpx.Client(transport=httpx.MockTransport(slow_receiver))
            worker = WebhookWorker(database, settings, http_client=slow)
            try:
                assert worker.run_once() == 5
            finally:
                worker.close()
        assert up_for_grabs == [False] * 5
        assert {d.status for d in deliveries(db)} == {"delivered"}
