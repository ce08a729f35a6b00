from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.kit import clock
from app.kit.settings import Settings
from app.models import Enterprise
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
        response = client.post(
            "/api/v1/accounts/register", json=body, headers={"Accept-Language": "en"}
        )
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


def _register_with_consent_given_at(
    client: TestClient, db: Session, settings: Settings, given_at: object
) -> httpx.Response:
    """An integrator registers a firm with consent given at ``given_at``, at 12:00 on
    2026-12-01 in Shanghai."""
    key, _ = create_api_key(db, settings)
    consent = {"given_by": "张经理", "given_at": given_at, "method": "signed_form"}
    with clock.frozen(datetime(2026, 12, 1, 4, 0, tzinfo=UTC)):
        response: httpx.Response = client.post(
            "/api/v1/enterprises",
            json=enterprise_payload() | {"consent": consent},
            headers={"Authorization": f"Bearer {key}"},
        )
    return response


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

    @pytest.mark.parametrize(
        "given_at",
        [
            "2999-01-01T00:00:00Z",  # in the future
            "2026-12-01T12:06:00+08:00",  # six minutes ahead: past the clock skew allowed
            "0001-01-01T00:00:00Z",  # implausibly long ago (a year typed wrong)
            "1999-12-31T23:59:59+08:00",  # before 2000 in Shanghai
            "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
        ],
    )
    def test_consent_given_in_the_future_or_long_ago_is_422(
        self, client: TestClient, db: Session, settings: Settings, given_at: str
    ) -> None:
        key, _ = create_api_key(db, settings)
        consent = {"given_by": "张经理", "given_at": given_at, "method": "signed_form"}
        with clock.frozen(datetime(2026, 12, 1, 4, 0, tzinfo=UTC)):  # 12:00 in Shanghai
            response = client.post(
                "/api/v1/enterprises",
                json=enterprise_payload() | {"consent": consent},
                headers={"Authorization": f"Bearer {key}"},
            )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == ["body.consent.given_at"]
        assert db.scalar(select(func.count()).select_from(Enterprise)) == 0

    @pytest.mark.parametrize(
        "given_at",
        [
            "2026-12-01T12:04:00+08:00",  # four minutes ahead: within the clock skew
            "2026-12-01T04:00:00",  # no offset: UTC
            "2000-01-01T00:00:00+08:00",  # the first moment accepted
        ],
    )
    def test_consent_given_now_or_since_2000_is_accepted(
        self, client: TestClient, db: Session, settings: Settings, given_at: str
    ) -> None:
        response = _register_with_consent_given_at(client, db, settings, given_at)
        assert response.status_code == 201, response.text

    @pytest.mark.parametrize(
        "given_at",
        [
            "2026-11-20",  # a date alone
            1700000000,  # Unix seconds, as a JSON number
            "1700000000",  # ... and as a string
            "2026-11-20 09:00:00+08:00",  # a space for the T
            "2026-11-20T09:00+08:00",  # no seconds
            "2026-11-20T09:00:00+0800",  # an offset without its colon
            "2026-11-20T09:00:00Z\n",  # a trailing newline
        ],
    )
    def test_consent_time_that_is_not_rfc_3339_is_422(
        self, client: TestClient, db: Session, settings: Settings, given_at: object
    ) -> None:
        """The document declares given_at an RFC 3339 date-time (format zhizao-consent-time),
        but pydantic's datetime parsing took each of these and stored a made-up moment (the
        date at midnight UTC, 2023-11-14 for 1700000000): 201."""
        client.headers["Accept-Language"] = "en"  # the message's English is asserted
        response = _register_with_consent_given_at(client, db, settings, given_at)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == ["body.consent.given_at"]
        assert "RFC 3339" in response.json()["errors"][0]["message"]
        assert db.scalar(select(func.count()).select_from(Enterprise)) == 0

    @pytest.mark.parametrize(
        "given_at",
        [
            "2026-11-20T09:00:00+08:00",
            "2026-11-20T01:00:00Z",
            "2026-11-20t01:00:00z",  # RFC 3339 allows either case
            "2026-11-20T01:00:00.123456-05:00",
        ],
    )
    def test_consent_time_in_rfc_3339_is_accepted(
        self, client: TestClient, db: Session, settings: Settings, given_at: str
    ) -> None:
        response = _register_with_consent_given_at(client, db, settings, given_at)
        assert response.status_code == 201, response.text

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


class TestFacts:
    @pytest.mark.parametrize("amount", [1e-300, 0.001, 30_000_000.505, "12.345"])
    def test_a_money_fact_in_fractions_of_a_fen_is_422(
        self, client: TestClient, db: Session, amount: object
    ) -> None:
        """Money is yuan and fen (two decimals), as the revenue is: 1e-300 was accepted."""
        enterprise = create_enterprise(db)
        login(client, create_user(db, enterprise=enterprise))
        url = f"/api/v1/enterprises/{enterprise.id}/facts"
        response = client.put(url, json={"facts": {"project_investment_cny": amount}})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [
            "body.facts.project_investment_cny"
        ]
        assert client.get(f"/api/v1/enterprises/{enterprise.id}").json()["facts"] == {}

    def test_money_to_the_fen_and_fractional_percentages_are_accepted(
        self, client: TestClient, db: Session
    ) -> None:
        enterprise = create_enterprise(db)
        login(client, create_user(db, enterprise=enterprise))
        url = f"/api/v1/enterprises/{enterprise.id}/facts"
        facts = {"project_investment_cny": 30_000_000.55, "rd_spend_cny": 1.5}
        response = client.put(url, json={"facts": facts})
        assert response.status_code == 200, response.text
        assert response.json()["facts"] == facts

    def test_the_document_states_the_fen(self, client: TestClient) -> None:
        schema = client.get("/openapi.json").json()["components"]["schemas"]["FactsUpdate"]
        money = schema["properties"]["facts"]["properties"]["project_investment_cny"]
        assert {"type": "number", "minimum": 0.0, "maximum": 1e13, "multipleOf": 0.01} in money[
            "anyOf"
        ]
