"""Webhooks: registration and approval, the outbox written with the submit, signed delivery,
retries under the same id, the SSRF guard, the delivery log, disabling failing endpoints."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import uuid
from datetime import datetime, timedelta
from time import monotonic
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.enterprises import data as enterprise_data
from app.enterprises.data_repository import EnterpriseDataRepository
from app.enterprises.repository import EnterpriseRepository
from app.integrators.repository import WebhookRepository
from app.integrators.worker import UnsafeDestination, WebhookWorker, backoff, checked_addresses
from app.kit import clock
from app.kit.clock import utcnow
from app.kit.db import Database
from app.kit.principal import Principal
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
from tests.factories import create_api_key, create_user, delete_firm, login
from tests.races import at_once, meet_after


def register_endpoint(
    client: TestClient, integrator: Integrator, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url, "description": "测试"}
    if events is not None:
        body["events"] = events
    response = client.post("/api/v1/webhooks", json=body, headers=integrator.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def admin_client(client: TestClient, db: Session) -> TestClient:
    """A new admin, signed in, in a client of its own (the test client stays an integrator)."""
    admin = TestClient(client.app)  # no `with`: the app is already running
    login(admin, create_user(db, role="admin"))
    return admin


def approve(client: TestClient, db: Session, endpoint_id: str) -> None:
    """Approve as an admin in a separate signed-in client (the test client stays an integrator)."""
    response = admin_client(client, db).post(f"/api/v1/admin/webhooks/{endpoint_id}/approve")
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


def firm_user(client: TestClient, db: Session, enterprise_id: str) -> TestClient:
    """A signed-in user of the firm, in its own client (the test client stays an integrator)."""
    user_client = TestClient(client.app)  # no `with`: the app is already running
    enterprise = EnterpriseRepository(db).get(uuid.UUID(enterprise_id))
    login(user_client, create_user(db, enterprise=enterprise))
    return user_client


def revoke(user_client: TestClient, enterprise_id: str, integrator: Integrator) -> None:
    response = user_client.delete(
        f"/api/v1/enterprises/{enterprise_id}/grants/{integrator.client_id}"
    )
    assert response.status_code == 200, response.text


def received_revocation(receiver: Receiver, endpoint: dict[str, Any], firm_id: str) -> bytes:
    """The one event ``receiver`` got: ``grant.revoked``, signed with the endpoint's secret,
    naming the firm by its id alone (and when); its body."""
    [got] = receiver.received
    payload = Webhook(endpoint["secret"]).verify(got.body, got.headers)
    assert payload["type"] == "grant.revoked"
    assert payload["data"] == {
        "enterprise_id": firm_id,
        "revoked_at": payload["data"]["revoked_at"],
    }
    return got.body


def delivery_log(
    client: TestClient, integrator: Integrator, endpoint_id: str
) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/webhooks/{endpoint_id}/deliveries", headers=integrator.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


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

    @pytest.mark.parametrize(
        "url",
        [
            "https://[1.1.1.1]/h",  # an IPv4 address in brackets
            "https://[::1/h",  # an unclosed bracket
            "https://]/h",
            "https://hooks.example.com:0/h",  # port 0 (urlsplit reads it as a port)
            "https://hooks.example.com:65536/h",
            "https://hooks.example.com:+443/h",
        ],
    )
    def test_malformed_urls_are_422_naming_url_not_500(
        self, client: TestClient, integrator: Integrator, url: str
    ) -> None:
        """urlsplit raises ValueError on brackets it cannot read: POST /webhooks answered 500.
        Port 0 passed the port check and was registered (201)."""
        response = client.post("/api/v1/webhooks", json={"url": url}, headers=integrator.headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        [error] = response.json()["errors"]
        assert error["field"] == "body.url" and error["code"] == "invalid_url"
        assert client.get("/api/v1/webhooks", headers=integrator.headers).json() == []

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

    def test_a_receiver_answering_a_byte_at_a_time_is_given_up_within_the_allowance(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        database: Database,
        settings: Settings,
    ) -> None:
        """httpx's timeout bounds each wait for bytes, not the answer: a receiver dripping its
        answer held the send (and the worker) for as long as it dripped, past the lease, so that
        another worker sent the message again. Now the send ends with its allowance and is
        retried later, like any failure."""
        settings = settings.model_copy(update={"WEBHOOK_TIMEOUT_SECONDS": 0.5})
        drip_for = 8.0
        listener = socket.create_server(("127.0.0.1", 0))
        stop = threading.Event()

        def drip() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 204 No Content\r\nX-Slow: ")
                started = monotonic()
                while not stop.is_set() and monotonic() - started < drip_for:
                    try:
                        connection.sendall(b"a")
                    except OSError:
                        return  # the sender gave up
                    stop.wait(0.1)
                with contextlib.suppress(OSError):
                    connection.sendall(b"\r\nContent-Length: 0\r\n\r\n")

        dripper = threading.Thread(target=drip, daemon=True)
        dripper.start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/hooks"
        queue_submissions(client, db, integrator, url, 1)
        worker = WebhookWorker(database, settings)
        try:
            started = monotonic()
            assert worker.run_once() == 1
            took = monotonic() - started
        finally:
            worker.close()
            stop.set()
            dripper.join(timeout=drip_for)
            listener.close()
        assert took < 2 * settings.WEBHOOK_TIMEOUT_SECONDS + 1.5, took  # not the drip's 8 s
        [given_up] = deliveries(db)
        assert given_up.status == "pending" and given_up.attempts == 1
        assert given_up.last_error is not None and "given up after 1 s" in given_up.last_error
        assert given_up.next_attempt_at > utcnow()  # retried later, like any failure

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
        endpoint, _firm, much_later = _failing_for_long(client, db, integrator, worker, down)
        [delivery] = deliveries(db)
        state = client.get(f"/api/v1/webhooks/{endpoint['id']}", headers=integrator.headers)
        assert state.json()["status"] == "disabled"
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
        assert _enabled_and_run(client, integrator, worker, down, endpoint, much_later) == 1
        assert [r.headers["webhook-id"] for r in down.received] == [delivery.id]

    def test_events_while_disabled_for_failing_wait_for_enable(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        worker: WebhookWorker,
    ) -> None:
        """§7: after POST /webhooks/{id}/enable, undelivered events are retried. Events that
        happened while the endpoint was disabled were never queued (only active endpoints got
        outbox rows), so they never came."""
        down = Receiver(free_port())
        endpoint, firm, much_later = _failing_for_long(
            client, db, integrator, worker, down, ["assessment.submitted"]
        )
        during = submitted(client, integrator.headers, firm["id"])  # while disabled
        queued = [
            d
            for d in deliveries(db)
            if d.payload["data"]["assessment_id"] == during["assessment_id"]
        ]
        assert [d.status for d in queued] == ["pending"]  # queued, waiting
        assert worker.run_once(now=much_later + timedelta(days=1)) == 0  # but not sent

        assert _enabled_and_run(client, integrator, worker, down, endpoint, much_later) == 2
        sent = [json.loads(r.body)["data"]["assessment_id"] for r in down.received]
        assert during["assessment_id"] in sent and len(sent) == 2
        assert {d.status for d in deliveries(db)} == {"delivered"}

    def test_events_while_disabled_by_an_admin_are_not_queued(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        receiver: Receiver,
    ) -> None:
        """What §7 says of an endpoint an admin disabled: events meanwhile are not kept."""
        endpoint = register_endpoint(client, integrator, receiver.url, ["assessment.submitted"])
        approve(client, db, endpoint["id"])
        disabled = admin_client(client, db).post(f"/api/v1/admin/webhooks/{endpoint['id']}/disable")
        assert disabled.json()["disabled_reason"] == "disabled_by_admin"
        firm = register_firm(client, integrator.headers)
        submitted(client, integrator.headers, firm["id"])
        assert deliveries(db) == []


def _failing_for_long(
    client: TestClient,
    db: Session,
    integrator: Integrator,
    worker: WebhookWorker,
    down: Receiver,
    events: list[str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], datetime]:
    """An approved endpoint at ``down`` (not answering) whose one event, a firm's submission,
    failed from the first attempt until the worker disabled it for failing too long (at
    ``much_later``, returned with the endpoint and the firm)."""
    endpoint = register_endpoint(client, integrator, down.url, events)
    approve(client, db, endpoint["id"])
    firm = register_firm(client, integrator.headers)
    submitted(client, integrator.headers, firm["id"])
    assert worker.run_once() == 1
    much_later = utcnow() + timedelta(hours=worker.settings.WEBHOOK_DISABLE_AFTER_HOURS + 1)
    assert worker.run_once(now=much_later) == 1
    state = client.get(f"/api/v1/webhooks/{endpoint['id']}", headers=integrator.headers)
    assert state.json()["disabled_reason"] == "failing_for_long"
    return endpoint, firm, much_later


def _enabled_and_run(
    client: TestClient,
    integrator: Integrator,
    worker: WebhookWorker,
    down: Receiver,
    endpoint: dict[str, Any],
    much_later: datetime,
) -> int:
    """The integrator brings its receiver back and re-enables the endpoint; the worker's next
    run two days after ``much_later``: its attempts."""
    down.start()
    try:
        enabled = client.post(
            f"/api/v1/webhooks/{endpoint['id']}/enable", headers=integrator.headers
        )
        assert enabled.json()["status"] == "active"
        return worker.run_once(now=much_later + timedelta(days=2))
    finally:
        down.stop()


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

        revoke(firm_user(client, db, firm["id"]), firm["id"], integrator)

        by_type = {d.event_type: d for d in deliveries(db)}
        assert by_type["assessment.submitted"].status == "cancelled"
        assert by_type["grant.revoked"].status == "pending"
        assert worker.run_once() == 1
        received_revocation(receiver, endpoint, firm["id"])

        # a submission after the revoke (by the firm) is queued for nobody
        assert worker.run_once() == 0

    def test_deleting_the_firm_sends_grant_revoked_to_every_integrator_it_consented_to(
        self,
        client: TestClient,
        db: Session,
        settings: Settings,
        integrator: Integrator,
        other_integrator: Integrator,
        receiver: Receiver,
        worker: WebhookWorker,
    ) -> None:
        """Deleting its data ends the firm's consent: each integrator it consented to gets what
        a revocation sends (``grant.revoked``, naming the firm by id only, and a notice), queued
        with the deletion. They got nothing, and learnt of it only from 404s. An integrator
        whose grant had already ended was told then, and is not told again."""
        endpoint = register_endpoint(client, integrator, receiver.url)
        approve(client, db, endpoint["id"])
        firm = register_firm(client, integrator.headers)  # consent given at registration
        submitted(client, integrator.headers, firm["id"])  # queued: it goes with the firm
        owner = firm_user(client, db, firm["id"])
        grants = f"/api/v1/enterprises/{firm['id']}/grants"
        granted = owner.post(grants, json={"client_id": str(other_integrator.client_id)})
        assert granted.status_code == 201, granted.text
        ended_key, ended_client = create_api_key(db, settings)
        ended = Integrator(ended_key, ended_client.id)  # type: ignore[attr-defined]
        assert owner.post(grants, json={"client_id": str(ended.client_id)}).status_code == 201
        revoke(owner, firm["id"], ended)
        enterprise = EnterpriseRepository(db).get(uuid.UUID(firm["id"]))
        assert enterprise is not None
        code, name = enterprise.credit_code, enterprise.name

        deleted = delete_firm(owner, firm["id"], code)

        assert deleted.status_code == 200, deleted.text
        [queued] = deliveries(db)
        assert (queued.event_type, queued.status) == ("grant.revoked", "pending")
        assert (queued.client_id, queued.enterprise_id) == (integrator.client_id, None)
        assert worker.run_once() == 1
        body = received_revocation(receiver, endpoint, firm["id"]).decode()
        assert code not in body and name not in body
        assert [
            (d["event_type"], d["status"]) for d in delivery_log(client, integrator, endpoint["id"])
        ] == [("grant.revoked", "delivered")]

        def notices(of: Integrator) -> list[tuple[str, dict[str, Any]]]:
            listed = client.get("/api/v1/notices?lang=en", headers=of.headers)
            assert listed.status_code == 200, listed.text
            return [(n["kind"], n["detail"]) for n in listed.json()["items"]]

        told = [("grant_revoked", {"enterprise_id": firm["id"]})]
        assert notices(integrator) == told
        assert notices(other_integrator) == told
        assert notices(ended) == []  # its revocation's notice went with the firm's rows

    def test_a_deletion_that_rolls_back_tells_no_integrator(
        self, client: TestClient, db: Session, integrator: Integrator, receiver: Receiver
    ) -> None:
        """The revocation is queued in the deletion's transaction: a deletion that fails
        queues nothing."""
        endpoint = register_endpoint(client, integrator, receiver.url)
        approve(client, db, endpoint["id"])
        firm = register_firm(client, integrator.headers)
        enterprise = EnterpriseRepository(db).get(uuid.UUID(firm["id"]))
        assert enterprise is not None
        owner = create_user(db, enterprise=enterprise)
        principal = Principal(
            kind="user",
            id=owner.id,
            role="enterprise",
            enterprise_id=enterprise.id,
            firm_role="owner",
        )
        enterprise_data.delete_data(db, principal, enterprise.id)
        assert {d.event_type for d in db.scalars(select(WebhookDelivery))} == {"grant.revoked"}
        db.rollback()
        assert deliveries(db) == []
        assert EnterpriseRepository(db).get(enterprise.id) is not None

    def test_revoked_between_claim_and_send_nothing_more_is_sent(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        database: Database,
        settings: Settings,
    ) -> None:
        """The worker claims a batch, then sends it row by row. Two firms revoke while the
        first row is being sent: the second row, claimed before the revocation, must not go
        out (the worker sent every claimed row), and the one in flight is logged as sent
        (it was logged "cancelled, 0 attempts")."""
        endpoint = register_endpoint(
            client, integrator, "http://hooks.example.com/h", ["assessment.submitted"]
        )
        approve(client, db, endpoint["id"])
        firms = [register_firm(client, integrator.headers) for _ in range(2)]
        users = [firm_user(client, db, firm["id"]) for firm in firms]
        for firm in firms:
            submitted(client, integrator.headers, firm["id"])
        received: list[httpx.Request] = []

        def receiver(request: httpx.Request) -> httpx.Response:
            received.append(request)
            if len(received) == 1:  # both rows are claimed by now: revoke both firms
                for firm, user in zip(firms, users, strict=True):
                    revoke(user, firm["id"], integrator)
            return httpx.Response(204)

        worker = WebhookWorker(
            database, settings, http_client=httpx.Client(transport=httpx.MockTransport(receiver))
        )
        try:
            worker.run_once()
        finally:
            worker.close()

        [sent] = received  # the row in flight; nothing after the revocations
        rows = {d.id: d for d in deliveries(db) if d.event_type == "assessment.submitted"}
        in_flight = rows.pop(sent.headers["webhook-id"])
        [held_back] = rows.values()
        assert (in_flight.status, in_flight.attempts) == ("delivered", 1)
        assert in_flight.last_status_code == 204
        assert (held_back.status, held_back.attempts) == ("cancelled", 0)
        assert held_back.last_error == "cancelled: consent revoked"

    def test_a_firm_deleted_while_its_events_are_sent_gets_nothing_more_sent(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        database: Database,
        settings: Settings,
    ) -> None:
        """The worker claims a batch (two events about one firm, one about another) and sends
        it row by row; the first firm's owner deletes its data while the first row is being
        sent. The other row about the deleted firm goes with it and is never sent, the row in
        flight is not recorded (it is gone), the other firm's is sent, and the pass ends as
        any other: the deletion's ``grant.revoked`` is the next thing sent."""
        endpoint = register_endpoint(
            client,
            integrator,
            "http://hooks.example.com/h",
            ["assessment.submitted", "grant.revoked"],
        )
        approve(client, db, endpoint["id"])
        deleted, staying = (register_firm(client, integrator.headers) for _ in range(2))
        for firm in (deleted, deleted, staying):
            submitted(client, integrator.headers, firm["id"])
        owner = firm_user(client, db, deleted["id"])
        received: list[dict[str, Any]] = []

        def receiver(request: httpx.Request) -> httpx.Response:
            received.append(json.loads(request.content))
            if len(received) == 1:  # the batch is claimed: the firm's owner deletes it all
                response = delete_firm(owner, deleted["id"], deleted["credit_code"])
                assert response.status_code == 200, response.text
            return httpx.Response(204)

        worker = WebhookWorker(
            database, settings, http_client=httpx.Client(transport=httpx.MockTransport(receiver))
        )
        try:
            assert worker.run_once() == 3
            assert worker.run_once() == 1
            assert worker.run_once() == 0
        finally:
            worker.close()

        about = [(r["type"], r["data"]["enterprise_id"]) for r in received]
        assert about == [
            ("assessment.submitted", deleted["id"]),  # in flight when the deletion came
            ("assessment.submitted", staying["id"]),
            ("grant.revoked", deleted["id"]),
        ]
        rows = [(d.event_type, d.status, d.enterprise_id) for d in deliveries(db)]
        assert sorted(rows, key=str) == sorted(
            [
                ("assessment.submitted", "delivered", uuid.UUID(staying["id"])),
                ("grant.revoked", "delivered", None),
            ],
            key=str,
        )

    def test_a_firm_deleted_while_its_event_is_being_recorded_fails_no_pass(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        database: Database,
        settings: Settings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The worker has sent an event about a firm and read its row to record the outcome
        when the firm's deletion (its rows deleted under its lock) commits: the update of the
        row then matches none (PostgreSQL)."""
        endpoint = register_endpoint(
            client, integrator, "http://hooks.example.com/h", ["assessment.submitted"]
        )
        approve(client, db, endpoint["id"])
        firm = register_firm(client, integrator.headers)
        submitted(client, integrator.headers, firm["id"])
        owner = firm_user(client, db, firm["id"])
        # The worker claims while the deletion holds the firm's lock, nothing deleted yet; it
        # then reads the row to record the send while the deletion has deleted it.
        claimed = meet_after(monkeypatch, EnterpriseRepository, "locked", 2)
        meet_after(monkeypatch, WebhookRepository, "lock_due", 2, claimed)
        deleted_all = meet_after(monkeypatch, EnterpriseDataRepository, "delete_everything", 2)
        meet_after(monkeypatch, WebhookRepository, "delivery", 2, deleted_all)
        worker = WebhookWorker(
            database,
            settings,
            http_client=httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(204))),
        )
        try:
            attempted, deleted = at_once(
                [
                    worker.run_once,
                    lambda: delete_firm(owner, firm["id"], firm["credit_code"]),
                ]
            )
            assert deleted.status_code == 200, deleted.text
            if db.get_bind().dialect.name == "postgresql":
                assert attempted == 1
                assert worker.run_once() == 0
            else:
                # The claim is a write, and the deletion holds SQLite's write lock while it
                # waits for it: the meeting times out and either may go first. Either order
                # must end the same: passes that fail on nothing, nothing about the firm left.
                left = [worker.run_once() for _ in range(3)]
                assert left[-1] == 0, left
        finally:
            worker.close()
        assert [d.enterprise_id for d in deliveries(db)] == []

    def test_delivery_log_shows_no_payload_about_a_firm_that_revoked(
        self,
        client: TestClient,
        db: Session,
        integrator: Integrator,
        receiver: Receiver,
        worker: WebhookWorker,
    ) -> None:
        """§4: every path about a revoked firm answers 404. The delivery log kept serving the
        events about it in full (its scores), delivered ones and cancelled ones alike."""
        endpoint = register_endpoint(client, integrator, receiver.url)
        approve(client, db, endpoint["id"])
        revoking, staying = (register_firm(client, integrator.headers) for _ in range(2))
        for firm in (revoking, staying):
            submitted(client, integrator.headers, firm["id"])
        worker.run_once()  # delivered
        submitted(client, integrator.headers, revoking["id"])  # pending: cancelled below
        user = firm_user(client, db, revoking["id"])
        revoke(user, revoking["id"], integrator)

        def payloads(firm: dict[str, Any]) -> dict[str, list[Any]]:
            rows = {d.id: d for d in deliveries(db) if str(d.enterprise_id) == firm["id"]}
            by_status: dict[str, list[Any]] = {}
            for item in delivery_log(client, integrator, endpoint["id"]):
                if item["id"] in rows:
                    by_status.setdefault(item["status"], []).append(item["payload"])
            return by_status

        hidden = payloads(revoking)
        assert sorted(hidden) == ["cancelled", "delivered", "pending"]  # pending: grant.revoked
        assert all(p is None for ps in hidden.values() for p in ps)
        shown = payloads(staying)
        assert shown["delivered"] and all(p is not None for p in shown["delivered"])
        assert {p["data"]["enterprise_id"] for p in shown["delivered"]} == {staying["id"]}

        # granted again: readable again, as the firm's results are
        regrant = user.post(
            f"/api/v1/enterprises/{revoking['id']}/grants",
            json={"client_id": str(integrator.client_id)},
        )
        assert regrant.status_code == 201, regrant.text
        assert all(p is not None for ps in payloads(revoking).values() for p in ps)


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
