from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.kit.settings import Settings
from tests.factories import (
    create_api_key,
    create_enterprise,
    create_user,
    enterprise_payload,
    login,
)


class TestRegisterValidation:
    @pytest.mark.parametrize(
        ("field", "value", "fragment"),
        [
            ("credit_code", "91310115MA1FL3K294", "check character"),
            ("credit_code", "91310115MAOFL3K293", "not used in credit codes"),
            ("district_code", "310199", "district"),
            ("industry_code", "99", "division"),
            ("employees", -1, "greater than or equal"),
            ("employees", True, "not true/false"),
            ("annual_revenue_cny", -5, "greater than or equal"),
        ],
    )
    def test_bad_field_is_named(
        self, client: TestClient, field: str, value: object, fragment: str
    ) -> None:
        body = {
            "enterprise": enterprise_payload(**{field: value}),
            "user": {"email": "a@example.com", "password": "long enough password"},
        }
        response = client.post("/api/v1/accounts/register", json=body)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        errors = response.json()["errors"]
        assert [e["field"] for e in errors] == [f"body.enterprise.{field}"]
        assert fragment in errors[0]["message"]

    def test_malformed_json_is_400(self, client: TestClient) -> None:
        response = client.post(
            "/api/v1/accounts/register",
            content=b'{"enterprise": {',
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == "body"

    def test_every_bad_field_listed_at_once(self, client: TestClient) -> None:
        body = {
            "enterprise": enterprise_payload(district_code="310199", industry_code="99"),
            "user": {"email": "not-an-email", "password": "short"},
        }
        response = client.post("/api/v1/accounts/register", json=body)
        fields = {e["field"] for e in response.json()["errors"]}
        assert fields == {
            "body.enterprise.district_code",
            "body.enterprise.industry_code",
            "body.user.email",
            "body.user.password",
        }


class TestRegister:
    def test_registers_and_derives_size(self, client: TestClient) -> None:
        payload = enterprise_payload(
            credit_code=" 91310115ma1fl3k293 ", employees=400, annual_revenue_cny=15_000_000
        )
        response = client.post(
            "/api/v1/accounts/register",
            json={
                "enterprise": payload,
                "user": {"email": "Boss@Example.com", "password": "long enough password"},
            },
        )
        assert response.status_code == 202, response.text
        assert response.json()["email"] == "boss@example.com"
        login = client.post(
            "/api/v1/session",
            json={"email": "boss@example.com", "password": "long enough password"},
        )
        enterprise = client.get(f"/api/v1/enterprises/{login.json()['user']['enterprise_id']}")
        enterprise = enterprise.json()
        assert enterprise["credit_code"] == "91310115MA1FL3K293"
        assert enterprise["size_class"] == "small"  # 400 staff but revenue below 20 M
        assert enterprise["above_designated_size"] is False
        assert enterprise["verified"] is False

    def test_historic_region_in_credit_code_is_accepted(self, client: TestClient) -> None:
        from tests.factories import make_credit_code

        payload = enterprise_payload(credit_code=make_credit_code("310108"))  # 闸北区, merged 2015
        response = client.post(
            "/api/v1/accounts/register",
            json={
                "enterprise": payload,
                "user": {"email": "x@example.com", "password": "long enough password"},
            },
        )
        assert response.status_code == 202

    def test_duplicate_credit_code_is_409_and_keeps_the_first(
        self, client: TestClient, db: Session
    ) -> None:
        first = create_enterprise(db)
        response = client.post(
            "/api/v1/accounts/register",
            json={
                "enterprise": enterprise_payload(credit_code=first.credit_code, name="Other"),
                "user": {"email": "y@example.com", "password": "long enough password"},
            },
        )
        assert response.status_code == 409
        assert response.json()["errors"][0]["field"] == "body.enterprise.credit_code"


class TestGetEnterprise:
    def test_own_enterprise_visible(self, client: TestClient, db: Session) -> None:
        enterprise = create_enterprise(db)
        login(client, create_user(db, enterprise=enterprise))
        response = client.get(f"/api/v1/enterprises/{enterprise.id}")
        assert response.status_code == 200
        assert response.json()["name"] == enterprise.name

    def test_other_enterprise_is_404(self, client: TestClient, db: Session) -> None:
        mine, theirs = create_enterprise(db), create_enterprise(db)
        login(client, create_user(db, enterprise=mine))
        response = client.get(f"/api/v1/enterprises/{theirs.id}")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"

    def test_official_sees_no_single_firm(self, client: TestClient, db: Session) -> None:
        enterprise = create_enterprise(db)
        login(client, create_user(db, role="official", district_code="310115"))
        assert client.get(f"/api/v1/enterprises/{enterprise.id}").status_code == 404

    def test_anonymous_is_401(self, client: TestClient, db: Session) -> None:
        enterprise = create_enterprise(db)
        assert client.get(f"/api/v1/enterprises/{enterprise.id}").status_code == 401


class TestIntegratorRegistration:
    def test_integrator_registers_with_consent_and_sees_it(
        self, client: TestClient, db: Session, settings: Settings
    ) -> None:
        key, _ = create_api_key(db, settings)
        headers = {"Authorization": f"Bearer {key}"}
        body = enterprise_payload() | {
            "consent": {
                "given_by": "张经理",
                "given_at": "2026-11-20T09:00:00+08:00",
                "method": "signed_form",
            }
        }
        created = client.post("/api/v1/enterprises", json=body, headers=headers)
        assert created.status_code == 201, created.text
        # Attested, not verified: it counts in no heatmap until confirmed (issue #16).
        assert created.json()["verified"] is False
        assert created.json()["verified_method"] is None
        assert created.json()["attested_at"] is not None
        fetched = client.get(f"/api/v1/enterprises/{created.json()['id']}", headers=headers)
        assert fetched.status_code == 200

    def test_integrator_without_consent_is_422(
        self, client: TestClient, db: Session, settings: Settings
    ) -> None:
        key, _ = create_api_key(db, settings)
        response = client.post(
            "/api/v1/enterprises",
            json=enterprise_payload(),
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body.consent"

    def test_integrator_cannot_see_firm_without_grant(
        self, client: TestClient, db: Session, settings: Settings
    ) -> None:
        enterprise = create_enterprise(db)
        key, _ = create_api_key(db, settings)
        response = client.get(
            f"/api/v1/enterprises/{enterprise.id}", headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 404

    def test_bad_key_is_401(self, client: TestClient) -> None:
        response = client.get(
            "/api/v1/me", headers={"Authorization": "Bearer zk_test_0123456789abcdef_nope"}
        )
        assert response.status_code == 401

    def test_enterprise_user_cannot_use_integrator_registration(
        self, client: TestClient, db: Session
    ) -> None:
        login(client, create_user(db, enterprise=create_enterprise(db)))
        response = client.post("/api/v1/enterprises", json=enterprise_payload())
        assert response.status_code == 404
