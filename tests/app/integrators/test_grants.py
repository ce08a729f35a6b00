"""Integrators see the grants they get: GET /grants, a grant.created event and notice, and a new
grant's firm in the feed at once (it had submitted before; no resubmission needed)."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.enterprises.repository import EnterpriseRepository
from app.integrators.repository import GrantRepository
from app.integrators.worker import WebhookWorker
from app.kit.db import Database
from app.kit.settings import Settings
from app.models import Enterprise
from tests.app.integrators.helpers import (
    Integrator,
    Receiver,
    prepare_assessment,
    register_firm,
    submit,
    submitted,
)
from tests.factories import create_enterprise, create_user, delete_firm, login
from tests.races import at_once, meet_after


def _owner(app: object, db: Session, enterprise: Enterprise) -> TestClient:
    owner = TestClient(app, base_url="http://testserver")  # type: ignore[arg-type]
    login(owner, create_user(db, enterprise=enterprise))
    return owner


def _firm_with_a_result(client: TestClient, db: Session) -> tuple[Enterprise, TestClient]:
    enterprise = create_enterprise(db)
    owner = _owner(client.app, db, enterprise)
    result = submitted(owner, {}, str(enterprise.id))
    assert result["rung"] >= 2.75
    return enterprise, owner


def _grant(owner: TestClient, enterprise: Enterprise, integrator: Integrator) -> None:
    response = owner.post(
        f"/api/v1/enterprises/{enterprise.id}/grants",
        json={"client_id": str(integrator.client_id)},
    )
    assert response.status_code == 201, response.text


def test_the_integrator_lists_the_firms_that_granted_it_access(
    client: TestClient, db: Session, integrator: Integrator, other_integrator: Integrator
) -> None:
    registered = register_firm(client, integrator.headers)
    granting, owner = _firm_with_a_result(client, db)
    create_enterprise(db)  # a firm that never granted anything
    _grant(owner, granting, integrator)
    listed = client.get("/api/v1/grants", headers=integrator.headers)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [(i["enterprise_id"], i["method"]) for i in items] == [
        (registered["id"], "registration"),
        (str(granting.id), "api"),
    ]
    assert items[1]["credit_code"] == granting.credit_code and items[1]["granted_at"]
    assert "assessments:read" in items[1]["scopes"]
    assert client.get("/api/v1/grants", headers=other_integrator.headers).json()["items"] == []
    owner.delete(f"/api/v1/enterprises/{granting.id}/grants/{integrator.client_id}")
    after = client.get("/api/v1/grants", headers=integrator.headers).json()["items"]
    assert [i["enterprise_id"] for i in after] == [registered["id"]]


def test_a_new_grant_puts_the_firms_latest_result_into_that_integrators_feed(
    client: TestClient, db: Session, integrator: Integrator, other_integrator: Integrator
) -> None:
    """It did not: a firm that granted access after submitting stayed out of the feed until it
    submitted again, since its entry was older than the integrator's cursor."""
    shared, shared_owner = _firm_with_a_result(client, db)
    _grant(shared_owner, shared, integrator)
    _grant(shared_owner, shared, other_integrator)
    # A firm submits, then a firm both integrators follow submits again: reading their feeds
    # up to date moves their cursors past the first firm's entry, which they could not see.
    late, owner = _firm_with_a_result(client, db)
    result = owner.get(f"/api/v1/enterprises/{late.id}/assessments").json()["items"][0]
    submitted(shared_owner, {}, str(shared.id))
    cursors = {}
    for who in (integrator, other_integrator):
        page = client.get("/api/v1/scores", headers=who.headers).json()
        cursors[who.client_id] = page["next_cursor"]

    _grant(owner, late, integrator)

    fresh = client.get(
        f"/api/v1/scores?cursor={cursors[integrator.client_id]}", headers=integrator.headers
    ).json()
    assert [(i["enterprise_id"], i["assessment_id"]) for i in fresh["items"]] == [
        (str(late.id), result["id"])
    ]
    # Only for the integrator that got the grant.
    others = client.get(
        f"/api/v1/scores?cursor={cursors[other_integrator.client_id]}",
        headers=other_integrator.headers,
    ).json()
    assert others["items"] == []


def test_grant_created_reaches_webhooks_and_notices(
    client: TestClient,
    db: Session,
    settings: Settings,
    integrator: Integrator,
    receiver: Receiver,
) -> None:
    endpoint = client.post(
        "/api/v1/webhooks",
        json={"url": receiver.url, "events": ["grant.created"]},
        headers=integrator.headers,
    ).json()
    admin = TestClient(client.app, base_url="http://testserver")  # type: ignore[arg-type]
    login(admin, create_user(db, role="admin"))
    assert admin.post(f"/api/v1/admin/webhooks/{endpoint['id']}/approve").status_code == 200
    enterprise, owner = _firm_with_a_result(client, db)
    _grant(owner, enterprise, integrator)
    database = Database(settings)
    worker = WebhookWorker(database, settings)
    try:
        assert worker.run_once() == 1
    finally:
        worker.close()
        database.dispose()
    [received] = receiver.received
    event = json.loads(received.body)
    assert event["type"] == "grant.created"
    assert event["data"]["enterprise_id"] == str(enterprise.id)
    assert event["data"]["credit_code"] == enterprise.credit_code
    assert event["data"]["latest_assessment_id"]
    notices = client.get("/api/v1/notices?lang=en", headers=integrator.headers).json()["items"]
    assert notices[0]["kind"] == "grant_created"
    assert enterprise.credit_code in notices[0]["message"]


@pytest.fixture
def cli_env(settings: Settings, engine: object, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ZHIZAO_DATABASE_URL", settings.DATABASE_URL)
    monkeypatch.setenv("ZHIZAO_ENV", settings.ENV.value)
    monkeypatch.setenv("ZHIZAO_SECRET_KEY", settings.SECRET_KEY.get_secret_value())
    monkeypatch.setenv("ZHIZAO_WEBHOOK_ALLOW_HTTP", "true")
    monkeypatch.setenv("ZHIZAO_WEBHOOK_ALLOW_LOOPBACK", "true")
    return settings


def test_webhooks_cli_lists_approves_and_disables(
    cli_env: Settings, client: TestClient, integrator: Integrator, receiver: Receiver
) -> None:
    endpoint = client.post(
        "/api/v1/webhooks", json={"url": receiver.url}, headers=integrator.headers
    ).json()
    runner = CliRunner()
    listed = runner.invoke(cli, ["webhooks", "list", "--status", "pending"])
    assert listed.exit_code == 0, listed.output
    assert endpoint["id"] in listed.output and receiver.url in listed.output
    approved = runner.invoke(cli, ["webhooks", "approve", endpoint["id"]])
    assert approved.exit_code == 0, approved.output
    shown = client.get(f"/api/v1/webhooks/{endpoint['id']}", headers=integrator.headers).json()
    assert shown["status"] == "active"
    disabled = runner.invoke(cli, ["webhooks", "disable", endpoint["id"]])
    assert disabled.exit_code == 0, disabled.output
    shown = client.get(f"/api/v1/webhooks/{endpoint['id']}", headers=integrator.headers).json()
    assert shown["status"] == "disabled"
    unknown = runner.invoke(cli, ["webhooks", "approve", str(uuid.uuid4())])
    assert unknown.exit_code == 2


def test_deleting_the_firm_deletes_the_integrators_notices_about_it(
    client: TestClient, db: Session, integrator: Integrator
) -> None:
    """The notices naming the firm (its name, its credit code) go with it; what is left is the
    deletion's own ``grant_revoked``, which names the firm by its id alone."""
    enterprise, owner = _firm_with_a_result(client, db)
    enterprise_id, code, name = enterprise.id, enterprise.credit_code, enterprise.name
    _grant(owner, enterprise, integrator)
    assert client.get("/api/v1/notices", headers=integrator.headers).json()["items"]
    response = delete_firm(owner, enterprise.id, enterprise.credit_code)
    assert response.status_code == 200, response.text
    notices = client.get("/api/v1/notices", headers=integrator.headers).json()["items"]
    assert [(n["kind"], n["detail"]) for n in notices] == [
        ("grant_revoked", {"enterprise_id": str(enterprise_id)})
    ]
    assert code not in notices[0]["message"] and name not in notices[0]["message"]
    db.rollback()
    db.expire_all()
    assert EnterpriseRepository(db).get(enterprise_id) is None


@pytest.mark.parametrize("at", ["2026-01-01T00:00:00", "9999-12-31T23:59:59-14:00"])
def test_a_cursor_time_this_api_never_writes_is_a_422(
    client: TestClient, integrator: Integrator, at: str
) -> None:
    """A time without its offset, or past what UTC holds: each list answered 500 (found by
    fuzzing); the codec refuses them (tests/app/kit/test_cursor.py)."""
    raw = json.dumps([at, str(uuid.uuid4())]).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    for path in ("/api/v1/notices", "/api/v1/grants"):
        response = client.get(path, params={"cursor": cursor}, headers=integrator.headers)
        assert response.status_code == 422, (path, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["query.cursor"]


def test_a_grant_and_a_submission_at_once_both_reach_the_feed(
    client: TestClient, db: Session, integrator: Integrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The submission reads the firm's grants, the grant the firm's latest result; side by
    side on PostgreSQL each read before the other committed, and the new result never reached
    the new grantee's feed (nor its webhooks). Both reads now follow a lock on the firm."""
    enterprise, owner = _firm_with_a_result(client, db)
    second = _owner(client.app, db, enterprise)
    assessment_id, etag = prepare_assessment(owner, {}, str(enterprise.id))
    meet_after(monkeypatch, GrantRepository, "active_client_ids", 2)
    meet_after(monkeypatch, GrantRepository, "latest_result", 2)
    result, _ = at_once(
        [
            lambda: submit(owner, {}, assessment_id, etag),
            lambda: _grant(second, enterprise, integrator),
        ]
    )
    feed = client.get("/api/v1/scores", headers=integrator.headers).json()["items"]
    assert result["assessment_id"] in [item["assessment_id"] for item in feed], feed
