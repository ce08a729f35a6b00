"""Matching, estimates, texts and JSON of ``scoring.subsidies``; enterprise facts."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from scoring.conditions import Facts, Leaf
from scoring.facts import FACTS, FACTS_BY_NAME, derive_facts, validate_facts
from scoring.models import Text
from scoring.subsidies import (
    Benefit,
    ResultSnapshot,
    action_text,
    describe_leaf,
    estimate_benefit,
    match_programme,
    match_subsidies,
    region_condition,
)
from scoring.subsidy_loader import parse_programme

ON = date(2026, 6, 1)
D = Decimal


def programme(
    extra: str = "", *, level: str = "municipal", region: str = "310000", benefit: str = "{}"
):
    text = f"""\
id: demo
name: {{zh: 演示, en: Demo}}
issuer: {{zh: 演示, en: Demo}}
level: {level}
region: "{region}"
kind: grant
summary: {{zh: 演示, en: Demo}}
benefit: {benefit}
source: {{document: 演示, issued_by: 演示, year: 2026}}
confidence: unverified
{extra}"""
    return parse_programme(text, "demo.yaml")


def result(rung: str = "3.00", **stages: str) -> ResultSnapshot:
    return ResultSnapshot(D(rung), D(rung), {k: D(v) for k, v in stages.items()})


SH = {"district_code": "310117"}


# --- windows and regions ----------------------------------------------------------------------


def test_window_statuses_keep_the_fit() -> None:
    p = programme("valid_from: 2026-01-01\nvalid_until: 2026-12-31\n")
    assert match_subsidies([p], SH, on=date(2025, 12, 31))[0].status == "upcoming"
    assert match_subsidies([p], SH, on=date(2026, 1, 1))[0].status == "eligible"
    assert match_subsidies([p], SH, on=date(2026, 12, 31))[0].status == "eligible"
    closed = match_subsidies([p], SH, on=date(2027, 1, 1))[0]
    assert (closed.status, closed.fit) == ("closed", "eligible")


def test_national_programme_without_eligibility_has_no_requirement() -> None:
    p = programme(level="national", region="100000")
    assert p.requirement() is None and region_condition("100000") is None
    match = match_subsidies([p], {}, on=ON)[0]
    assert (match.status, match.reasons, match.todo) == ("eligible", (), ())


def test_district_programme_needs_the_district() -> None:
    p = programme(level="district", region="310116")
    assert p.requirement() == region_condition("310116")
    match = match_subsidies([p], SH, on=ON)[0]
    assert match.status == "ineligible"
    assert [r.text("en") for r in match.reasons] == ["not met: the firm is in Jinshan District"]
    assert [r.text("zh") for r in match.reasons] == ["不满足：企业位于金山区"]
    missing = match_subsidies([p], {}, on=ON)[0]
    assert [r.text("en") for r in missing.reasons] == [
        "not declared: the firm is in Jinshan District"
    ]
    assert [r.text("zh") for r in missing.reasons] == ["未填报：企业位于金山区"]
    assert missing.missing_facts == ("district_code",)
    assert missing.to_dict("en")["missing_facts"] == [
        {"name": "district_code", "label": "district"}
    ]


# --- eligible / near / ineligible -------------------------------------------------------------

MIXED = """\
eligibility:
  all:
    - {field: profile.size_class, op: in, value: [small, medium]}
    - any:
        - {field: profile.listed, op: eq, value: true}
        - {field: result.stages.data_collection, op: gte, value: 3.5}
    - not: {field: answers.legacy, op: eq, value: "yes"}
"""


def test_eligible_lists_what_is_met() -> None:
    p = programme(MIXED)
    facts = {**SH, "size_class": "small", "listed": True}
    match = match_subsidies([p], facts, {"legacy": "no"}, result(data_collection="3.00"), on=ON)[0]
    assert match.status == "eligible"
    assert all(r.met for r in match.reasons)
    assert [r.leaf.field for r in match.reasons] == [
        "profile.district_code", "profile.size_class", "profile.listed", "answers.legacy",
    ]  # fmt: skip
    assert match.reasons[1].text("en") == "met: size class is one of small, medium"
    assert match.reasons[1].text("zh") == "满足：企业规模 属于 small、medium"


def test_near_when_only_result_and_answer_leaves_fail() -> None:
    p = programme(MIXED)
    facts = {**SH, "size_class": "small", "listed": False}
    match = match_subsidies([p], facts, {"legacy": "yes"}, result(data_collection="3.25"), on=ON)[0]
    assert match.status == "near"
    assert [item.text("en") for item in match.todo] == [
        "reach 3.50 in data collection",
        "make this false: answers.legacy is yes",
    ]
    assert [item.text("zh") for item in match.todo] == [
        "数据采集阶段得分达到 3.50",
        "需不再满足：answers.legacy 为 yes",
    ]
    todo = match.to_dict("en")["todo"]
    assert todo[0] == {  # type: ignore[index]
        "field": "result.stages.data_collection", "op": "gte", "must_be": True,
        "value": "3.5", "text": "reach 3.50 in data collection", "why": None,
    }  # fmt: skip


def test_any_prefers_an_improvable_alternative_over_a_cheaper_profile_one() -> None:
    p = programme(
        "eligibility:\n  any:\n    - {field: profile.listed, op: eq, value: true}\n"
        "    - all:\n        - {field: result.rung, op: gte, value: 3.5}\n"
        "        - {field: result.overall, op: gt, value: 3.6}\n"
    )
    match = match_subsidies([p], {**SH, "listed": False}, {}, result("3.00"), on=ON)[0]
    assert match.status == "near"
    assert [item.text("en") for item in match.todo] == [
        "reach rung 3.50 (Connected)",
        "raise the overall score to > 3.60",
    ]
    assert [item.text("zh") for item in match.todo] == [
        "达到 3.50 级（网络化）",
        "总体得分提升到 > 3.60",
    ]


def test_ineligible_lists_only_the_blocking_profile_leaves() -> None:
    p = programme(MIXED)
    facts = {**SH, "size_class": "large", "listed": False}
    match = match_subsidies([p], facts, {"legacy": "yes"}, result(data_collection="3.00"), on=ON)[0]
    assert match.status == "ineligible"
    assert [r.leaf.field for r in match.reasons] == ["profile.size_class"]
    assert match.todo == ()


def test_ineligible_through_a_not_and_an_any() -> None:
    p = programme(
        "eligibility:\n  all:\n    - not: {field: profile.listed, op: eq, value: true}\n"
        "    - any:\n        - {field: profile.tech_sme, op: eq, value: true}\n"
        "        - {field: profile.high_tech_enterprise, op: eq, value: true}\n"
        "        - {field: result.rung, op: gte, value: 3.25}\n"
    )
    match = match_subsidies([p], {**SH, "listed": True}, {}, result("3.50"), on=ON)[0]
    assert match.status == "ineligible"
    assert [r.leaf.field for r in match.reasons] == ["profile.listed"]


def test_near_requires_every_all_part_fixable() -> None:
    p = programme(
        "eligibility:\n  all:\n    - {field: result.rung, op: gte, value: 3.5}\n"
        "    - {field: profile.tech_sme, op: eq, value: true}\n"
    )
    match = match_subsidies([p], SH, {}, result("3.00"), on=ON)[0]
    assert match.status == "ineligible"
    assert match.missing_facts == ("tech_sme",)


def test_derived_fact_reports_its_inputs_as_missing() -> None:
    p = programme("eligibility: {field: profile.rd_intensity_pct, op: gte, value: 5}\n")
    none = match_subsidies([p], SH, on=ON)[0]
    assert none.missing_facts == ("rd_spend_cny", "annual_revenue_cny")
    half = match_subsidies([p], {**SH, "annual_revenue_cny": 10}, on=ON)[0]
    assert half.missing_facts == ("rd_spend_cny",)
    ok = match_subsidies([p], {**SH, "annual_revenue_cny": 100, "rd_spend_cny": 5}, on=ON)[0]
    assert ok.status == "eligible"


def test_match_programme_directly_and_sorting() -> None:
    p = programme()
    match = match_programme(p, Facts(profile=SH), on=ON)
    assert match.status == "eligible"
    q = programme("valid_until: 2020-01-01\n")
    ids = [(m.status, m.programme.valid_until) for m in match_subsidies([q, p], SH, on=ON)]
    assert ids == [("eligible", None), ("closed", date(2020, 1, 1))]


# --- estimates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("benefit", "profile", "kind", "amount", "en", "zh"),
    [
        (Benefit(amount_cny=D(500000)), {}, "fixed", "500000.00",
         "500,000 CNY (fixed amount)", "500,000元（定额）"),
        (Benefit(cap_cny=D(300000)), {}, "up_to", "300000.00",
         "up to 300,000 CNY", "最高300,000元"),
        (Benefit(cap_cny="unknown"), {}, "unknown", None,
         "amount not published (unknown)", "支持金额未公布（未知）"),
        (Benefit(), {}, "none", None, "no cash benefit", "非现金支持"),
        (Benefit(rate="unknown", cap_cny=D(5)), {}, "unknown", None,
         "support rate not published (unknown)", "支持比例未公布（未知）"),
        (Benefit(rate=D("0.1"), basis="rd_spend_cny", cap_cny=D(500000)), {}, "depends_on", None,
         "depends on R&D spend last year: 10% of it, capped at 500,000 CNY",
         "取决于上年度研发费用：按其10%，最高500,000元"),
        (Benefit(rate=D("0.8"), basis="diagnosis_cost_cny", cap_cny="unknown"), {}, "depends_on",
         None, "depends on industrial-internet diagnosis cost: 80% of it, cap unknown",
         "取决于工业互联网诊断服务费用：按其80%，上限未知"),
        (Benefit(rate=D("0.5"), basis="loan_interest_annual_cny", years=3), {}, "depends_on", None,
         "depends on annual interest on the project's bank loan: 50% of it a year for 3 years",
         "取决于项目银行贷款年利息：按其每年50%、连续3年"),
        (Benefit(rate=D("0.05"), basis="leased_equipment_value_cny", cap_cny=D(20000000)),
         {"leased_equipment_value_cny": D("1234567")}, "computed", "61728.35",
         "about 61,728.35 CNY", "约61,728.35元"),
        (Benefit(rate=D("0.5"), basis="diagnosis_cost_cny"), {"diagnosis_cost_cny": 3}, "computed",
         "1.50", "about 1.50 CNY", "约1.50元"),
    ],
)  # fmt: skip
def test_estimates(
    benefit: Benefit, profile: dict[str, object], kind: str, amount: str | None, en: str, zh: str
) -> None:
    estimate = estimate_benefit(benefit, profile)
    assert estimate.kind == kind
    assert (None if estimate.amount_cny is None else str(estimate.amount_cny)) == amount
    assert (estimate.text.en, estimate.text.zh) == (en, zh)


def test_formulas() -> None:
    capped = estimate_benefit(
        Benefit(rate=D("0.3"), basis="first_unit_contract_cny", cap_cny=D(20000000)),
        {"first_unit_contract_cny": 80000000},
    )
    assert capped.formula == Text(
        "min(30% × 80,000,000, 20,000,000) = 20,000,000元",
        "min(30% × 80,000,000, 20,000,000) = 20,000,000 CNY",
    )
    uncapped = estimate_benefit(
        Benefit(rate=D("0.5"), basis="diagnosis_cost_cny"), {"diagnosis_cost_cny": 3}
    )
    assert uncapped.formula == Text("50% × 3 = 1.50元", "50% × 3 = 1.50 CNY")
    assert uncapped.to_dict("en") == {
        "kind": "computed", "amount_cny": "1.50", "formula": "50% × 3 = 1.50 CNY",
        "text": "about 1.50 CNY",
    }  # fmt: skip


# --- texts and JSON ---------------------------------------------------------------------------


def test_leaf_texts_without_why() -> None:
    assert describe_leaf(Leaf("profile.niche_years", "gte", D(2)), "en") == (
        "Years in the niche market ≥ 2"
    )
    assert describe_leaf(Leaf("profile.listed", "eq", False), "zh") == "上市企业 为 否"
    assert describe_leaf(Leaf("profile.listed", "ne", True), "en") == "Listed company is not yes"
    assert describe_leaf(Leaf("result.rung", "lt", D("3.5")), "zh") == "成熟度等级 < 3.5"
    assert describe_leaf(Leaf("result.overall", "lte", D(4)), "en") == "overall score ≤ 4"
    assert describe_leaf(Leaf("result.overall", "lte", D(4)), "zh") == "总体得分 ≤ 4"
    assert describe_leaf(Leaf("result.stages.quality", "gte", D(3)), "en") == "quality score ≥ 3"
    assert (
        describe_leaf(Leaf("result.stages.automation", "gte", D(3)), "zh") == "自动化阶段得分 ≥ 3"
    )
    assert describe_leaf(Leaf("result.rung", "gte", D(3)), "en") == "rung ≥ 3"
    assert describe_leaf(Leaf("answers.q", "contains", "a"), "en") == "answers.q includes a"
    assert (
        describe_leaf(Leaf("answers.q", "not_in", ("a", "b")), "en") == "answers.q is none of a, b"
    )
    with_why = Leaf("answers.q", "eq", "a", Text("中", "en"))
    assert describe_leaf(with_why, "zh") == "中"


def test_action_texts() -> None:
    assert action_text(Leaf("result.rung", "gte", D("3.5")), "zh") == "达到 3.50 级（网络化）"
    assert action_text(Leaf("result.rung", "gte", D("3.6")), "en") == "reach rung 3.60"
    assert action_text(Leaf("result.rung", "gt", D("3.6")), "zh") == "达到 > 3.60 级"
    assert action_text(Leaf("result.overall", "gte", D("3.6")), "zh") == "总体得分提升到 3.60"
    assert action_text(Leaf("result.stages.quality", "gte", D(3)), "en") == "reach 3.00 in quality"
    assert action_text(Leaf("answers.q", "eq", "a"), "en") == "make this true: answers.q is a"
    assert action_text(Leaf("result.rung", "lt", D(4)), "zh") == "需满足：成熟度等级 < 4"


def test_programme_and_match_json() -> None:
    p = programme(
        "notes: {zh: 注, en: note}\nrecommendations: [R3]\n",
        benefit="{rate: 0.1, basis: rd_spend_cny, cap_cny: unknown, note: {zh: 注, en: n}}",
    )
    entry = p.to_dict("en")
    assert entry["benefit"] == {
        "rate": "0.1", "basis": "rd_spend_cny", "basis_label": "R&D spend last year",
        "years": None, "cap_cny": "unknown", "amount_cny": None, "note": "n",
    }  # fmt: skip
    assert (
        entry["confidence_note"] == "Parameters are unverified; confirm them with the issuing body."
    )
    assert entry["notes"] == "note" and entry["recommendations"] == ["R3"]
    fixed = programme(benefit="{amount_cny: 5}").to_dict("zh")
    assert fixed["benefit"]["amount_cny"] == "5"  # type: ignore[index]
    assert fixed["benefit"]["basis_label"] is None  # type: ignore[index]
    match = match_subsidies([p], {**SH, "rd_spend_cny": 10}, on=ON)[0].to_dict("en")
    json.dumps(match)
    assert match["notes"] == "note" and match["on"] == "2026-06-01"
    assert match["source"] == {"document": "演示", "issued_by": "演示", "year": 2026, "url": None}
    plain = match_subsidies([programme()], SH, on=ON)[0].to_dict("zh")
    assert plain["notes"] is None and plain["valid_from"] is None


def test_todo_json_carries_why_and_list_values() -> None:
    p = programme(
        "eligibility:\n  field: result.rung\n  op: in\n  value: [3.5, 3.75]\n"
        "  why: {zh: 等级, en: rung}\n"
    )
    match = match_subsidies([p], SH, {}, result("3.00"), on=ON)[0]
    (item,) = match.to_dict("zh")["todo"]  # type: ignore[misc]
    assert item["value"] == ["3.5", "3.75"] and item["why"] == "等级"
    assert item["text"] == "需满足：等级"


# --- facts ------------------------------------------------------------------------------------


def test_fact_definitions() -> None:
    assert len(FACTS_BY_NAME) == len(FACTS)
    for fact in FACTS:
        if fact.type in ("money", "percent", "integer"):
            assert fact.unit is not None and fact.min is not None
        if fact.type == "choice":
            assert fact.choices
    entry = FACTS_BY_NAME["zjtx_status"].to_dict("en")
    assert entry["choices"][1] == {"id": "innovative", "label": "Innovative SME"}  # type: ignore[index]
    money = FACTS_BY_NAME["rd_spend_cny"].to_dict("zh")
    assert (money["unit"], money["min"], money["max"]) == ("元", "0", None)


def test_validate_facts() -> None:
    clean, errors = validate_facts(
        {
            "rd_spend_cny": 1000, "rd_staff_pct": 12.5, "listed": False,
            "zjtx_status": "innovative", "niche_years": 3, "tech_sme": None, "colour": "red",
            "rd_intensity_pct": 5, "fixed_asset_share_pct": 101, "project_investment_cny": -1,
            "niche_years_x": 1, "high_tech_enterprise": "yes", "diagnosis_scope": "city",
            "leased_equipment_value_cny": "9",
        }
    )  # fmt: skip
    assert clean == {
        "rd_spend_cny": D(1000), "rd_staff_pct": D("12.5"), "listed": False,
        "zjtx_status": "innovative", "niche_years": D(3),
    }  # fmt: skip
    assert errors == {
        "colour": "unknown fact",
        "niche_years_x": "unknown fact",
        "rd_intensity_pct": "is computed, not declared",
        "fixed_asset_share_pct": "must be ≤ 100, got 101",
        "project_investment_cny": "must be ≥ 0, got -1",
        "high_tech_enterprise": "must be true or false, got a string ('yes')",
        "diagnosis_scope": "must be one of workshop, factory, got a string ('city')",
        "leased_equipment_value_cny": "must be a number, got a string ('9')",
    }
    _, fractional = validate_facts({"niche_years": 2.5})
    assert fractional == {"niche_years": "must be a whole number, got 2.5"}


def test_derive_facts() -> None:
    derived = derive_facts({"rd_spend_cny": 35, "annual_revenue_cny": 1000, "rd_intensity_pct": 99})
    assert derived["rd_intensity_pct"] == D("3.5")
    assert "rd_intensity_pct" not in derive_facts({"rd_spend_cny": 1, "annual_revenue_cny": 0})
    assert "rd_intensity_pct" not in derive_facts({"rd_intensity_pct": 3})
