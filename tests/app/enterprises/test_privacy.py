"""Privacy rights over the API (PIPL): deletion from every table, aggregate and cache,
contact persons with a retention period, and their purge."""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.heatmaps.verify import verify
from app.kit import events
from app.kit.settings import Settings
from app.models import (
    AuditEvent,
    Base,
    Contact,
    Enterprise,
    HeatmapCell,
    IntegratorNotice,
    MailMessage,
    ReportJob,
    ReportPdf,
)
from tests.answers import questionnaire as served_questionnaire
from tests.answers import submit_assessment
from tests.app.heatmaps.helpers import submit as store_submission
from tests.app.heatmaps.helpers import verified_firm
from tests.factories import create_api_key, create_enterprise, create_user, delete_firm, login
from tests.pages import HTML, hidden, soup
from tests.races import MEET_TIMEOUT_SECONDS, at_once

CONTACTS = {
    "contacts": [
        {
            "name": "王经理",
            "phone": "+86 21 5555 0100",
            "email": "wang@example.com",
            "role": "生产经理",
        },
        {"name": "Li Hua", "email": "li@example.com"},
    ]
}


def references(db: Session, enterprise_id: uuid.UUID, credit_code: str) -> dict[str, int]:
    """Rows of every table that name the firm: its id or its credit code anywhere in the row
    (every column, JSON included)."""
    found: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        for row in db.execute(select(table)).mappings():
            text = json.dumps({k: str(v) for k, v in row.items()}, ensure_ascii=False)
            if str(enterprise_id) in text or credit_code in text:
                found[table.name] = found.get(table.name, 0) + 1
    return found


class TestDeletion:
    def test_wrong_confirmation_deletes_nothing(self, client: TestClient, db: Session) -> None:
        enterprise = create_enterprise(db)
        login(client, create_user(db, enterprise=enterprise))
        response = delete_firm(client, enterprise.id, "91310115MA0000000X")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body.confirm_credit_code"
        assert db.get(Enterprise, enterprise.id) is not None

    def test_other_firm_official_and_integrator_get_404(
        self, client: TestClient, db: Session, settings: Settings
    ) -> None:
        enterprise = create_enterprise(db)
        assert delete_firm(client, enterprise.id, enterprise.credit_code).status_code == 401
        key, _ = create_api_key(db, settings)
        response = delete_firm(
            client,
            enterprise.id,
            enterprise.credit_code,
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 404
        for other in (
            create_user(db, enterprise=create_enterprise(db)),
            create_user(db, role="official"),
        ):
            login(client, other)
            assert delete_firm(client, enterprise.id, enterprise.credit_code).status_code == 404
        db.rollback()
        assert db.get(Enterprise, enterprise.id) is not None

    def test_nothing_references_the_firm_afterwards_but_one_tombstone(
        self, client: TestClient, db: Session, settings: Settings
    ) -> None:
        questionnaire = served_questionnaire("smart-manufacturing-maturity")
        enterprise = verified_firm(db)
        other = verified_firm(db)
        firm_id, code, name = enterprise.id, enterprise.credit_code, enterprise.name
        other_id = other.id
        store_submission(db, other, datetime(2026, 10, 1, tzinfo=UTC))
        firms_of_other = db.scalar(select(func.sum(HeatmapCell.firms)))
        user = create_user(db, enterprise=enterprise)
        user_id = user.id
        login(client, user)
        # Data in (nearly) every table: a submitted assessment with its result, feed entry and
        # heatmap contribution; a draft; contacts; a grant; an idempotent retry; a PDF.
        submitted = submit_assessment(client, enterprise, questionnaire)
        assessment_id = submitted["assessment_id"]
        draft = client.post(
            f"/api/v1/enterprises/{enterprise.id}/assessments",
            json={"questionnaire_id": "quick-check"},
        )
        assert draft.status_code == 201
        assert (
            client.put(f"/api/v1/enterprises/{enterprise.id}/contacts", json=CONTACTS).status_code
            == 200
        )
        _, api_client = create_api_key(db, settings)
        assert client.post(
            f"/api/v1/enterprises/{enterprise.id}/grants",
            json={"client_id": str(api_client.id)},  # type: ignore[attr-defined]
        ).status_code in (200, 201)
        pdf = client.get(f"/api/v1/assessments/{assessment_id}/report.pdf")
        assert pdf.status_code == 200
        stored = select(func.count()).where(ReportPdf.assessment_id == uuid.UUID(assessment_id))
        assert db.scalar(stored) == 1
        assert db.scalar(select(func.sum(HeatmapCell.firms))) > firms_of_other
        assert references(db, firm_id, code)  # the scan does find the firm's rows

        response = delete_firm(client, enterprise.id, enterprise.credit_code)

        assert response.status_code == 200, response.text
        assert response.json()["rows_deleted"]["contact"] == 2
        db.rollback()
        found = references(db, firm_id, code)
        # Only the audit trail and the integrator's notice that the firm's consent ended still
        # name the firm (by id, never by credit code or name) ...
        assert set(found) == {"audit_event", "integrator_notice"}, found
        events = list(db.scalars(select(AuditEvent).where(AuditEvent.enterprise_id == firm_id)))
        texts = [json.dumps(e.detail, ensure_ascii=False) for e in events]
        to_integrator = IntegratorNotice.client_id == api_client.id  # type: ignore[attr-defined]
        notices = list(db.scalars(select(IntegratorNotice).where(to_integrator)))
        texts += [json.dumps([n.message, n.detail], ensure_ascii=False) for n in notices]
        assert not any(code in t or name in t for t in texts)
        assert [(n.kind, n.enterprise_id) for n in notices] == [("grant_revoked", None)]
        # ... with exactly one tombstone of the deletion.
        tombstones = [e for e in events if e.action == "enterprise.delete"]
        assert len(tombstones) == 1
        assert tombstones[0].actor_id == str(user_id)
        assert tombstones[0].detail["rows_deleted"]["assessment"] == 2
        # The aggregates no longer count it, and agree with a recomputation from raw rows.
        assert db.scalar(select(func.sum(HeatmapCell.firms))) == firms_of_other
        report = verify(db)
        assert report.difference_count == 0, report.differences
        assert report.firms == 1
        # No stored PDF or render job of its assessments is left (the scan above names their
        # tables too: they carry enterprise_id).
        for table in (ReportPdf, ReportJob):
            rows = select(func.count()).where(table.assessment_id == uuid.UUID(assessment_id))
            assert db.scalar(rows) == 0, table
        # The user's session went with the user.
        assert client.get("/api/v1/me").status_code == 401
        # The other firm is untouched.
        assert db.get(Enterprise, other_id) is not None

    def test_a_member_gets_404_and_the_owner_may_delete(
        self, client: TestClient, db: Session
    ) -> None:
        enterprise = create_enterprise(db)
        owner = create_user(db, enterprise=enterprise)
        login(client, create_user(db, enterprise=enterprise, firm_role="member"))
        assert delete_firm(client, enterprise.id, enterprise.credit_code).status_code == 404
        assert delete_firm(client, enterprise.id, "91310115MA0000000X").status_code == 404
        db.rollback()
        assert db.get(Enterprise, enterprise.id) is not None
        login(client, owner)
        assert delete_firm(client, enterprise.id, enterprise.credit_code).status_code == 200

    def test_no_message_about_the_firm_outlives_it(
        self, client: TestClient, other: TestClient, db: Session
    ) -> None:
        """Someone with an account elsewhere asks to join the firm: the mail telling them so
        names the firm, and stayed in the outbox after the firm was deleted."""
        enterprise = create_enterprise(db)
        firm_id, name = enterprise.id, enterprise.name
        owner = create_user(db, enterprise=enterprise)
        create_user(db, enterprise=create_enterprise(db), email="taken@example.com")
        page = soup(other.get("/claim", headers=HTML))
        claim = {"credit_code": enterprise.credit_code, "email": "taken@example.com"}
        filed = other.post(
            "/claim",
            data={"csrf_token": hidden(page, "csrf_token"), "display_name": "刘", **claim},
            headers=HTML,
        )
        assert filed.status_code == 200, filed.text
        db.rollback()
        about = select(MailMessage).where(MailMessage.body.contains(name))
        assert [m.kind for m in db.scalars(about)] == ["claim_account_exists"]
        login(client, owner)
        assert delete_firm(client, enterprise.id, enterprise.credit_code).status_code == 200
        db.rollback()
        assert list(db.scalars(about)) == []
        assert (
            list(db.scalars(select(MailMessage).where(MailMessage.enterprise_id == firm_id))) == []
        )

    def test_a_confirmation_at_the_same_moment_leaves_nothing_in_the_heatmaps(
        self, app: FastAPI, db: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An admin confirms the firm while its owner deletes it (two app instances): the
        deletion read the firm unconfirmed, so it took nothing back from the heatmap sums, and
        the confirmation had just added the firm's history there: a deleted firm counted on.
        Both requests read before either wrote (they meet before publishing their events)."""
        firm = create_enterprise(db)
        store_submission(db, firm, datetime(2026, 10, 1, tzinfo=UTC))
        owner, admin = create_user(db, enterprise=firm), create_user(db, role="admin")
        meet = threading.Barrier(2)
        publish = events.publish

        def publish_after_meeting(session: Session, event: object) -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                meet.wait(MEET_TIMEOUT_SECONDS)  # the other is not coming: it waits for our lock
            publish(session, event)  # type: ignore[arg-type]

        monkeypatch.setattr(events, "publish", publish_after_meeting)
        browsers = [TestClient(app, base_url="http://testserver") for _ in range(2)]
        login(browsers[0], owner)
        login(browsers[1], admin)
        try:
            deleted, confirmed = at_once(
                [
                    lambda: delete_firm(browsers[0], firm.id, firm.credit_code),
                    lambda: browsers[1].put(
                        f"/api/v1/verification/enterprises/{firm.id}", json={"verified": True}
                    ),
                ]
            )
        finally:
            for browser in browsers:
                browser.close()
        assert deleted.status_code == 200, deleted.text
        assert confirmed.status_code in (200, 404), confirmed.text  # before or after the deletion
        db.rollback()
        assert db.scalar(select(func.count()).where(Enterprise.id == firm.id)) == 0
        report = verify(db)
        assert report.differences == [], report.differences
        assert db.scalar(select(func.coalesce(func.sum(HeatmapCell.firms), 0))) == 0

    def test_admin_may_delete(self, client: TestClient, db: Session) -> None:
        enterprise = create_enterprise(db)
        login(client, create_user(db, role="admin"))
        assert delete_firm(client, enterprise.id, enterprise.credit_code).status_code == 200
        assert delete_firm(client, enterprise.id, enterprise.credit_code).status_code == 404


class TestContacts:
    def test_set_and_read_with_retention(
        self, client: TestClient, db: Session, settings: Settings
    ) -> None:
        enterprise = create_enterprise(db)
        login(client, create_user(db, enterprise=enterprise))
        url = f"/api/v1/enterprises/{enterprise.id}/contacts"
        assert client.get(url).json() == []
        put = client.put(url, json=CONTACTS)
        assert put.status_code == 200, put.text
        got = client.get(url).json()
        assert [c["name"] for c in got] == ["王经理", "Li Hua"]
        retain = datetime.fromisoformat(got[0]["retain_until"])
        expected = datetime.now(UTC) + timedelta(days=settings.CONTACT_RETENTION_DAYS)
        assert abs(retain - expected) < timedelta(hours=1)
        # Replacing keeps only the new list; the audit trail counts, never names.
        assert client.put(url, json={"contacts": [{"name": "赵"}]}).status_code == 200
        assert [c["name"] for c in client.get(url).json()] == ["赵"]
        event = db.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "enterprise.contacts")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert event is not None and event.detail == {"contacts": 1}

    def test_unknown_fields_and_bad_values_are_422(self, client: TestClient, db: Session) -> None:
        enterprise = create_enterprise(db)
        login(client, create_user(db, enterprise=enterprise))
        url = f"/api/v1/enterprises/{enterprise.id}/contacts"
        assert client.put(url, json={"contacts": [{"name": ""}]}).status_code == 422
        assert client.put(url, json={"contacts": [{"name": "x", "ssn": "1"}]}).status_code == 422

    @pytest.mark.parametrize(
        "email", ["not an email", "wang@", "@example.com", "wang@example", "wang@ex ample.com"]
    )
    def test_a_contact_email_that_is_no_address_is_422(
        self, client: TestClient, db: Session, email: str
    ) -> None:
        enterprise = create_enterprise(db)
        login(client, create_user(db, enterprise=enterprise))
        url = f"/api/v1/enterprises/{enterprise.id}/contacts"
        body = {"contacts": [{"name": "王经理"}, {"name": "Li Hua", "email": email}]}
        response = client.put(url, json=body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == ["body.contacts.1.email"]
        assert client.get(url).json() == []

    def test_a_contact_email_is_optional_and_kept_as_an_address(
        self, client: TestClient, db: Session
    ) -> None:
        enterprise = create_enterprise(db)
        login(client, create_user(db, enterprise=enterprise))
        url = f"/api/v1/enterprises/{enterprise.id}/contacts"
        body = {"contacts": [{"name": "王经理", "email": " Wang@Example.com "}, {"name": "Li"}]}
        response = client.put(url, json=body)
        assert response.status_code == 200, response.text
        assert [c["email"] for c in client.get(url).json()] == ["wang@example.com", ""]

    def test_only_the_firm_and_admins(
        self, client: TestClient, db: Session, settings: Settings
    ) -> None:
        enterprise = create_enterprise(db)
        url = f"/api/v1/enterprises/{enterprise.id}/contacts"
        assert client.get(url).status_code == 401
        key, _ = create_api_key(db, settings)
        assert client.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 404
        login(client, create_user(db, enterprise=create_enterprise(db)))
        assert client.get(url).status_code == 404
        assert client.put(url, json=CONTACTS).status_code == 404
        login(client, create_user(db, role="admin"))
        assert client.put(url, json=CONTACTS).status_code == 200


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("ZHIZAO_DATABASE_URL", settings.DATABASE_URL)
    monkeypatch.setenv("ZHIZAO_ENV", settings.ENV.value)
    monkeypatch.setenv("ZHIZAO_SECRET_KEY", settings.SECRET_KEY.get_secret_value())


def test_purge_deletes_only_contacts_past_retention(
    cli_env: None, client: TestClient, db: Session
) -> None:
    enterprise = create_enterprise(db)
    login(client, create_user(db, enterprise=enterprise))
    assert (
        client.put(f"/api/v1/enterprises/{enterprise.id}/contacts", json=CONTACTS).status_code
        == 200
    )
    expired = db.scalars(select(Contact).where(Contact.name == "Li Hua")).one()
    db.execute(
        update(Contact)
        .where(Contact.id == expired.id)
        .values(retain_until=datetime.now(UTC) - timedelta(days=1))
    )
    db.commit()

    result = CliRunner().invoke(cli, ["privacy", "purge"])

    assert result.exit_code == 0, result.output
    assert "Deleted 1 contact" in result.output
    db.expire_all()
    assert [c.name for c in db.scalars(select(Contact))] == ["王经理"]
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "privacy.purge")) is not None
    again = CliRunner().invoke(cli, ["privacy", "purge"])
    assert "Deleted 0 contact" in again.output


def test_contact_ids_are_uuids(client: TestClient, db: Session) -> None:
    enterprise = create_enterprise(db)
    login(client, create_user(db, role="admin"))
    body = client.put(f"/api/v1/enterprises/{enterprise.id}/contacts", json=CONTACTS).json()
    assert all(uuid.UUID(c["id"]) for c in body)
