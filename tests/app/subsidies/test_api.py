from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.enterprises.service import scoring_profile
from app.models import Enterprise
from scoring import Questionnaire
from tests.answers import complete_answers
from tests.factories import create_enterprise, create_user, login

Start = Callable[..., dict[str, Any]]


class TestCatalogue:
    def test_every_programme_shows_source_and_confidence(self, client: TestClient) -> None:
        programmes = client.get("/api/v1/subsidies").json()
        assert len(programmes) >= 14
        for programme in programmes:
            assert programme["source"]["issued_by"] or programme["source"]["document"]
            assert programme["confidence"] in ("verified", "secondary", "unverified")
            assert programme["confidence_note"]
        assert {p["window"] for p in programmes} <= {"open", "upcoming", "closed"}

    def test_district_filter_keeps_only_that_district_and_wider(self, client: TestClient) -> None:
        programmes = client.get("/api/v1/subsidies", params={"district_code": "310116"}).json()
        districts = {p["region"] for p in programmes if p["level"] == "district"}
        assert districts == {"310116"}
        assert any(p["level"] == "municipal" for p in programmes)

    def test_english(self, client: TestClient) -> None:
        zh = client.get("/api/v1/subsidies/sh-techtrans-2026").json()
        en = client.get("/api/v1/subsidies/sh-techtrans-2026", params={"lang": "en"}).json()
        assert zh["name"] != en["name"] and en["name"].isascii()
        assert en["benefit"]["rate"] == zh["benefit"]["rate"]

    def test_unknown_is_404(self, client: TestClient) -> None:
        assert client.get("/api/v1/subsidies/nope").status_code == 404

    def test_bad_filter_is_422(self, client: TestClient) -> None:
        response = client.get("/api/v1/subsidies", params={"level": "galactic"})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "query.level"


class TestFacts:
    def test_declares_and_removes_facts(
        self, signed_in: TestClient, enterprise: Enterprise
    ) -> None:
        url = f"/api/v1/enterprises/{enterprise.id}/facts"
        body = signed_in.put(
            url, json={"facts": {"project_investment_cny": 30_000_000.5, "project_ready": True}}
        ).json()
        assert body["facts"] == {"project_investment_cny": 30_000_000.5, "project_ready": True}
        body = signed_in.put(url, json={"facts": {"project_ready": None}}).json()
        assert body["facts"] == {"project_investment_cny": 30_000_000.5}

    def test_bad_facts_are_named_and_none_saved(
        self, signed_in: TestClient, enterprise: Enterprise
    ) -> None:
        url = f"/api/v1/enterprises/{enterprise.id}/facts"
        response = signed_in.put(
            url,
            json={
                "facts": {
                    "project_investment_cny": -1,
                    "no_such_fact": 1,
                    "project_ready": "yes",
                }
            },
        )
        assert response.status_code == 422
        assert {e["field"] for e in response.json()["errors"]} == {
            "body.facts.project_investment_cny",
            "body.facts.no_such_fact",
            "body.facts.project_ready",
        }
        assert signed_in.get(f"/api/v1/enterprises/{enterprise.id}").json()["facts"] == {}

    def test_other_enterprise_is_404(self, client: TestClient, db: Session) -> None:
        mine, theirs = create_enterprise(db), create_enterprise(db)
        login(client, create_user(db, enterprise=mine))
        response = client.put(
            f"/api/v1/enterprises/{theirs.id}/facts", json={"facts": {"project_ready": True}}
        )
        assert response.status_code == 404

    def test_fact_definitions_are_listed(self, client: TestClient) -> None:
        facts = client.get("/api/v1/facts", params={"lang": "en"}).json()
        names = {f["name"] for f in facts}
        assert {"project_investment_cny", "zjtx_status"} <= names


class TestMatches:
    def test_submit_keeps_matches_and_today_is_side_by_side(
        self,
        signed_in: TestClient,
        start: Start,
        enterprise: Enterprise,
        full_questionnaire: Questionnaire,
    ) -> None:
        signed_in.put(
            f"/api/v1/enterprises/{enterprise.id}/facts",
            json={
                "facts": {
                    "project_investment_cny": 30_000_000,
                    "fixed_asset_share_pct": 70,
                    "project_ready": True,
                    "project_started": True,
                }
            },
        )
        assessment = start()
        draft = signed_in.get(f"/api/v1/assessments/{assessment['id']}/subsidies").json()
        assert draft["status"] == "draft" and draft["as_submitted"] is None
        answers = complete_answers(full_questionnaire, scoring_profile(enterprise), 0.9)
        filled = signed_in.put(
            f"/api/v1/assessments/{assessment['id']}/answers",
            json={"answers": answers},
            headers={"If-Match": assessment["etag"]},
        ).json()
        result = signed_in.post(
            f"/api/v1/assessments/{filled['id']}/submit", headers={"If-Match": filled["etag"]}
        ).json()
        statuses = {m["id"]: m["status"] for m in result["subsidies"]}
        assert len(statuses) >= 14
        assert set(statuses.values()) <= {"eligible", "near", "ineligible", "upcoming", "closed"}
        assert "eligible" in statuses.values()
        both = signed_in.get(f"/api/v1/assessments/{filled['id']}/subsidies").json()
        assert both["as_submitted"]["matches"] == result["subsidies"]
        assert [m["id"] for m in both["today"]["matches"]] == [m["id"] for m in result["subsidies"]]
        # Facts declared after submission change today's view, never the kept one.
        signed_in.put(
            f"/api/v1/enterprises/{enterprise.id}/facts",
            json={"facts": {"project_investment_cny": None}},
        )
        later = signed_in.get(f"/api/v1/assessments/{filled['id']}/subsidies").json()
        assert later["as_submitted"] == both["as_submitted"]
        techtrans = {m["id"]: m for m in later["today"]["matches"]}["sh-techtrans-2026"]
        kept = {m["id"]: m for m in result["subsidies"]}["sh-techtrans-2026"]
        assert kept["estimate"]["amount_cny"] == "3000000.00"  # 10% of 30 M, under the cap
        assert techtrans["estimate"]["amount_cny"] is None
