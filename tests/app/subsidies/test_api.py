from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.enterprises.service import scoring_profile
from app.kit import clock
from app.models import Enterprise, Result
from app.results import service as results
from scoring import Questionnaire
from scoring.subsidies import OUTCOMES
from scoring.subsidy_advice import subsidy_advice
from tests.answers import FULL, complete_answers, pick
from tests.factories import create_enterprise, create_user, login

Start = Callable[..., dict[str, Any]]


class TestCatalogue:
    def test_every_programme_shows_source_and_confidence(self, client: TestClient) -> None:
        programmes = client.get("/api/v1/subsidies").json()
        assert len(programmes) >= 35
        for programme in programmes:
            assert programme["source"]["issued_by"] or programme["source"]["document"]
            assert programme["confidence"] in ("verified", "secondary", "unverified")
            assert programme["confidence_note"]
        assert {p["window"] for p in programmes} <= {"open", "upcoming", "closed", "unknown"}
        # unknown: validity unconfirmed, or an annual call whose window this year is not known
        unknown = {
            p["id"] for p in programmes if p["validity"]["status"] in ("unconfirmed", "annual")
        }
        assert unknown and unknown == {p["id"] for p in programmes if p["window"] == "unknown"}
        by_id = {p["id"]: p for p in programmes}
        assert by_id["cn-first-unit-insurance"]["validity"]["status"] == "annual"
        assert by_id["cn-first-unit-insurance"]["window"] == "unknown"
        assert by_id["sh-techtrans-2026"]["benefit"]["rate_up_to"] is True

    def test_every_programme_shows_its_validity(self, client: TestClient) -> None:
        """valid_from / valid_until / status / last_confirmed and the source URL (issue 15)."""
        programmes = {p["id"]: p for p in client.get("/api/v1/subsidies").json()}
        for programme in programmes.values():
            validity = programme["validity"]
            assert validity["status"] in ("dated", "ongoing", "annual", "unconfirmed")
            assert programme["last_confirmed"] == validity["last_confirmed"]
            assert programme["valid_until"] == validity["valid_until"]
            assert "url" in programme["source"] and programme["format"] == 2
        techtrans = programmes["sh-techtrans-2026"]["validity"]
        assert (techtrans["status"], techtrans["valid_from"], techtrans["valid_until"]) == (
            "dated", "2026-01-20", "2026-02-04",
        )  # fmt: skip
        assert programmes["jinshan-iiot-diagnosis-workshop"]["validity"]["status"] == "unconfirmed"
        assert any(p["source"]["url"] for p in programmes.values())

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

    @pytest.mark.parametrize(
        ("moment", "window"),
        [
            (datetime(2026, 2, 4, 15, 59, tzinfo=UTC), "open"),  # 23:59 on 4 February there
            (datetime(2026, 2, 4, 23, 30, tzinfo=UTC), "closed"),  # 07:30 on 5 February there
        ],
    )
    def test_a_window_is_read_on_shanghais_calendar(
        self, client: TestClient, moment: datetime, window: str
    ) -> None:
        """The technical-transformation call closed on 4 February (Shanghai); read against
        UTC's date it stayed open until 08:00 on the 5th."""
        with clock.frozen(moment):
            programme = client.get("/api/v1/subsidies/sh-techtrans-2026").json()
        assert programme["valid_until"] == "2026-02-04" and programme["window"] == window

    @pytest.mark.parametrize(
        ("moment", "stale"),
        [
            (datetime(2027, 1, 1, 15, 59, tzinfo=UTC), False),  # 23:59 on 1 January there
            (datetime(2027, 1, 1, 16, 0, tzinfo=UTC), True),  # 2 January in Shanghai
        ],
    )
    def test_an_entry_not_confirmed_for_a_year_says_so_beside_its_window(
        self, client: TestClient, moment: datetime, stale: bool
    ) -> None:
        """The VAT credit was last confirmed on 1 January 2026. A year on, matching asks the
        firm to confirm it is still in force, but the catalogue showed "open" and nothing else
        (its validity had no state, stale flag or text)."""
        with clock.frozen(moment):
            listed = client.get("/api/v1/subsidies", params={"lang": "en"}).json()
            one = client.get(
                "/api/v1/subsidies/cn-advanced-manufacturing-vat-credit", params={"lang": "en"}
            ).json()
        entry = next(p for p in listed if p["id"] == "cn-advanced-manufacturing-vat-credit")
        assert entry == one and entry["window"] == "open"
        validity = entry["validity"]
        assert (validity["state"], validity["stale"]) == ("in_force", stale)
        assert ("over 12 months ago" in validity["text"]) is stale, validity["text"]
        assert "last confirmed 2026-01-01" in validity["text"]
        closed = next(p for p in listed if p["id"] == "sh-techtrans-2026")["validity"]
        assert (closed["state"], closed["text"]) == ("expired", "ended on 2026-02-04")

    def test_unknown_is_404(self, client: TestClient) -> None:
        assert client.get("/api/v1/subsidies/nope").status_code == 404

    @pytest.mark.parametrize("field", ["level", "kind", "window"])
    def test_bad_filter_is_422(self, client: TestClient, field: str) -> None:
        """A kind not in the catalogue's list was answered with an empty list, as if no
        programme of that kind existed."""
        response = client.get("/api/v1/subsidies", params={field: "galactic"})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == f"query.{field}"

    def test_kind_filter(self, client: TestClient) -> None:
        vouchers = client.get("/api/v1/subsidies", params={"kind": "voucher"}).json()
        assert vouchers and {p["kind"] for p in vouchers} == {"voucher"}


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

    def test_a_money_fact_beyond_any_firm_is_refused(
        self, signed_in: TestClient, enterprise: Enterprise
    ) -> None:
        """¥10^26 was accepted, and every subsidy match of the firm then failed (500), its
        submissions included."""
        url = f"/api/v1/enterprises/{enterprise.id}/facts"
        response = signed_in.put(url, json={"facts": {"rd_spend_cny": 1e26}})
        assert [e["field"] for e in response.json()["errors"]] == ["body.facts.rd_spend_cny"]
        assert signed_in.put(url, json={"facts": {"rd_spend_cny": 1e13}}).status_code == 200

    def test_a_stored_fact_out_of_bounds_counts_as_not_declared(
        self, signed_in: TestClient, db: Session, enterprise: Enterprise, start: Start
    ) -> None:
        """A fact stored before its bound existed: advice and submission go on, asking for
        it as for any fact not declared."""
        enterprise.facts = {"rd_spend_cny": 10**26, "project_ready": True}
        db.commit()
        assert scoring_profile(enterprise)["project_ready"] is True
        assert "rd_spend_cny" not in scoring_profile(enterprise)
        assessment = start()
        advice = signed_in.get(f"/api/v1/assessments/{assessment['id']}/subsidies")
        assert advice.status_code == 200, advice.text
        estimates = [m["estimate"] for m in advice.json()["today"]["matches"]]
        assert {"kind": "depends_on", "basis": "rd_spend_cny"}.items() <= next(
            e for e in estimates if e.get("basis") == "rd_spend_cny"
        ).items()

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


#: A small 规上 firm in Songjiang that declared a project (docs/subsidies.md, example E).
SONGJIANG = {
    "district_code": "310117",
    "industry_code": "34",
    "employees": 150,
    "annual_revenue_cny": 60_000_000,
}
SONGJIANG_FACTS = {
    "founding_year": 2012,
    "project_investment_cny": 30_000_000,
    "fixed_asset_share_pct": 80,
    "project_ready": True,
    "project_started": False,
    "loan_interest_annual_cny": 800_000,
    "leased_equipment_value_cny": 12_000_000,
    "high_tech_enterprise": True,
    "first_time_sishang": True,
    "rd_spend_cny": 3_000_000,
    "testing_contract_cny": 200_000,
    "testing_multi_cert": True,
}
#: The examples' assessment date: the technical-transformation call is open then.
ON = datetime(2026, 1, 28, 2, 0, tzinfo=UTC)


def _submit(client: TestClient, enterprise: Enterprise, questionnaire: Questionnaire) -> Any:
    created = client.post(
        f"/api/v1/enterprises/{enterprise.id}/assessments", json={"questionnaire_id": FULL}
    ).json()
    answers = complete_answers(questionnaire, scoring_profile(enterprise), 0.5)
    # Automation answered lowest, so that it holds the firm back and its plan has steps the
    # equipment programmes pay for (machines, handling, inspection: their funds' questions).
    for question in questionnaire.stages[1].questions:
        if question.id in answers and question.weight:
            answers[question.id] = pick(question, 0.0)
    filled = client.put(
        f"/api/v1/assessments/{created['id']}/answers",
        json={"answers": answers},
        headers={"If-Match": created["etag"]},
    ).json()
    response = client.post(
        f"/api/v1/assessments/{filled['id']}/submit", headers={"If-Match": filled["etag"]}
    )
    assert response.status_code == 200, response.text
    return response.json()


class TestAdvice:
    """The advice kept at submission is format 2 and reproducible from the stored rows."""

    def test_submit_keeps_the_advice_and_today_is_side_by_side(
        self, client: TestClient, db: Session, full_questionnaire: Questionnaire
    ) -> None:
        enterprise = create_enterprise(db, **SONGJIANG)
        login(client, create_user(db, enterprise=enterprise))
        client.put(f"/api/v1/enterprises/{enterprise.id}/facts", json={"facts": SONGJIANG_FACTS})
        with clock.frozen(ON):
            result = _submit(client, enterprise, full_questionnaire)
        advice = result["subsidy_advice"]
        matches = result["subsidies"]
        assert advice["format"] == 2 and advice["on"] == "2026-01-28"
        summary = advice["summary"]
        assert summary["checked"] == len(matches) >= 35
        assert sum(summary[o] for o in OUTCOMES) == summary["checked"]
        for outcome in OUTCOMES:
            assert summary[outcome] == sum(m["outcome"] == outcome for m in matches)
        assert summary["text"].startswith(f"已核对{len(matches)}个项目：")
        assert all("status" not in m and "fit" not in m for m in matches)

        # The "up to" total: included amounts add up, no two included exclude each other,
        # and the same firm, answers and scores give the same advice in the pure engine.
        total = advice["total"]
        by_id = {m["id"]: m for m in matches}
        assert total["programmes"] and Decimal(total["amount_cny"]) == sum(
            Decimal(by_id[pid]["estimate"]["amount_cny"]) for pid in total["programmes"]
        )
        assert total["programmes"] == [
            "sh-equipment-loan-interest-2024", "sh-first-sishang-rd-reward",
            "sh-testing-certification-2024",
        ]  # fmt: skip
        catalogue = {p.id: p for p in client.app.state.subsidies.programmes}  # type: ignore[attr-defined]
        for i, first in enumerate(total["programmes"]):
            for second in total["programmes"][i + 1 :]:
                assert not catalogue[first].excludes(catalogue[second])
        left_out = {item["id"]: item["reason"] for item in total["left_out"]}
        assert "不可叠加" in left_out["sh-equipment-leasing-2024"]  # loan interest or leasing
        stored = db.scalar(select(Result).where(Result.enterprise_id == enterprise.id))
        assert stored is not None
        db.refresh(enterprise)
        expected = subsidy_advice(
            catalogue.values(),
            scoring_profile(enterprise),
            {},
            results.exact(stored),
            on=ON.date(),
        )
        assert advice["total"] == expected.to_dict("zh")["total"]

        # Roadmap steps name the programmes that fund them.
        steps = result["roadmap"]["steps"]
        funded = [step for step in steps if step["funded_by"]]
        assert funded, "the equipment programmes pay for automation steps"
        for step in funded:
            for programme in step["funded_by"]:
                match = by_id[programme["id"]]
                assert match["outcome"] in ("eligible", "likely", "near")
                assert (
                    step["stage_id"] in match["funds"]["stages"]
                    or step["question_id"] in match["funds"]["questions"]
                )
        assert [f["stage_id"] for f in advice["funding"]] == [s["stage_id"] for s in funded]

        both = client.get(f"/api/v1/assessments/{result['assessment_id']}/subsidies").json()
        kept = both["as_submitted"]
        assert kept["matches"] == matches
        assert {k: v for k, v in kept.items() if k != "matches"} == advice
        assert both["today"]["format"] == 2 and both["today"]["on"] != "2026-01-28"
        assert sorted(m["id"] for m in both["today"]["matches"]) == sorted(by_id)
        # Facts declared after submission change today's view, never the kept one.
        client.put(
            f"/api/v1/enterprises/{enterprise.id}/facts",
            json={"facts": {"project_investment_cny": None}},
        )
        later = client.get(
            f"/api/v1/assessments/{result['assessment_id']}/subsidies", params={"lang": "en"}
        ).json()
        assert later["as_submitted"]["summary"]["text"].startswith(
            f"Checked {len(matches)} programmes: "
        )
        today = {m["id"]: m for m in later["today"]["matches"]}
        assert by_id["sh-techtrans-2026"]["estimate"]["amount_cny"] == "3000000.00"
        assert today["sh-techtrans-2026"]["estimate"]["amount_cny"] is None
        assert any(u["name"] == "project_investment_cny" for u in later["today"]["unlocks"])

    def test_the_advice_is_dated_on_shanghais_calendar(
        self, client: TestClient, db: Session, full_questionnaire: Questionnaire
    ) -> None:
        """Submitted at 07:30 on 5 February in Shanghai (23:30 UTC on the 4th): the call that
        closed on the 4th was advised as eligible, with its 3,000,000 CNY in the total."""
        enterprise = create_enterprise(db, **SONGJIANG)
        login(client, create_user(db, enterprise=enterprise))
        client.put(f"/api/v1/enterprises/{enterprise.id}/facts", json={"facts": SONGJIANG_FACTS})
        with clock.frozen(datetime(2026, 2, 4, 23, 30, tzinfo=UTC)):
            result = _submit(client, enterprise, full_questionnaire)
        advice = result["subsidy_advice"]
        techtrans = next(m for m in result["subsidies"] if m["id"] == "sh-techtrans-2026")
        assert advice["on"] == "2026-02-05"
        assert techtrans["outcome"] not in ("eligible", "likely")
        assert "sh-techtrans-2026" not in advice["total"]["programmes"]

    def test_a_draft_has_only_today(self, signed_in: TestClient, start: Start) -> None:
        assessment = start()
        draft = signed_in.get(f"/api/v1/assessments/{assessment['id']}/subsidies").json()
        assert draft["status"] == "draft" and draft["as_submitted"] is None
        assert draft["today"]["format"] == 2 and draft["today"]["funding"] == []
        assert draft["today"]["summary"]["checked"] == len(draft["today"]["matches"])

    def test_a_result_stored_before_format_2_still_reads(
        self,
        signed_in: TestClient,
        db: Session,
        enterprise: Enterprise,
        full_questionnaire: Questionnaire,
    ) -> None:
        result = _submit(signed_in, enterprise, full_questionnaire)
        stored = db.scalar(select(Result).where(Result.enterprise_id == enterprise.id))
        assert stored is not None
        stored.subsidies = FORMAT_1
        db.commit()
        body = signed_in.get(
            f"/api/v1/assessments/{result['assessment_id']}/result", params={"lang": "en"}
        ).json()
        assert [(m["id"], m["outcome"]) for m in body["subsidies"]] == [
            ("sh-near", "near"), ("sh-closed", "not_eligible"),
        ]  # fmt: skip
        advice = body["subsidy_advice"]
        assert advice["format"] == 1 and advice["total"] is None
        assert advice["summary"]["text"] == (
            "Checked 2 programmes: 0 eligible, 0 likely, 1 near, 1 not eligible, 0 to confirm."
        )
        assert all(step["funded_by"] == [] for step in body["roadmap"]["steps"])
        kept = signed_in.get(f"/api/v1/assessments/{result['assessment_id']}/subsidies").json()
        assert kept["as_submitted"]["format"] == 1
        assert kept["as_submitted"]["summary"]["near"] == 1


def _format1(pid: str, status: str, zh: str, en: str) -> dict[str, Any]:
    def match(name: str) -> dict[str, Any]:
        return {
            "id": pid, "name": name, "issuer": "", "level": "municipal", "region": "310000",
            "kind": "grant", "summary": "", "on": "2025-06-01", "status": status,
            "fit": "near", "valid_from": None, "valid_until": None, "reasons": [],
            "todo": [], "missing_facts": [], "recommendations": [],
            "estimate": {"kind": "none", "amount_cny": None, "formula": None, "text": name},
            "source": {"document": "doc", "issued_by": "body", "year": 2024, "url": None},
            "confidence": "secondary", "confidence_note": "",
        }  # fmt: skip

    return {"zh": match(zh), "en": match(en)}


#: A result as stored before issue 15: a list of per-programme pairs with a format-1 status.
FORMAT_1 = [
    _format1("sh-closed", "closed", "已截止", "Closed"),
    _format1("sh-near", "near", "接近", "Near"),
]
