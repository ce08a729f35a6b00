"""The real catalogue (``subsidies/*.yaml``): it loads, covers R1–R10, and per programme a firm
that qualifies, one that nearly does (where the programme has result/answer requirements) and one
that does not."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from scoring.conditions import Facts, iter_leaves
from scoring.facts import derive_facts
from scoring.subsidies import (
    RECOMMENDATIONS,
    Programme,
    ResultSnapshot,
    match_programme,
)
from scoring.subsidy_loader import load_subsidies

CATALOGUE = Path(__file__).resolve().parents[2] / "subsidies"
STAGES = ("digitization", "automation", "data_collection", "cloud_adoption")
ON = date(2026, 1, 28)

LOW = ResultSnapshot(Decimal("3.00"), Decimal("3.00"), dict.fromkeys(STAGES, Decimal("3.00")))
HIGH = ResultSnapshot(Decimal("3.90"), Decimal("3.75"), dict.fromkeys(STAGES, Decimal("3.90")))

BASE: dict[str, object] = {
    "district_code": "310115",
    "industry_code": "36",
    "size_class": "medium",
    "above_designated_size": True,
    "employees": 400,
    "annual_revenue_cny": Decimal(100_000_000),
}


@pytest.fixture(scope="module")
def catalogue() -> dict[str, Programme]:
    return {programme.id: programme for programme in load_subsidies(CATALOGUE)}


@dataclass(frozen=True)
class Case:
    """``good`` qualifies; ``near`` nearly does (LOW result); ``bad`` does not. None: impossible."""

    id: str
    good: dict[str, object] | None = field(default_factory=dict)
    bad: dict[str, object] | None = None
    near: dict[str, object] | None = None
    on: date = ON


TECH_SME = {
    "listed": False, "high_tech_products": True, "annual_revenue_cny": Decimal(50_000_000),
    "rd_spend_cny": Decimal(3_000_000), "employees": 200, "rd_staff_pct": 15,
}  # fmt: skip
TECHTRANS = {
    "size_class": "medium", "project_investment_cny": Decimal(15_000_000),
    "fixed_asset_share_pct": 70, "project_ready": True, "project_started": True,
    "other_municipal_funds": False,
}  # fmt: skip
ZJTX = {
    "size_class": "small", "zjtx_status": "innovative", "niche_years": 3,
    "rd_spend_cny": Decimal(5_000_000), "annual_revenue_cny": Decimal(100_000_000),
}  # fmt: skip

CASES = [
    # A free national service: every firm qualifies.
    Case("cn-c3mep-self-assessment"),
    Case(
        "cn-first-unit-insurance",
        good={"first_unit_recognised": True, "first_unit_insured": True},
        bad={"first_unit_recognised": True, "first_unit_insured": False},
    ),
    # National and only result requirements: a firm is eligible or near, never ineligible.
    Case("cn-smart-factory-basic", near={}),
    Case("cn-sme-digital-level-test", bad={"size_class": "large"}),
    Case("cn-zjtx-sme-recognition", good=ZJTX, bad={**ZJTX, "niche_years": 1}),
    Case(
        "jiading-smart-factory-award",
        good={"district_code": "310114", "sh_smart_factory": True},
        bad={"district_code": "310115", "sh_smart_factory": True},
    ),
    Case(
        "jinshan-iiot-diagnosis-factory",
        good={
            "district_code": "310116",
            "diagnosis_scope": "factory",
            "diagnosis_cost_cny": 90_000,
        },
        bad={"district_code": "310116", "diagnosis_scope": "workshop", "diagnosis_cost_cny": 9_000},
    ),
    Case(
        "jinshan-iiot-diagnosis-workshop",
        good={
            "district_code": "310116",
            "diagnosis_scope": "workshop",
            "diagnosis_cost_cny": 9_000,
        },
        bad={"district_code": "310117", "diagnosis_scope": "workshop", "diagnosis_cost_cny": 9_000},
    ),
    Case(
        "minhang-smart-factory-2021",
        on=date(2022, 6, 1),
        good={"district_code": "310112", "project_investment_cny": 5_000_000},
        bad={"district_code": "310112"},
    ),
    Case(
        "sh-ai-compute-voucher",
        good={"compute_contract_cny": 1_000_000},
        bad={"compute_contract_cny": 0},
    ),
    Case(
        "sh-equipment-leasing-2024",
        good={"project_investment_cny": 30_000_000, "leased_equipment_value_cny": 5_000_000},
        bad={"project_investment_cny": 15_000_000, "leased_equipment_value_cny": 5_000_000},
    ),
    Case(
        "sh-equipment-loan-interest-2024",
        good={"project_investment_cny": 20_000_000, "loan_interest_annual_cny": 100_000},
        bad={"project_investment_cny": 19_999_999, "loan_interest_annual_cny": 100_000},
    ),
    Case(
        "sh-first-sishang-rd-reward",
        good={"high_tech_enterprise": True, "first_time_sishang": True},
        bad={"high_tech_enterprise": False, "first_time_sishang": True},
    ),
    Case(
        "sh-first-unit-2026",
        good={"first_unit_recognised": True},
        bad={"first_unit_recognised": False},
    ),
    Case(
        "sh-growth-voucher",
        on=date(2024, 6, 1),
        good={"first_time_sishang": True},
        bad={"first_time_sishang": False},
    ),
    Case("sh-smart-factory-advanced", near={}, bad={"district_code": None}),
    Case(
        "sh-smart-factory-excellent-2025",
        on=date(2025, 7, 1),
        good={"smart_factory_tier": "advanced"},
        near={"smart_factory_tier": "advanced"},
        bad={"smart_factory_tier": "basic"},
    ),
    Case("sh-smart-manufacturing-voucher", bad={"district_code": None}),
    Case("sh-sme-guarantee-fund", bad={"size_class": "large"}),
    Case("sh-standardisation-fund", good={"leads_standard": True}, bad={"leads_standard": False}),
    Case("sh-stc-innovation-voucher", good={"tech_sme": True}, bad={"tech_sme": False}),
    Case("sh-tech-sme-innovation-fund", good=TECH_SME, bad={**TECH_SME, "employees": 600}),
    Case("sh-techtrans-2026", good=TECHTRANS, bad={**TECHTRANS, "size_class": "large"}),
    Case(
        "sh-testing-certification-2024",
        good={"testing_contract_cny": 100_000},
        bad={"testing_contract_cny": 0},
    ),
    Case(
        "sh-zjtx-sales-award",
        good={"zjtx_status": "specialized", "revenue_first_over_20m": True},
        bad={"zjtx_status": "innovative", "revenue_first_over_20m": True},
    ),
    Case(
        "songjiang-sme-digital-pilot",
        good={"district_code": "310117", "size_class": "small"},
        bad={"district_code": "310117", "size_class": "small", "industry_code": "13"},
    ),
]
CASE_IDS = [case.id for case in CASES]


def _match(programme: Programme, overrides: dict[str, object], result: ResultSnapshot, on: date):
    profile = {key: value for key, value in {**BASE, **overrides}.items() if value is not None}
    return match_programme(programme, Facts(profile=derive_facts(profile), result=result), on=on)


def _improvable(programme: Programme) -> bool:
    requirement = programme.requirement()
    leaves = [] if requirement is None else list(iter_leaves(requirement))
    return any(leaf.field.startswith(("result.", "answers.")) for leaf in leaves)


def test_catalogue_size_and_coverage(catalogue: dict[str, Programme]) -> None:
    assert len(catalogue) >= 14
    covered = {r for programme in catalogue.values() for r in programme.recommendations}
    assert covered == set(RECOMMENDATIONS)


def test_every_programme_has_a_case(catalogue: dict[str, Programme]) -> None:
    assert sorted(CASE_IDS) == sorted(catalogue)


def test_every_programme_names_source_and_confidence(catalogue: dict[str, Programme]) -> None:
    for programme in catalogue.values():
        entry = programme.to_dict("en")
        assert entry["source"]["document"] and entry["source"]["issued_by"]  # type: ignore[index]
        assert entry["confidence"] in ("verified", "secondary", "unverified")
        assert entry["confidence_note"]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_firm_that_qualifies(case: Case, catalogue: dict[str, Programme]) -> None:
    programme = catalogue[case.id]
    assert programme.window_status(case.on) == "open"
    assert case.good is not None
    match = _match(programme, case.good, HIGH, case.on)
    assert match.status == "eligible", [r.text("en") for r in match.reasons]
    assert match.todo == ()
    assert all(reason.met for reason in match.reasons)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_firm_that_nearly_qualifies(case: Case, catalogue: dict[str, Programme]) -> None:
    programme = catalogue[case.id]
    if case.near is None:
        # Nothing the firm can improve is required: "near" cannot happen.
        assert not _improvable(programme)
        return
    match = _match(programme, case.near, LOW, case.on)
    assert match.status == "near"
    assert match.todo
    assert all(item.leaf.field.startswith(("result.", "answers.")) for item in match.todo)
    assert all(item.text("en").startswith("reach ") for item in match.todo)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_firm_that_does_not_qualify(case: Case, catalogue: dict[str, Programme]) -> None:
    programme = catalogue[case.id]
    if case.bad is None:
        # Only national reach and result requirements (or none): no firm is ineligible.
        requirement = programme.requirement()
        leaves = [] if requirement is None else list(iter_leaves(requirement))
        assert all(leaf.field.startswith("result.") for leaf in leaves)
        return
    match = _match(programme, case.bad, HIGH, case.on)
    assert match.status == "ineligible"
    assert match.reasons and not any(reason.met for reason in match.reasons)
    assert match.todo == ()
