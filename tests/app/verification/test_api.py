"""Verifying firms: who may, what is recorded, and that the heatmap sums follow."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.enterprises.repository import EnterpriseRepository
from app.heatmaps.verify import verify
from app.kit.settings import Settings
from app.models import AuditEvent, Enterprise
from tests.app.heatmaps.helpers import submit
from tests.factories import create_api_key, create_enterprise, create_user, login
from tests.races import at_once, meet_after


def put(client: TestClient, firm: Enterprise, verified: bool = True):  # type: ignore[no-untyped-def]
    return client.put(f"/api/v1/verification/enterprises/{firm.id}", json={"verified": verified})


@pytest.mark.parametrize("sent", [1, 1.0, "true", "yes"])
def test_only_json_true_confirms_a_firm(client: TestClient, db: Session, sent: object) -> None:
    """{"verified": 1.0000000000000000001} (1.0 to a JSON parser) confirmed a firm: a number
    or a word where a yes/no is due is refused, and nothing is recorded."""
    firm = create_enterprise(db, district_code="310117")
    login(client, create_user(db, role="admin"))
    response = client.put(f"/api/v1/verification/enterprises/{firm.id}", json={"verified": sent})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body.verified"]
    db.expire_all()
    assert db.get(Enterprise, firm.id).verified_at is None  # type: ignore[union-attr]


def test_admin_verifies_and_it_is_recorded(client: TestClient, db: Session) -> None:
    firm = create_enterprise(db, district_code="310117")
    submit(db, firm, datetime.now(UTC))
    admin = create_user(db, role="admin")
    login(client, admin)
    response = put(client, firm)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is True and body["verified_method"] == "admin"
    db.expire_all()
    stored = db.get(Enterprise, firm.id)
    assert stored is not None and stored.verified_by_user_id == admin.id and stored.verified_at
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "enterprise.verify")).one()
    assert event.actor_id == str(admin.id) and event.enterprise_id == firm.id
    report = verify(db)
    assert report.differences == [] and report.cells == 2  # now counted (quarter + current)
    stored.verification_changed_at = datetime.now(UTC) - timedelta(hours=25)  # past the limit
    db.commit()  # end the read transaction: see the next request's commit
    assert put(client, firm, False).json()["verified"] is False
    assert verify(db).cells == 0


def test_two_confirmations_at_once_count_the_firm_once(
    app: FastAPI, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An admin and the district official (on two app instances, say) confirm one firm at once:
    both read it unconfirmed and both added its history to the heatmap sums, so the firm
    counted twice (a cell of 4 firms could be published as one of 5). One change of a firm's
    confirmation at a time: the second finds it confirmed."""
    firm = create_enterprise(db, district_code="310117")
    submit(db, firm, datetime.now(UTC))
    deciders = [
        create_user(db, role="admin"),
        create_user(db, role="official", district_code="310117"),
    ]
    browsers = [TestClient(app, base_url="http://testserver") for _ in deciders]
    for browser, user in zip(browsers, deciders, strict=True):
        login(browser, user)
    meet_after(monkeypatch, EnterpriseRepository, "get", 2)
    try:
        responses = at_once([lambda b=browser: put(b, firm) for browser in browsers])
    finally:
        for browser in browsers:
            browser.close()
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    db.rollback()
    report = verify(db)
    assert report.differences == [], report.differences
    confirmations = select(AuditEvent).where(AuditEvent.action == "enterprise.verify")
    assert len(db.scalars(confirmations).all()) == 1


def test_district_official_verifies_firms_of_their_district_only(
    client: TestClient, db: Session
) -> None:
    own = create_enterprise(db, district_code="310117")
    other = create_enterprise(db, district_code="310115")
    login(client, create_user(db, role="official", district_code="310117"))
    response = put(client, own)
    assert response.status_code == 200 and response.json()["verified_method"] == "official"
    assert put(client, other).status_code == 404
    listing = client.get("/api/v1/verification/enterprises").json()
    assert [item["id"] for item in listing["items"]] == [str(own.id)]
    assert (
        client.get(
            "/api/v1/verification/enterprises", params={"district_code": "310115"}
        ).status_code
        == 404
    )


@pytest.mark.parametrize("role", ["enterprise", "city-official"])
def test_others_get_404(client: TestClient, db: Session, role: str) -> None:
    firm = create_enterprise(db)
    if role == "enterprise":
        login(client, create_user(db, enterprise=firm))
    else:
        login(client, create_user(db, role="official"))
    assert put(client, firm).status_code == 404
    assert client.get("/api/v1/verification/enterprises").status_code == 404


def test_integrator_gets_404_and_anonymous_401(
    client: TestClient, db: Session, settings: Settings
) -> None:
    firm = create_enterprise(db)
    assert put(client, firm).status_code == 401
    key, _ = create_api_key(db, settings)
    response = client.put(
        f"/api/v1/verification/enterprises/{firm.id}",
        json={"verified": True},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 404


def test_verification_page_form(client: TestClient, db: Session) -> None:
    firm = create_enterprise(db, district_code="310117", name="上海核验测试有限公司")
    csrf = login(client, create_user(db, role="official", district_code="310117"))
    page = client.get("/verification")
    assert page.status_code == 200 and "上海核验测试有限公司" in page.text
    posted = client.post(
        f"/verification/{firm.id}",
        data={"verified": "1", "csrf_token": csrf, "status": "pending"},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    db.expire_all()
    assert db.get(Enterprise, firm.id).verified is True  # type: ignore[union-attr]


def test_cli_verify_enterprise(
    db: Session, settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZHIZAO_DATABASE_URL", settings.DATABASE_URL)
    monkeypatch.setenv("ZHIZAO_ENV", settings.ENV.value)
    monkeypatch.setenv("ZHIZAO_SECRET_KEY", settings.SECRET_KEY.get_secret_value())
    firm = create_enterprise(db)
    result = CliRunner().invoke(cli, ["verify-enterprise", firm.credit_code])
    assert result.exit_code == 0, result.output
    assert "Verified" in result.output
    again = CliRunner().invoke(cli, ["verify-enterprise", str(firm.id), "--revoke"])
    assert again.exit_code == 0 and "Withdrew" in again.output
    db.expire_all()
    assert db.get(Enterprise, firm.id).verified is False  # type: ignore[union-attr]
    events = db.scalars(select(AuditEvent.action).where(AuditEvent.actor_type == "cli")).all()
    assert "enterprise.verify" in events and "enterprise.unverify" in events
    assert os.environ["ZHIZAO_DATABASE_URL"] == settings.DATABASE_URL
