"""Consent: enterprise users grant and revoke integrators; a revocation ends every access."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.enterprises.repository import EnterpriseRepository
from app.models import AuditEvent, Grant
from tests.app.integrators.helpers import (
    Integrator,
    prepare_assessment,
    register_firm,
    submitted,
)
from tests.factories import create_enterprise, create_user, login


def _firm_user(client: TestClient, db: Session, enterprise_id: str) -> TestClient:
    enterprise = EnterpriseRepository(db).get(uuid.UUID(enterprise_id))
    login(client, create_user(db, enterprise=enterprise))
    return client


class TestGrantAndRevoke:
    def test_enterprise_user_grants_lists_and_revokes(
        self, client: TestClient, db: Session, integrator: Integrator
    ) -> None:
        enterprise = create_enterprise(db)
        login(client, create_user(db, enterprise=enterprise))
        directory = client.get("/api/v1/integrators")
        assert directory.status_code == 200
        assert str(integrator.client_id) in {i["id"] for i in directory.json()}

        # before the grant the integrator sees nothing
        path = f"/api/v1/enterprises/{enterprise.id}"
        assert client.get(path, headers=integrator.headers).status_code == 404

        granted = client.post(f"{path}/grants", json={"client_id": str(integrator.client_id)})
        assert granted.status_code == 201, granted.text
        assert granted.json()["active"] is True and granted.json()["method"] == "api"
        assert client.get(path, headers=integrator.headers).status_code == 200

        listed = client.get(f"{path}/grants")
        assert [g["client"]["id"] for g in listed.json()] == [str(integrator.client_id)]

        revoked = client.delete(f"{path}/grants/{integrator.client_id}")
        assert revoked.status_code == 200
        assert revoked.json()["active"] is False and revoked.json()["revoked_at"]
        assert client.get(path, headers=integrator.headers).status_code == 404

        # granting again restores access, recorded as a new grant by this user
        again = client.post(f"{path}/grants", json={"client_id": str(integrator.client_id)})
        assert again.status_code == 201 and again.json()["active"] is True
        assert client.get(path, headers=integrator.headers).status_code == 200

        db.rollback()
        actions = db.scalars(
            select(AuditEvent.action).where(AuditEvent.enterprise_id == enterprise.id)
        ).all()
        assert actions.count("grant.create") == 2 and actions.count("grant.revoke") == 1

    def test_grants_of_another_firm_are_404(
        self, client: TestClient, db: Session, integrator: Integrator
    ) -> None:
        mine, theirs = create_enterprise(db), create_enterprise(db)
        login(client, create_user(db, enterprise=mine))
        assert client.get(f"/api/v1/enterprises/{theirs.id}/grants").status_code == 404
        response = client.post(
            f"/api/v1/enterprises/{theirs.id}/grants",
            json={"client_id": str(integrator.client_id)},
        )
        assert response.status_code == 404

    def test_integrators_cannot_manage_grants(
        self, client: TestClient, integrator: Integrator
    ) -> None:
        firm = register_firm(client, integrator.headers)
        path = f"/api/v1/enterprises/{firm['id']}/grants"
        assert client.get(path, headers=integrator.headers).status_code == 404
        assert (
            client.delete(f"{path}/{integrator.client_id}", headers=integrator.headers).status_code
            == 404
        )
        assert client.get("/api/v1/integrators", headers=integrator.headers).status_code == 404

    def test_unknown_integrator_is_a_field_error(self, client: TestClient, db: Session) -> None:
        enterprise = create_enterprise(db)
        login(client, create_user(db, enterprise=enterprise))
        response = client.post(
            f"/api/v1/enterprises/{enterprise.id}/grants",
            json={"client_id": "00000000-0000-4000-8000-000000000000"},
        )
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["field"] == "body.client_id"

    def test_registration_records_consent_evidence(
        self, client: TestClient, db: Session, integrator: Integrator
    ) -> None:
        firm = register_firm(client, integrator.headers)
        _firm_user(client, db, firm["id"])
        grants = client.get(f"/api/v1/enterprises/{firm['id']}/grants").json()
        assert grants[0]["method"] == "registration"
        assert grants[0]["evidence"]["given_by"] == "张经理 (总经理)"
        assert grants[0]["evidence"]["method"] == "signed_form"


class TestRevocationEndsEverything:
    def test_after_a_revoke_every_integrator_path_answers_404(
        self, client: TestClient, db: Session, integrator: Integrator
    ) -> None:
        headers = integrator.headers
        firm = register_firm(client, headers)
        done = submitted(client, headers, firm["id"])
        draft_id, draft_etag = prepare_assessment(client, headers, firm["id"])
        feed = client.get("/api/v1/scores", headers=headers).json()
        assert [i["assessment_id"] for i in feed["items"]] == [done["assessment_id"]]

        _firm_user(client, db, firm["id"])
        revoked = client.delete(f"/api/v1/enterprises/{firm['id']}/grants/{integrator.client_id}")
        assert revoked.status_code == 200
        client.cookies.clear()
        client.headers.pop("X-CSRF-Token", None)

        eid, aid = firm["id"], done["assessment_id"]
        paths = [
            ("GET", f"/api/v1/enterprises/{eid}", None, {}),
            ("GET", f"/api/v1/enterprises/{eid}/assessments", None, {}),
            (
                "POST",
                f"/api/v1/enterprises/{eid}/assessments",
                {"questionnaire_id": "quick-check"},
                {},
            ),
            ("GET", f"/api/v1/assessments/{aid}", None, {}),
            ("GET", f"/api/v1/assessments/{aid}/result", None, {}),
            ("GET", f"/api/v1/assessments/{aid}/report.pdf", None, {}),
            ("GET", f"/api/v1/assessments/{draft_id}", None, {}),
            (
                "PUT",
                f"/api/v1/assessments/{draft_id}/answers",
                {"answers": {"qc_mode": "process"}},
                {"If-Match": draft_etag},
            ),
            ("POST", f"/api/v1/assessments/{draft_id}/submit", None, {"If-Match": draft_etag}),
            ("GET", f"/api/v1/enterprises/{eid}/grants", None, {}),
        ]
        for method, path, body, extra in paths:
            response = client.request(method, path, json=body, headers=headers | extra)
            assert response.status_code == 404, (method, path, response.status_code)
            assert response.headers["content-type"].startswith("application/problem+json")
        # the feed no longer shows the firm, from the start or from a cursor
        assert client.get("/api/v1/scores", headers=headers).json()["items"] == []
        assert (
            client.get(
                "/api/v1/scores", params={"cursor": feed["next_cursor"]}, headers=headers
            ).json()["items"]
            == []
        )

    def test_grant_service_is_callable_for_the_web_page(
        self, db: Session, integrator: Integrator
    ) -> None:
        from app.integrators import service
        from app.kit.principal import Principal

        enterprise = create_enterprise(db)
        user = create_user(db, enterprise=enterprise)
        principal = Principal(
            kind="user", id=user.id, role="enterprise", enterprise_id=enterprise.id
        )
        view = service.grant_access(
            db, principal, enterprise.id, integrator.client_id, method="web"
        )
        db.commit()
        assert view.method == "web" and view.active
        service.revoke_access(db, principal, enterprise.id, integrator.client_id)
        db.commit()
        grant = db.scalar(select(Grant).where(Grant.enterprise_id == enterprise.id))
        assert grant is not None and grant.revoked_at is not None
