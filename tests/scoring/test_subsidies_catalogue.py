"""The real catalogue (``subsidies/*.yaml``): it loads, covers R1–R10, keeps the honesty rules of
issue 15, and per programme a firm that qualifies, one that nearly does (where the programme has
result/answer requirements) and one that does not."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from scoring.conditions import Facts, iter_leaves
from scoring.facts import FACTS_BY_NAME, derive_facts, validate_facts
from scoring.ladder import rung_info
from scoring.subsidies import (
    RECOMMENDATIONS,
    Param,
    Programme,
    ResultSnapshot,
    SubsidyMatch,
    match_programme,
)
from scoring.subsidy_loader import load_subsidies

CATALOGUE = Path(__file__).resolve().parents[2] / "subsidies"
STAGES = ("digitization", "automation", "data_collection", "cloud_adoption")
ON = date(2026, 1, 28)
SME = ("micro", "small", "medium")
SME_MEASURES_2023 = "上海市助力中小微企业稳增长调结构强能力若干措施"

LOW = ResultSnapshot(Decimal("3.00"), Decimal("3.00"), dict.fromkeys(STAGES, Decimal("3.00")))
#: One rung below 3.50 everywhere: "near" for a 3.50 requirement, not for anything higher.
ONE_BELOW = ResultSnapshot(Decimal("3.25"), Decimal("3.25"), dict.fromkeys(STAGES, Decimal("3.25")))
HIGH = ResultSnapshot(Decimal("3.90"), Decimal("3.75"), dict.fromkeys(STAGES, Decimal("3.90")))
PRE = ResultSnapshot(Decimal("2.80"), Decimal("2.75"), dict.fromkeys(STAGES, Decimal("2.80")))

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
    """``good`` qualifies (HIGH result); ``near`` nearly does (with ``near_result``); ``bad`` does
    not (with ``bad_result``). None: impossible for this programme."""

    id: str
    good: dict[str, object] | None = field(default_factory=dict)
    bad: dict[str, object] | None = None
    near: dict[str, object] | None = None
    near_result: ResultSnapshot = LOW
    bad_result: ResultSnapshot = HIGH
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
TESTING = {"testing_contract_cny": 100_000, "testing_multi_cert": True}

CASES = [
    Case("cn-advanced-manufacturing-vat-credit", good={"high_tech_enterprise": True},
         bad={"high_tech_enterprise": False}),
    # validity unconfirmed and no conditions: to confirm for every firm
    Case("cn-c3mep-self-assessment"),
    Case("cn-equipment-one-off-deduction", good={"new_equipment_cny": 1_000_000},
         bad={"new_equipment_cny": 0}),
    Case("cn-first-unit-insurance",
         good={"first_unit_national_catalogue": True, "first_unit_insured": True},
         bad={"first_unit_national_catalogue": True, "first_unit_insured": False}),
    # the enterprise lists decide, not the division (to confirm): any division may qualify
    Case("cn-ic-machine-tool-rd-deduction", good={"industry_code": "35", "rd_spend_cny": 10},
         bad={"industry_code": "34", "rd_spend_cny": 0}),
    Case("cn-rd-super-deduction", good={"rd_spend_cny": 10},
         bad={"industry_code": "16", "rd_spend_cny": 10}),
    # national and only result requirements: a firm is eligible, likely or near, never blocked
    # by its profile
    Case("cn-smart-factory-basic", near={}, bad={}, bad_result=PRE),
    Case("cn-sme-digital-level-test", bad={"size_class": "large"}),
    Case("cn-zjtx-sme-recognition", good=ZJTX, bad={**ZJTX, "niche_years": 1}),
    Case("jiading-dcmms-award", good={"district_code": "310114", "dcmms_first_certified": True},
         bad={"district_code": "310116", "dcmms_first_certified": True}),
    Case("jiading-smart-factory-award",
         good={"district_code": "310114", "sh_smart_factory": True},
         bad={"district_code": "310115", "sh_smart_factory": True}),
    Case("jinshan-dcmms-award", good={"district_code": "310116", "dcmms_first_certified": True},
         bad={"district_code": "310116", "dcmms_first_certified": False}),
    Case("jinshan-iiot-diagnosis-factory",
         good={"district_code": "310116", "diagnosis_scope": "factory",
               "diagnosis_cost_cny": 90_000},
         bad={"district_code": "310116", "diagnosis_scope": "workshop",
              "diagnosis_cost_cny": 9_000}),
    Case("jinshan-iiot-diagnosis-workshop",
         good={"district_code": "310116", "diagnosis_scope": "workshop",
               "diagnosis_cost_cny": 9_000},
         bad={"district_code": "310117", "diagnosis_scope": "workshop",
              "diagnosis_cost_cny": 9_000}),
    Case("sh-ai-compute-voucher", good={"compute_contract_cny": 1_000_000},
         bad={"compute_contract_cny": 1_000_000, "size_class": "large"}),
    Case("sh-equipment-leasing-2024",
         good={"project_investment_cny": 30_000_000, "leased_equipment_value_cny": 5_000_000},
         bad={"project_investment_cny": 30_000_000, "leased_equipment_value_cny": 0}),
    Case("sh-equipment-loan-interest-2024",
         good={"project_investment_cny": 20_000_000, "loan_interest_annual_cny": 100_000},
         bad={"project_investment_cny": 19_999_999, "loan_interest_annual_cny": 100_000}),
    Case("sh-first-sishang-rd-reward",
         good={"high_tech_enterprise": True, "first_time_sishang": True},
         bad={"high_tech_enterprise": True, "first_time_sishang": True, "size_class": "large"}),
    Case("sh-first-unit-2026", good={"first_unit_recognised": True},
         bad={"first_unit_recognised": False}),
    Case("sh-first-version-software", good={"first_version_software": True},
         bad={"first_version_software": False}),
    Case("sh-growth-voucher", on=date(2024, 6, 1), good={"first_time_sishang": True},
         bad={"first_time_sishang": False}),
    Case("sh-innovation-product-loan-interest",
         good={"innovation_catalogue_purchase": True, "loan_interest_annual_cny": 50_000},
         bad={"innovation_catalogue_purchase": False, "loan_interest_annual_cny": 50_000}),
    Case("sh-smart-factory-advanced", near={}, bad={"district_code": None}),
    Case("sh-smart-factory-excellent-2025", on=date(2025, 7, 1),
         good={"smart_factory_tier": "advanced"},
         near={"smart_factory_tier": "advanced"}, near_result=ONE_BELOW,
         bad={"smart_factory_tier": "basic"}),
    Case("sh-smart-manufacturing-voucher", bad={"size_class": "large"}),
    Case("sh-sme-guarantee-fund", bad={"size_class": "large"}),
    Case("sh-standardisation-fund", good={"leads_standard": True},
         bad={"leads_standard": False}),
    Case("sh-stc-innovation-voucher", good={"tech_sme": True}, bad={"tech_sme": False}),
    Case("sh-tech-sme-innovation-fund", good=TECH_SME, bad={**TECH_SME, "listed": True}),
    Case("sh-techtrans-2026", good=TECHTRANS, bad={**TECHTRANS, "size_class": "large"}),
    Case("sh-testing-certification-2024", good=TESTING,
         bad={**TESTING, "testing_multi_cert": False}),
    Case("sh-zjtx-little-giant-growth-award",
         good={"zjtx_status": "little_giant", "little_giant_growth": True},
         bad={"zjtx_status": "specialized", "little_giant_growth": True}),
    Case("sh-zjtx-sales-award",
         good={"zjtx_status": "specialized", "revenue_first_over_20m": True},
         bad={"zjtx_status": "innovative", "revenue_first_over_20m": True}),
    Case("songjiang-digital-diagnosis-2023", good={"district_code": "310117"},
         bad={"district_code": "310117", "above_designated_size": False}),
    Case("songjiang-sme-digital-pilot", good={"district_code": "310117", "size_class": "small"},
         bad={"district_code": "310117", "size_class": "small", "industry_code": "13"}),
]  # fmt: skip
CASE_IDS = [case.id for case in CASES]


def _match(
    programme: Programme, overrides: dict[str, object], result: ResultSnapshot, on: date
) -> SubsidyMatch:
    profile = {key: value for key, value in {**BASE, **overrides}.items() if value is not None}
    facts = Facts(profile=derive_facts(profile, on), result=result)
    return match_programme(programme, facts, on=on)


def _leaves(programme: Programme) -> list[str]:
    requirement = programme.requirement()
    return [] if requirement is None else [leaf.field for leaf in iter_leaves(requirement)]


def test_catalogue_size_and_coverage(catalogue: dict[str, Programme]) -> None:
    assert len(catalogue) == 35
    covered = {r for programme in catalogue.values() for r in programme.recommendations}
    assert covered == set(RECOMMENDATIONS)


def test_the_programmes_issue_15_asked_for(catalogue: dict[str, Programme]) -> None:
    added = {
        "cn-rd-super-deduction": "tax_deduction",
        "cn-ic-machine-tool-rd-deduction": "tax_deduction",
        "cn-equipment-one-off-deduction": "tax_deduction",
        "cn-advanced-manufacturing-vat-credit": "tax_credit",
        "jinshan-dcmms-award": "award",
        "jiading-dcmms-award": "award",
        "sh-first-version-software": "grant",
        "sh-innovation-product-loan-interest": "loan_interest",
        "songjiang-digital-diagnosis-2023": "grant",
        "sh-zjtx-little-giant-growth-award": "award",
    }
    assert {pid: catalogue[pid].kind for pid in added} == added
    numbers = {pid: catalogue[pid].source.number for pid in added if pid.startswith("cn-")}
    assert numbers == {
        "cn-rd-super-deduction": "财政部 税务总局公告2023年第7号",
        "cn-ic-machine-tool-rd-deduction": (
            "财政部 税务总局 国家发展改革委 工业和信息化部公告2023年第44号"
        ),
        "cn-equipment-one-off-deduction": "财政部 税务总局公告2023年第37号",
        "cn-advanced-manufacturing-vat-credit": "财政部 税务总局公告2023年第43号",
    }


def test_every_case_is_listed(catalogue: dict[str, Programme]) -> None:
    assert sorted(CASE_IDS) == sorted(catalogue)


def test_every_programme_is_sourced_and_dated_honestly(catalogue: dict[str, Programme]) -> None:
    for programme in catalogue.values():
        source, validity = programme.source, programme.validity
        assert source.document and source.issued_by, programme.id
        # a document known only by a description: official URL, or the programme stays unconfirmed
        if source.number is None and source.title is None:
            assert source.url is not None or validity.status == "unconfirmed", programme.id
        if validity.status != "unconfirmed":
            assert validity.last_confirmed is not None and source.year is not None, programme.id
        if validity.status == "dated":
            assert validity.valid_until is not None, programme.id


def test_verified_only_where_the_document_was_read(catalogue: dict[str, Programme]) -> None:
    """ "verified" needs the official text: a programme or parameter so marked has the URL."""
    for programme in catalogue.values():
        params: list[Param] = list(programme.benefit.parameters().values())
        if programme.confidence == "verified" or any(p.confidence == "verified" for p in params):
            assert programme.source.url is not None, programme.id
    verified = sorted(p.id for p in catalogue.values() if p.confidence == "verified")
    assert verified == ["sh-techtrans-2026"]
    assert catalogue["sh-tech-sme-innovation-fund"].confidence == "secondary"
    stc = catalogue["sh-stc-innovation-voucher"]
    assert stc.confidence == "unverified"
    assert stc.benefit.cap_cny == Param(Decimal(300000), "unverified")


def test_programmes_from_the_2023_sme_measures_are_for_smes(
    catalogue: dict[str, Programme],
) -> None:
    from_sme_measures = sorted(
        p.id for p in catalogue.values() if p.source.title == SME_MEASURES_2023
    )
    assert from_sme_measures == [
        "sh-ai-compute-voucher", "sh-first-sishang-rd-reward", "sh-smart-manufacturing-voucher",
    ]  # fmt: skip
    for pid in from_sme_measures:
        assert catalogue[pid].scope.size_classes == SME, pid


@pytest.mark.parametrize(
    ("pid", "facts", "profile"),
    [
        # A listed firm of 3,200 staff was advised the 专精特新 SMEs' sales award (500,000 CNY).
        ("sh-zjtx-sales-award", {"zjtx_status": "specialized", "revenue_first_over_20m": True},
         {"size_class": "large"}),
        ("sh-zjtx-little-giant-growth-award",
         {"zjtx_status": "little_giant", "little_giant_growth": True}, {"size_class": "large"}),
        # A micro firm with 2.8 M CNY of revenue was advised the reward for entering "四上".
        ("sh-first-sishang-rd-reward",
         {"high_tech_enterprise": True, "first_time_sishang": True, "rd_spend_cny": 400_000},
         {"size_class": "micro", "above_designated_size": False,
          "annual_revenue_cny": Decimal(2_800_000)}),
    ],
)  # fmt: skip
def test_a_firm_outside_a_programmes_own_name_is_not_advised_it(
    catalogue: dict[str, Programme],
    pid: str,
    facts: dict[str, object],
    profile: dict[str, object],
) -> None:
    """专精特新 awards are for 专精特新 *SMEs*; a manufacturer in the "four above" statistics is
    above designated size (revenue ≥ 20 M CNY, domain.md §3.2)."""
    match = _match(catalogue[pid], {**facts, **profile}, HIGH, ON)
    assert match.outcome == "not_eligible"
    assert _match(catalogue[pid], facts, HIGH, ON).outcome in ("eligible", "likely")


def test_a_rung_named_in_a_reason_has_the_ladders_name(catalogue: dict[str, Programme]) -> None:
    """The smart-factory reasons called rung 3.25 "Digitized"/数字化 and 3.50 "Connected"/网络化,
    the stage names the ladder gave up (design §12), while the to-do beside them said 规范级."""
    named = 0
    for programme in catalogue.values():
        requirement = programme.requirement()
        for leaf in [] if requirement is None else iter_leaves(requirement):
            if leaf.why is None:
                continue
            for level, zh_name in re.findall(r"(\d\.\d\d)级（([^，）]+)", leaf.why.zh):
                named += 1
                assert zh_name == rung_info(Decimal(level)).name.zh, (programme.id, leaf.why.zh)
            for level, en_name in re.findall(r"rung (\d\.\d\d) \(([^,)]+)", leaf.why.en):
                named += 1
                assert en_name == rung_info(Decimal(level)).name.en, (programme.id, leaf.why.en)
    assert named >= 6  # the texts were found


def test_english_texts_gloss_the_chinese_terms_they_keep() -> None:
    """A Chinese term kept in an English text (a proper name, a programme's own name) stands in
    parentheses after its English gloss, as "AI compute voucher (算力券)" does: "Growth award
    for 专精特新 little giants" left an English reader with nothing to read."""
    cjk = re.compile(r"[\u4e00-\u9fff]")

    def unglossed(text: str) -> str:
        depth, kept = 0, []
        for char in text:
            depth += char in "(（"
            if depth == 0:
                kept.append(char)
            depth -= depth > 0 and char in ")）"
        return "".join(kept)

    def english(node: object) -> list[str]:
        if isinstance(node, dict):
            own = [node["en"]] if isinstance(node.get("en"), str) else []
            return own + [text for value in node.values() for text in english(value)]
        if isinstance(node, list):
            return [text for value in node for text in english(value)]
        return []

    bare = [
        (path.name, text)
        for path in sorted(CATALOGUE.glob("*.yaml"))
        for text in english(yaml.safe_load(path.read_text(encoding="utf-8")))
        if cjk.search(unglossed(text))
    ]
    assert not bare


def test_a_programme_is_shown_funding_only_what_it_pays_for(
    catalogue: dict[str, Programme],
) -> None:
    """Funding named whole stages: loan interest for equipment projects was shown paying for a
    digital plan and an ERP, the AI compute voucher for backups, CRM and remote access."""
    organisational = [
        ("digitization", "dig_plan"), ("digitization", "dig_mechanism"),
        ("digitization", "dig_erp"), ("data_collection", "dat_analysis"),
        ("automation", "aut_skills"),
    ]  # fmt: skip
    for pid in (
        "sh-equipment-loan-interest-2024", "sh-equipment-leasing-2024",
        "cn-equipment-one-off-deduction",
    ):  # fmt: skip
        funds = catalogue[pid].funds
        assert funds.covers("automation", "aut_machine_control"), pid
        assert not any(funds.covers(*step) for step in organisational), pid
    compute = catalogue["sh-ai-compute-voucher"].funds
    assert compute.covers("cloud_adoption", "cld_compute")
    assert not any(
        compute.covers("cloud_adoption", q)
        for q in ("cld_backup", "cld_sales", "cld_remote", "cld_service")
    )


def test_a_threshold_no_source_states_is_to_confirm(catalogue: dict[str, Programme]) -> None:
    """The leasing subsidy's 20 M CNY project threshold is inferred from the same action's
    technical-transformation projects: a 15 M CNY leasing project was told "not met"."""
    leasing = catalogue["sh-equipment-leasing-2024"]
    small = _match(
        leasing, {"project_investment_cny": 15_000_000, "leased_equipment_value_cny": 5_000_000},
        HIGH, ON,
    )  # fmt: skip
    assert small.outcome == "likely"
    assert "project_threshold" in [note.id for note in small.confirm]
    large = _match(
        leasing, {"project_investment_cny": 30_000_000, "leased_equipment_value_cny": 5_000_000},
        HIGH, ON,
    )  # fmt: skip
    assert "project_threshold" not in [note.id for note in large.confirm]


def test_undated_district_policies_are_to_confirm(catalogue: dict[str, Programme]) -> None:
    undated = sorted(p.id for p in catalogue.values() if p.validity.status == "unconfirmed")
    assert undated == [
        "cn-c3mep-self-assessment", "jiading-dcmms-award", "jiading-smart-factory-award",
        "jinshan-dcmms-award", "jinshan-iiot-diagnosis-factory",
        "jinshan-iiot-diagnosis-workshop", "sh-first-version-software",
        "sh-stc-innovation-voucher", "songjiang-sme-digital-pilot",
    ]  # fmt: skip


def test_ceiling_rates_are_marked(catalogue: dict[str, Programme]) -> None:
    """domain.md §5.2 gives these rates as ceilings (≤ / 以内): technical transformation ≤ 10 %
    (P03), Shanghai first unit ≤ 30 % (P02), insurance compensation ≤ 80 % (P01), leasing ≤ 5 %
    (P05), compute voucher ≤ 20 % (P10), testing ≤ 30 % (P21), the Jiading award ≤ 30 % (P08).
    Exact: loan interest 50 % (P04), the R&D reward 5 % (P13), the Jinshan diagnosis 80 % (P16),
    the tax rates (P18). "About 2,500,000 CNY" from "≤ 10 %" promised the maximum."""
    ceilings = sorted(
        p.id
        for p in catalogue.values()
        if isinstance(p.benefit.rate, Param) and p.benefit.rate.up_to
    )
    assert ceilings == [
        "cn-first-unit-insurance", "jiading-smart-factory-award", "sh-ai-compute-voucher",
        "sh-equipment-leasing-2024", "sh-first-unit-2026", "sh-techtrans-2026",
        "sh-testing-certification-2024",
    ]  # fmt: skip
    techtrans = _match(catalogue["sh-techtrans-2026"], {**TECHTRANS, "project_investment_cny":
                       Decimal(25_000_000)}, HIGH, ON)  # fmt: skip
    assert techtrans.estimate.text.en == "up to 2,500,000 CNY (verified parameters)"
    assert techtrans.estimate.text.zh == "最高约2,500,000元（参数已核实）"


def test_annual_calls_have_this_years_window_to_confirm(catalogue: dict[str, Programme]) -> None:
    """domain.md describes annual application notices for the standardisation fund (P20: "annual
    申请指南"), the first-unit insurance compensation (P01: "annual notice, recently Sept") and
    the Shanghai advanced smart-factory tier (P08: yearly lists); they read "open" all year and
    the insurance was "eligible" with nothing to confirm."""
    annual = sorted(p.id for p in catalogue.values() if p.validity.status == "annual")
    assert annual == [
        "cn-first-unit-insurance", "sh-smart-factory-advanced", "sh-standardisation-fund",
    ]  # fmt: skip
    for pid in annual:
        assert catalogue[pid].window_status(ON) == "unknown", pid
    insurance = _match(
        catalogue["cn-first-unit-insurance"],
        {"first_unit_national_catalogue": True, "first_unit_insured": True,
         "first_unit_premium_cny": Decimal(1_500_000)},
        HIGH, ON,
    )  # fmt: skip
    assert insurance.outcome == "likely"
    assert [note.id for note in insurance.confirm] == ["application_window"]


def test_a_large_firm_is_not_told_it_meets_the_sme_threshold(
    catalogue: dict[str, Programme],
) -> None:
    """A large firm with a 25 M CNY project saw "met: SME project investment above 10 M CNY";
    a firm that left "other municipal funds" blank saw it "met" beside the item to confirm."""
    firm = {**TECHTRANS, "size_class": "large", "project_investment_cny": Decimal(25_000_000)}
    del firm["other_municipal_funds"]
    match = _match(catalogue["sh-techtrans-2026"], firm, HIGH, ON)
    assert match.outcome == "likely"
    reasons = [r.text("en") for r in match.reasons]
    assert "met: total project investment above 20 M CNY (2023 official FAQ)" in reasons
    assert not any("SME" in text for text in reasons), reasons
    assert not any("other municipal" in text for text in reasons), reasons
    assert [n.id for n in match.confirm] == ["application_guide", "no_other_municipal_funds"]


def test_stacking_rules_of_the_same_project_funds(catalogue: dict[str, Programme]) -> None:
    techtrans = catalogue["sh-techtrans-2026"]
    for other in (
        "sh-equipment-loan-interest-2024", "sh-equipment-leasing-2024",
        "sh-innovation-product-loan-interest",
    ):  # fmt: skip
        assert techtrans.excludes(catalogue[other]) and catalogue[other].excludes(techtrans)
    assert catalogue["sh-equipment-loan-interest-2024"].excludes(
        catalogue["sh-equipment-leasing-2024"]
    )
    assert catalogue["cn-rd-super-deduction"].excludes(catalogue["cn-ic-machine-tool-rd-deduction"])
    # national first-unit compensation and Shanghai's contract support combine
    assert not catalogue["cn-first-unit-insurance"].excludes(catalogue["sh-first-unit-2026"])
    # a district award is not a municipal fund
    assert not techtrans.excludes(catalogue["jiading-smart-factory-award"])


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_firm_that_qualifies(case: Case, catalogue: dict[str, Programme]) -> None:
    programme = catalogue[case.id]
    assert case.good is not None
    match = _match(programme, case.good, HIGH, case.on)
    assert match.verdict == "met", [r.text("en") for r in match.reasons]
    expected = (
        {"to_confirm"} if programme.validity.status == "unconfirmed" else {"eligible", "likely"}
    )
    assert match.outcome in expected
    assert match.todo == ()
    assert all(reason.met for reason in match.reasons)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_firm_that_nearly_qualifies(case: Case, catalogue: dict[str, Programme]) -> None:
    programme = catalogue[case.id]
    if case.near is None:
        # Nothing the firm can improve is required: "near" cannot happen.
        assert not any(path.startswith(("result.", "answers.")) for path in _leaves(programme))
        return
    match = _match(programme, case.near, case.near_result, case.on)
    assert match.outcome == "near"
    assert match.todo
    assert all(item.leaf.field.startswith("result.") for item in match.todo)
    assert all(item.text("en").startswith("reach ") for item in match.todo)
    # two rungs short is not near
    assert _match(programme, case.near, _two_below(case.near_result), case.on).outcome == (
        "not_eligible"
    )


def _two_below(result: ResultSnapshot) -> ResultSnapshot:
    step = Decimal("0.25")
    return ResultSnapshot(
        None if result.overall is None else result.overall - step,
        result.rung - step,
        {stage: score - step for stage, score in result.stages.items()},
    )


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_firm_that_does_not_qualify(case: Case, catalogue: dict[str, Programme]) -> None:
    programme = catalogue[case.id]
    if case.bad is None:
        # Only national reach (or none): no firm fails it.
        assert _leaves(programme) == []
        return
    match = _match(programme, case.bad, case.bad_result, case.on)
    assert match.outcome == "not_eligible"
    assert match.reasons and not any(reason.met for reason in match.reasons)
    assert match.todo == ()


# --- advice audit: what the firm already holds, what the sources support ---------------------

#: The smart-factory gradient, lowest first (domain.md P08; ``smart_factory_tier``'s choices).
TIERS = ("none", "basic", "advanced", "excellent", "leading")


@pytest.mark.parametrize("held", ["specialized", "little_giant"])
def test_a_firm_already_recognised_is_not_advised_the_zjtx_recognition(
    catalogue: dict[str, Programme], held: str
) -> None:
    """A 专精特新 SME, or a “little giant” above it, was advised (likely) to apply for the
    专精特新 SME recognition it already holds."""
    programme = catalogue["cn-zjtx-sme-recognition"]
    assert _match(programme, ZJTX, HIGH, ON).outcome == "likely"
    match = _match(programme, {**ZJTX, "zjtx_status": held}, HIGH, ON)
    assert match.outcome == "not_eligible"
    assert [(r.leaf.field, r.met) for r in match.reasons] == [("profile.zjtx_status", False)]


@pytest.mark.parametrize(
    ("pid", "tier", "on"),
    [
        ("cn-smart-factory-basic", "basic", ON),
        ("sh-smart-factory-advanced", "advanced", ON),
        ("sh-smart-factory-excellent-2025", "excellent", date(2025, 7, 1)),
    ],
)
def test_a_smart_factory_tier_already_held_is_not_advised(
    catalogue: dict[str, Programme], pid: str, tier: str, on: date
) -> None:
    """A firm holding the leading tier was "likely" for the basic, advanced and excellent
    tiers; the excellent tier accepted an excellent or leading factory as its prerequisite
    (domain.md P08: 卓越级 needs 先进级)."""
    programme = catalogue[pid]
    rank = TIERS.index(tier)
    for held in TIERS[rank:]:
        match = _match(programme, {"smart_factory_tier": held}, HIGH, on)
        assert match.outcome == "not_eligible", held
        assert [r.leaf.field for r in match.reasons] == ["profile.smart_factory_tier"], held
    below = _match(programme, {"smart_factory_tier": TIERS[rank - 1]}, HIGH, on)
    assert below.outcome in ("eligible", "likely")
    assert "tier_not_held" not in [note.id for note in below.confirm]


@pytest.mark.parametrize("pid", ["cn-smart-factory-basic", "sh-smart-factory-advanced"])
def test_an_undeclared_smart_factory_tier_is_to_confirm(
    catalogue: dict[str, Programme], pid: str
) -> None:
    """Not knowing the tier a firm holds is said, not assumed: the firm is asked to declare it."""
    match = _match(catalogue[pid], {}, HIGH, ON)
    assert match.outcome == "likely"
    (note,) = [note for note in match.confirm if note.id == "tier_not_held"]
    assert note.facts == ("smart_factory_tier",)


def test_the_advanced_tier_asks_the_maturity_the_sources_give(
    catalogue: dict[str, Programme],
) -> None:
    """先进级 asked rung ≥ 3.50 and data collection ≥ 3.50, stricter than any source: a public
    screening tool encodes 先进级 at CMMM level ≥ 2 (maturity-models.md §1.1), which the ladder
    maps to rung 3.25 (design §3). A firm at rung 3.25 whose data collection is 3.00 is likely."""
    programme = catalogue["sh-smart-factory-advanced"]
    stages = {"digitization": "3.40", "automation": "3.40", "data_collection": "3.00",
              "cloud_adoption": "3.25"}  # fmt: skip
    at_l2 = ResultSnapshot(
        Decimal("3.2625"), Decimal("3.25"), {k: Decimal(v) for k, v in stages.items()}
    )
    assert _match(programme, {"smart_factory_tier": "basic"}, at_l2, ON).outcome == "likely"
    assert not any(path.startswith("result.stages.") for path in _leaves(programme))
    near = _match(programme, {"smart_factory_tier": "basic"}, LOW, ON)
    assert near.outcome == "near"
    assert [t.text("en") for t in near.todo] == ["reach rung 3.25 (Standardised)"]


def test_first_unit_insurance_needs_the_national_catalogue(
    catalogue: dict[str, Programme],
) -> None:
    """P01 compensates equipment in the national 首台(套) catalogue (2024); the fact it read
    also holds for a Shanghai-only first unit / first batch, so such a firm was advised
    1,200,000 CNY of insurance compensation. Shanghai's own support (P02) takes either."""
    fact = FACTS_BY_NAME["first_unit_national_catalogue"]
    assert fact.type == "boolean" and not fact.derived
    assert "2024" in fact.label.zh + fact.help.zh and "2024" in fact.label.en + fact.help.en
    assert validate_facts({"first_unit_national_catalogue": True}) == (
        {"first_unit_national_catalogue": True}, {},
    )  # fmt: skip
    assert (
        "first_unit_national_catalogue"
        in validate_facts({"first_unit_national_catalogue": "yes"})[1]
    )
    insurance = catalogue["cn-first-unit-insurance"]
    shanghai_only = {"first_unit_recognised": True, "first_unit_insured": True,
                     "first_unit_premium_cny": Decimal(1_500_000)}  # fmt: skip
    undeclared = _match(insurance, shanghai_only, HIGH, ON)
    assert undeclared.outcome == "not_eligible"
    assert undeclared.missing_facts == ("first_unit_national_catalogue",)
    not_listed = {**shanghai_only, "first_unit_national_catalogue": False}
    assert _match(insurance, not_listed, HIGH, ON).outcome == "not_eligible"
    listed = {**shanghai_only, "first_unit_national_catalogue": True}
    assert _match(insurance, listed, HIGH, ON).outcome in ("eligible", "likely")
    shanghai = catalogue["sh-first-unit-2026"]
    assert _match(shanghai, not_listed, HIGH, ON).verdict == "met"
    national_only = {"first_unit_national_catalogue": True}
    assert _match(shanghai, national_only, HIGH, ON).verdict == "met"


def test_technical_transformation_project_must_fit_the_application_guide(
    catalogue: dict[str, Programme],
) -> None:
    """The 2026 call requires the project to fit the 申报指南 (domain.md P03); nothing captured
    it, so a firm that declared everything was told "eligible" with nothing to confirm."""
    firm = {**TECHTRANS, "project_investment_cny": Decimal(25_000_000)}
    match = _match(catalogue["sh-techtrans-2026"], firm, HIGH, ON)
    assert match.outcome == "likely"
    assert "application_guide" in [note.id for note in match.confirm]


def test_the_enterprise_list_not_a_division_decides_the_120_percent_deduction(
    catalogue: dict[str, Programme],
) -> None:
    """The division mapping (34, 39) was only the service's guess, as its own note said: an
    IC-equipment maker in division 35 was told "not eligible"; the enterprise lists decide."""
    programme = catalogue["cn-ic-machine-tool-rd-deduction"]
    assert programme.scope.industries == ()
    match = _match(programme, {"industry_code": "35", "rd_spend_cny": Decimal(2_000_000)}, HIGH, ON)
    assert match.outcome == "likely"
    assert "enterprise_list" in [note.id for note in match.confirm]


def test_the_first_unit_plan_is_not_open_before_it_can_have_existed(
    catalogue: dict[str, Programme],
) -> None:
    """The 2026–2028 plan was issued in January 2026, day not in the cited sources; it was
    "open" from 1 January. The Sina repost of 9 January 2026 says it was issued "近日" (in the
    last few days): from then on it certainly exists."""
    programme = catalogue["sh-first-unit-2026"]
    firm = {"first_unit_recognised": True}
    for day in (date(2026, 1, 1), date(2026, 1, 8)):
        assert programme.window_status(day) != "open", day
        assert _match(programme, firm, HIGH, day).outcome == "not_eligible", day
    assert programme.window_status(date(2026, 1, 9)) == "open"
    assert _match(programme, firm, HIGH, date(2026, 1, 9)).outcome == "likely"
