"""Matching (five outcomes), validity, estimates, texts and JSON of ``scoring.subsidies``;
enterprise facts."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from scoring.conditions import Facts, Leaf
from scoring.facts import FACTS, FACTS_BY_NAME, derive_facts, validate_facts
from scoring.models import Text
from scoring.subsidies import (
    Benefit,
    Funding,
    Param,
    Programme,
    Reason,
    ResultSnapshot,
    Scope,
    Source,
    Stacking,
    Validity,
    action_text,
    describe_leaf,
    estimate_benefit,
    match_programme,
    match_subsidies,
    one_year_after,
    region_condition,
)
from tests.scoring.subsidy_programmes import programme

ON = date(2026, 6, 1)
D = Decimal


def result(rung: str = "3.00", **stages: str) -> ResultSnapshot:
    return ResultSnapshot(D(rung), D(rung), {k: D(v) for k, v in stages.items()})


SH = {"district_code": "310117"}


def one(p: Programme, profile: dict[str, object], answers: dict[str, object] | None = None,
        res: ResultSnapshot | None = None, on: date = ON):  # type: ignore[no-untyped-def]  # fmt: skip
    (match,) = match_subsidies([p], profile, answers, res, on=on)
    return match


# --- validity ---------------------------------------------------------------------------------


def test_a_dated_programme_matches_only_inside_its_dates() -> None:
    p = programme()
    before = one(p, SH, on=date(2025, 12, 31))
    assert (before.outcome, before.validity.state) == ("not_eligible", "not_yet")
    assert before.headline("en") == "Not eligible: in force from 2026-01-01."
    assert before.headline("zh") == "不符合：该政策自2026-01-01起施行。"
    assert before.validity.text("en") == "in force from 2026-01-01; not yet on 2025-12-31"
    assert before.validity.text("zh") == "自2026-01-01起施行，评估日尚未生效"
    assert one(p, SH, on=date(2026, 1, 1)).outcome == "eligible"
    assert one(p, SH, on=date(2026, 12, 31)).outcome == "eligible"
    after = one(p, SH, on=date(2027, 1, 1))
    assert (after.outcome, after.verdict, after.validity.state) == (
        "not_eligible", "met", "expired",
    )  # fmt: skip
    assert after.headline("en") == "Not eligible: ended on 2026-12-31."
    assert after.headline("zh") == "不符合：该政策已于2026-12-31截止。"
    assert after.validity.text("en") == "ended on 2026-12-31"
    assert after.validity.text("zh") == "已于2026-12-31截止"


def test_last_confirmed_over_twelve_months_ago_turns_eligible_into_likely() -> None:
    p = programme(validity="status: ongoing\nvalid_from: 2024-02-29\nlast_confirmed: 2024-02-29\n")
    fresh = one(p, SH, on=date(2025, 2, 28))
    assert fresh.outcome == "eligible" and not fresh.validity.stale
    assert fresh.validity.text("en") == "ongoing (since 2024-02-29); last confirmed 2024-02-29"
    assert fresh.validity.text("zh") == "长期执行（自2024-02-29起）；最近确认于2024-02-29"
    stale = one(p, SH, on=date(2025, 3, 1))
    assert stale.outcome == "likely" and stale.validity.stale
    ((note),) = stale.confirm
    assert note.id == "still_in_force"
    assert (
        note.text.en == "that it is still in force (last confirmed 2024-02-29, over 12 months ago)"
    )
    assert stale.validity.text("en").endswith("last confirmed 2024-02-29, over 12 months ago")
    assert stale.validity.text("zh").endswith("最近确认于2024-02-29，已超过12个月")
    assert (
        stale.headline("en") == "Likely: every condition that can be checked holds; 1 to confirm."
    )
    assert stale.headline("zh") == "很可能符合：可核对的条件均已满足，另有1项待确认。"


def test_one_year_after() -> None:
    assert one_year_after(date(2024, 2, 29)) == date(2025, 2, 28)
    assert one_year_after(date(2025, 1, 31)) == date(2026, 1, 31)


def test_a_dated_programme_also_goes_stale() -> None:
    p = programme(validity="valid_until: 2030-01-01\nlast_confirmed: 2024-01-01\n")
    match = one(p, SH)
    assert match.outcome == "likely" and match.validity.text("en") == (
        "in force … – 2030-01-01; last confirmed 2024-01-01, over 12 months ago"
    )
    assert match.validity.text("zh") == "有效期…至2030-01-01；最近确认于2024-01-01，已超过12个月"


def test_unknown_validity_is_to_confirm_without_an_amount() -> None:
    p = programme(
        "eligibility: {field: profile.rd_spend_cny, op: gt, value: 0}\n",
        validity="status: unconfirmed\n",
        benefit="{amount_cny: {value: 50000, confidence: verified}}",
    )
    match = one(p, {**SH, "rd_spend_cny": 10})
    assert match.outcome == "to_confirm"
    assert match.estimate.kind == "withheld" and match.estimate.amount_cny is None
    assert match.estimate.text.en == "no amount until the programme is confirmed"
    assert [note.id for note in match.confirm] == ["in_force"]
    assert match.confirm[0].text.en == "whether the programme is in force on 2026-06-01"
    assert match.headline("en") == (
        "To confirm: whether the programme is in force on 2026-06-01 cannot be established; "
        "no amount is shown."
    )
    assert match.headline("zh").startswith("待确认：无法确定该政策在评估日（2026-06-01）")
    assert match.validity.text("en") == (
        "no dates in the sources: whether it is in force on 2026-06-01 is not established"
    )
    assert match.validity.text("zh").startswith("来源未给出有效期")
    # Conditions come first: a firm that fails them is not eligible, still without an amount.
    failing = one(p, {**SH, "rd_spend_cny": 0})
    assert failing.outcome == "not_eligible" and failing.estimate.kind == "withheld"
    seen = programme(validity="status: unconfirmed\nlast_confirmed: 2020-05-01\n")
    assert (
        one(seen, SH)
        .validity.text("en")
        .endswith("; last confirmed 2020-05-01, over 12 months ago")
    )


def test_ongoing_without_start() -> None:
    p = programme(validity="status: ongoing\nlast_confirmed: 2026-05-01\n")
    match = one(p, SH)
    assert match.outcome == "eligible"
    assert match.validity.text("en") == "ongoing; last confirmed 2026-05-01"
    assert match.validity.text("zh") == "长期执行；最近确认于2026-05-01"
    assert match.validity.to_dict("en") == {
        "status": "ongoing", "valid_from": None, "valid_until": None,
        "last_confirmed": "2026-05-01", "state": "in_force", "stale": False,
        "text": "ongoing; last confirmed 2026-05-01",
    }  # fmt: skip


def test_legacy_window_status() -> None:
    p = programme()
    assert p.window_status(date(2025, 1, 1)) == "upcoming"
    assert p.window_status(ON) == "open"
    assert p.window_status(date(2027, 1, 1)) == "closed"
    # It was "open": a guess in the firm's favour where matching says "to confirm".
    assert programme(validity="status: unconfirmed\n").window_status(ON) == "unknown"


ANNUAL = "status: annual\nvalid_from: 2024-05-24\nlast_confirmed: 2026-05-01\n"


def test_an_annual_call_has_this_years_window_to_confirm() -> None:
    """An annual call (a programme whose window each year's notice sets) read "open" on any
    date and could match "eligible" with nothing to confirm: the window is now "unknown" and
    this year's window an item to confirm, so the verdict is at best "likely"."""
    p = programme(
        "eligibility: {field: profile.rd_spend_cny, op: gt, value: 0}\n",
        validity=ANNUAL,
        benefit="{amount_cny: {value: 50000, confidence: secondary}}",
    )
    assert p.validity.status == "annual"
    assert p.window_status(ON) == "unknown"
    assert p.window_status(date(2024, 1, 1)) == "upcoming"  # before the framework's start
    match = one(p, {**SH, "rd_spend_cny": 10})
    assert (match.outcome, match.verdict, match.validity.state) == ("likely", "met", "in_force")
    assert [note.id for note in match.confirm] == ["application_window"]
    assert match.confirm[0].text.en == (
        "this year's application window (each year's notice sets it; check the current notice)"
    )
    assert match.confirm[0].text.zh == "本年度申报窗口（每年发布申报通知，以当年通知为准）"
    assert match.headline("en") == (
        "Likely: every condition that can be checked holds; 1 to confirm."
    )
    # the framework is in force: the amount is shown
    assert match.estimate.amount_cny == D("50000.00")
    assert match.validity.text("en") == (
        "annual call (since 2024-05-24): this year's window to confirm; last confirmed 2026-05-01"
    )
    assert match.validity.text("zh") == (
        "每年申报（自2024-05-24起），本年度申报窗口待确认；最近确认于2026-05-01"
    )
    assert match.validity.to_dict("en")["status"] == "annual"
    # a stale annual call has both items; a failing firm has none
    stale = one(p, {**SH, "rd_spend_cny": 10}, on=date(2027, 6, 1))
    assert [note.id for note in stale.confirm] == ["still_in_force", "application_window"]
    assert one(p, {**SH, "rd_spend_cny": 0}).confirm == ()
    # near stays near, with the window to confirm
    near = programme("eligibility: {field: result.rung, op: gte, value: 3.25}\n", validity=ANNUAL)
    near_match = one(near, SH, res=result("3.00"))
    assert near_match.outcome == "near"
    assert [note.id for note in near_match.confirm] == ["application_window"]


# --- regions and scope ------------------------------------------------------------------------


def test_national_programme_without_conditions_has_no_requirement() -> None:
    p = programme(level="national", region="100000")
    assert p.requirement() is None and region_condition("100000") is None
    match = one(p, {})
    assert (match.outcome, match.reasons, match.todo) == ("eligible", (), ())
    assert match.headline("zh") == "符合：所有条件均已根据企业填报的信息确认。"


def test_district_programme_needs_the_district() -> None:
    p = programme(level="district", region="310116")
    assert p.requirement() == region_condition("310116")
    match = one(p, SH)
    assert match.outcome == "not_eligible"
    assert [r.text("en") for r in match.reasons] == ["not met: the firm is in Jinshan District"]
    assert [r.text("zh") for r in match.reasons] == ["不满足：企业位于金山区"]
    assert match.headline("en") == "Not eligible: 1 condition(s) not met."
    assert match.headline("zh") == "不符合：1项条件不满足。"
    missing = one(p, {})
    assert [r.text("en") for r in missing.reasons] == [
        "not declared: the firm is in Jinshan District"
    ]
    assert [r.text("zh") for r in missing.reasons] == ["未填报：企业位于金山区"]
    assert missing.missing_facts == ("district_code",)
    assert missing.to_dict("en")["missing_facts"] == [
        {"name": "district_code", "label": "district", "declared_in": "profile"}
    ]
    assert missing.headline("en") == (
        "Not eligible on what was declared: 1 fact(s) missing; declare them to re-check."
    )
    assert missing.headline("zh") == "按已填报的信息不符合：缺少1项信息，填报后可重新核对。"


SCOPE = """\
scope:
  size_classes: [micro, small, medium]
  above_designated_size: true
  industries: ["34", "39"]
  industries_excluded: ["16"]
  districts: ["310117", "310115"]
  listed: false
  min_age_years: 2
  max_age_years: 10
"""


def test_scope_becomes_requirements_with_explanations() -> None:
    p = programme(SCOPE)
    firm = {
        **SH, "size_class": "small", "above_designated_size": True, "industry_code": "34",
        "listed": False, "founding_year": 2020,
    }  # fmt: skip
    match = one(p, firm)
    assert match.outcome == "eligible"
    assert [r.text("en") for r in match.reasons] == [
        "met: the firm is in Shanghai",
        "met: the firm is an SME (micro, small or medium)",
        "met: above designated size (规上: main-business revenue ≥ 20 M CNY)",
        "met: industry is GB/T 4754 division 34, 39",
        "met: industry is not GB/T 4754 division 16",
        "met: the firm is in Songjiang District, Pudong New Area",
        "met: not a listed company",
        "met: founded at least 2 years ago",
        "met: founded at most 10 years ago",
    ]
    assert [r.requirement("zh") for r in match.reasons][1:] == [
        "中小微企业", "规模以上工业企业（年主营业务收入2000万元及以上）",
        "行业属于国民经济行业分类大类34、39", "行业不属于国民经济行业分类大类16",
        "企业位于松江区、浦东新区", "非上市企业", "成立满2年", "成立不超过10年",
    ]  # fmt: skip
    # firm age counts calendar years up to the assessment date: 2026 − 2015 = 11 > 10
    old = one(p, {**firm, "founding_year": 2015})
    assert [r.text("en") for r in old.reasons] == ["not met: founded at most 10 years ago"]
    # a large listed firm is out of an SME programme's scope
    large = one(p, {**firm, "size_class": "large", "listed": True})
    assert [r.text("en") for r in large.reasons] == [
        "not met: the firm is an SME (micro, small or medium)",
        "not met: not a listed company",
    ]
    unknown_age = one(p, {**firm, "founding_year": None})
    assert unknown_age.missing_facts == ("founding_year",)


def test_other_scope_texts() -> None:
    scope = Scope(size_classes=("large",), above_designated_size=False, listed=True)
    assert [describe_leaf(leaf, "en") for leaf in scope.leaves()] == [
        "the firm is large", "below designated size (not 规上)", "a listed company",
    ]  # fmt: skip
    assert [describe_leaf(leaf, "zh") for leaf in scope.leaves()] == [
        "企业规模为大型企业", "规模以下企业", "上市企业",
    ]  # fmt: skip
    assert Scope(size_classes=("small", "medium")).leaves()[0].why == Text(
        "企业规模为小型或中型企业", "the firm is small or medium"
    )
    entry = programme(SCOPE).to_dict("en")["scope"]
    assert entry["requirements"][0] == "the firm is an SME (micro, small or medium)"  # type: ignore[index]
    assert entry["max_age_years"] == 10 and entry["source"] is None  # type: ignore[index]


# --- eligible / likely / near / not eligible --------------------------------------------------

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
    match = one(p, facts, {"legacy": "no"}, result(data_collection="3.00"))
    assert match.outcome == "eligible"
    assert all(r.met for r in match.reasons)
    assert [r.leaf.field for r in match.reasons] == [
        "profile.district_code", "profile.size_class", "profile.listed", "answers.legacy",
    ]  # fmt: skip
    assert match.reasons[1].text("en") == "met: size class is one of small, medium"
    assert match.reasons[1].text("zh") == "满足：企业规模属于small、medium"


def test_near_when_only_result_and_answer_leaves_fail_within_one_rung() -> None:
    p = programme(MIXED)
    facts = {**SH, "size_class": "small", "listed": False}
    match = one(p, facts, {"legacy": "yes"}, result(data_collection="3.25"))
    assert (match.outcome, match.verdict) == ("near", "near")
    assert [item.text("en") for item in match.todo] == [
        "reach 3.50 in data collection",
        "make this false: answers.legacy is yes",
    ]
    assert [item.text("zh") for item in match.todo] == [
        "数据采集阶段得分达到3.50",
        "需不再满足：answers.legacy为yes",
    ]
    assert match.headline("en") == (
        "Near: only 2 result or answer condition(s) fail, each within one rung."
    )
    assert match.headline("zh") == "接近符合：只差评估结果或回答中的2项，均在一个等级以内。"
    todo = match.to_dict("en")["todo"]
    assert todo[0] == {  # type: ignore[index]
        "field": "result.stages.data_collection", "op": "gte", "must_be": True,
        "value": "3.5", "text": "reach 3.50 in data collection", "why": None,
    }  # fmt: skip


def test_more_than_one_rung_away_is_not_near() -> None:
    p = programme(
        "eligibility:\n  all:\n    - {field: profile.size_class, op: in, value: [small]}\n"
        "    - {field: result.stages.data_collection, op: gte, value: 3.5}\n"
    )
    match = one(p, {**SH, "size_class": "small"}, res=result(data_collection="3.20"))
    assert match.outcome == "not_eligible" and match.todo == ()
    (reason,) = match.reasons
    assert reason.out_of_reach and reason.current == D("3.20")
    assert reason.text("en") == ("more than one rung away: data collection score ≥ 3.5 (now 3.20)")
    assert reason.text("zh") == "差距超过一个等级：数据采集阶段得分 ≥ 3.5（当前3.20）"
    assert reason.to_dict("en")["current"] == "3.20"
    assert match.missing_facts == ()


@pytest.mark.parametrize(
    ("op", "target", "current", "near"),
    [
        ("gte", "3.50", "3.25", True),  # exactly one rung
        ("gte", "3.50", "3.24", False),
        ("gt", "3.50", "3.26", True),
        ("gt", "3.50", "3.25", False),  # must exceed 3.50: more than one rung
    ],
)
def test_within_one_rung_boundaries(op: str, target: str, current: str, near: bool) -> None:
    p = programme(f"eligibility: {{field: result.overall, op: {op}, value: {target}}}\n")
    match = one(p, SH, res=ResultSnapshot(D(current), D("3.00")))
    assert match.outcome == ("near" if near else "not_eligible")


def test_result_conditions_without_a_result_or_improvement_cannot_be_near() -> None:
    p = programme("eligibility: {field: result.rung, op: gte, value: 3.25}\n")
    none = one(p, SH)
    assert none.outcome == "not_eligible" and none.reasons[0].missing
    assert none.missing_facts == ()  # a result is not a fact to declare
    # an upper bound (built in code; the loader accepts only gte/gt) is never reached by improving
    upper = replace(p, eligibility=Leaf("result.rung", "lt", D("3.25")))
    assert one(upper, SH, res=result("3.50")).outcome == "not_eligible"
    under_not = replace(p, eligibility=Leaf("result.rung", "gte", D("3.25")))
    from scoring.conditions import Not

    assert one(
        replace(p, eligibility=Not(under_not.eligibility)), SH, res=result("3.50")
    ).outcome == (  # type: ignore[arg-type]
        "not_eligible"
    )


def test_an_answer_condition_is_one_answer_away() -> None:
    p = programme(
        "eligibility:\n  field: answers.cloud_mode\n  op: in\n  value: [private, hybrid]\n"
        "  why: {zh: 采用私有云或混合云, en: private or hybrid cloud}\n"
    )
    match = one(p, SH, {"cloud_mode": "none"})
    assert match.outcome == "near"
    (item,) = match.to_dict("zh")["todo"]  # type: ignore[misc]
    assert item["value"] == ["private", "hybrid"] and item["why"] == "采用私有云或混合云"
    assert item["text"] == "需满足：采用私有云或混合云"


def test_any_prefers_a_fixable_alternative_over_a_cheaper_profile_one() -> None:
    p = programme(
        "eligibility:\n  any:\n    - {field: profile.listed, op: eq, value: true}\n"
        "    - all:\n        - {field: result.rung, op: gte, value: 3.25}\n"
        "        - {field: result.overall, op: gt, value: 3.1}\n"
    )
    match = one(p, {**SH, "listed": False}, res=result("3.00"))
    assert match.outcome == "near"
    assert [item.text("en") for item in match.todo] == [
        "reach rung 3.25 (Standardised)",
        "raise the overall score to > 3.10",
    ]
    assert [item.text("zh") for item in match.todo] == [
        "达到3.25级（规范级）",
        "总体得分提升到 > 3.10",
    ]


def test_not_eligible_lists_only_the_blocking_leaves() -> None:
    p = programme(MIXED)
    facts = {**SH, "size_class": "large", "listed": False}
    match = one(p, facts, {"legacy": "yes"}, result(data_collection="3.25"))
    assert match.outcome == "not_eligible"
    assert [r.leaf.field for r in match.reasons] == ["profile.size_class"]
    assert match.todo == () and match.confirm == ()
    # a data-collection score more than one rung short blocks too (the first alternative is named)
    far = one(p, {**facts, "size_class": "small"}, {"legacy": "no"}, result(data_collection="3.00"))
    assert [r.text("en") for r in far.reasons] == ["not met: Listed company is yes"]


def test_a_leaf_under_not_reads_negated() -> None:
    p = programme(CONFIRM)
    (met,) = one(p, {**SH, "other_municipal_funds": False}).reasons[1:]
    assert (
        met.text("en")
        == "met: it is not the case that Project already has other municipal funds is yes"
    )
    assert met.text("zh") == "满足：并非项目已获其他市级专项资金为是"
    (blocked,) = one(p, {**SH, "other_municipal_funds": True}).reasons
    assert blocked.negated and blocked.text("en").startswith("not met: it is not the case that")


def test_an_undeclared_fact_is_never_met_even_under_a_not() -> None:
    """A firm that left "other municipal funds" blank saw "met: it is not the case that the
    project already has other municipal funds" beside the item to confirm saying the same."""
    p = programme(CONFIRM)
    blank = one(p, SH)
    assert blank.outcome == "likely"
    assert [r.text("en") for r in blank.reasons] == ["met: the firm is in Shanghai"]
    assert [n.id for n in blank.confirm] == ["no_other_funds", "score"]
    declared = one(p, {**SH, "other_municipal_funds": False})
    assert [r.leaf.field for r in declared.reasons] == [
        "profile.district_code", "profile.other_municipal_funds",
    ]  # fmt: skip


THRESHOLDS = """\
eligibility:
  all:
    - any:
        - {field: profile.project_investment_cny, op: gt, value: 20000000,
           why: {zh: 项目总投资超过2000万元, en: project investment above 20 M CNY}}
        - all:
            - {field: profile.size_class, op: in, value: [micro, small, medium],
               why: {zh: 中小微企业, en: the firm is an SME}}
            - {field: profile.project_investment_cny, op: gt, value: 10000000,
               why: {zh: 中小企业项目总投资超过1000万元, en: SME project investment above 10 M CNY}}
    - {field: profile.project_started, op: eq, value: true,
       why: {zh: 项目已开工, en: construction has started}}
"""


def test_only_the_branches_that_decide_are_met() -> None:
    """A large firm with a 25 M CNY project saw "met: SME project investment above 10 M CNY":
    a leaf of an alternative that does not apply (the firm is no SME)."""
    p = programme(THRESHOLDS)
    large = {**SH, "size_class": "large", "project_investment_cny": 25_000_000,
             "project_started": True}  # fmt: skip
    match = one(p, large)
    assert match.outcome == "eligible"
    assert [r.text("en") for r in match.reasons] == [
        "met: the firm is in Shanghai",
        "met: project investment above 20 M CNY",
        "met: construction has started",
    ]
    # an SME with 15 M CNY qualifies through the second alternative only
    sme = one(p, {**large, "size_class": "small", "project_investment_cny": 15_000_000})
    assert [r.text("en") for r in sme.reasons] == [
        "met: the firm is in Shanghai",
        "met: the firm is an SME",
        "met: SME project investment above 10 M CNY",
        "met: construction has started",
    ]
    # both alternatives hold: each is a reason
    both = one(p, {**large, "size_class": "small"})
    assert len(both.reasons) == 5 and all(r.met for r in both.reasons)


def test_a_near_match_lists_as_met_only_the_branch_its_to_do_completes() -> None:
    p = programme(
        "eligibility:\n  any:\n    - all:\n"
        "        - {field: profile.listed, op: eq, value: true}\n"
        "        - {field: profile.tech_sme, op: eq, value: true}\n"
        "    - all:\n        - {field: profile.high_tech_enterprise, op: eq, value: true}\n"
        "        - {field: result.rung, op: gte, value: 3.25}\n"
    )
    match = one(p, {**SH, "listed": True, "tech_sme": False, "high_tech_enterprise": True},
                res=result("3.00"))  # fmt: skip
    assert match.outcome == "near"
    assert [t.text("en") for t in match.todo] == ["reach rung 3.25 (Standardised)"]
    # "listed" holds, but in the alternative that fails for good (tech_sme is false)
    assert [r.leaf.field for r in match.reasons] == [
        "profile.district_code", "profile.high_tech_enterprise",
    ]  # fmt: skip


def test_not_eligible_through_a_not_and_an_any() -> None:
    p = programme(
        "eligibility:\n  all:\n    - not: {field: profile.listed, op: eq, value: true}\n"
        "    - any:\n        - {field: profile.tech_sme, op: eq, value: true}\n"
        "        - {field: profile.high_tech_enterprise, op: eq, value: true}\n"
        "        - {field: result.rung, op: gte, value: 3.25}\n"
    )
    match = one(p, {**SH, "listed": True}, res=result("3.50"))
    assert match.outcome == "not_eligible"
    assert [r.leaf.field for r in match.reasons] == ["profile.listed"]


def test_near_requires_every_all_part_fixable() -> None:
    p = programme(
        "eligibility:\n  all:\n    - {field: result.rung, op: gte, value: 3.25}\n"
        "    - {field: profile.tech_sme, op: eq, value: true}\n"
    )
    match = one(p, SH, res=result("3.00"))
    assert match.outcome == "not_eligible"
    assert match.missing_facts == ("tech_sme",)


def test_derived_fact_reports_its_undeclared_inputs_as_missing() -> None:
    p = programme("eligibility: {field: profile.rd_intensity_pct, op: gte, value: 5}\n")
    assert one(p, SH).missing_facts == ("rd_spend_cny", "annual_revenue_cny")
    assert one(p, {**SH, "annual_revenue_cny": 10}).missing_facts == ("rd_spend_cny",)
    ok = one(p, {**SH, "annual_revenue_cny": 100, "rd_spend_cny": 5})
    assert ok.outcome == "eligible"


CONFIRM = """\
eligibility:
  not: {field: profile.other_municipal_funds, op: eq, value: true}
to_confirm:
  - id: no_other_funds
    text: {zh: 未获其他市级资金, en: no other municipal funds}
    unless: {field: profile.other_municipal_funds, op: eq, value: false}
  - id: score
    text: {zh: 评价得分60分以上, en: an evaluation score of at least 60}
"""


def test_items_to_confirm_make_a_match_likely_until_declared_facts_settle_them() -> None:
    p = programme(CONFIRM)
    undeclared = one(p, SH)
    assert undeclared.outcome == "likely"
    assert [(n.id, n.facts) for n in undeclared.confirm] == [
        ("no_other_funds", ("other_municipal_funds",)),
        ("score", ()),
    ]
    assert undeclared.to_dict("zh")["to_confirm"] == [
        {
            "id": "no_other_funds", "text": "未获其他市级资金",
            "facts": [{"name": "other_municipal_funds", "label": "项目已获其他市级专项资金",
                       "declared_in": "facts"}],
        },
        {"id": "score", "text": "评价得分60分以上", "facts": []},
    ]  # fmt: skip
    settled = one(p, {**SH, "other_municipal_funds": False})
    assert [n.id for n in settled.confirm] == ["score"]
    blocked = one(p, {**SH, "other_municipal_funds": True})
    assert blocked.outcome == "not_eligible" and blocked.confirm == ()
    # with nothing left to confirm the match is eligible
    plain = replace(p, to_confirm=p.to_confirm[:1])
    assert one(plain, {**SH, "other_municipal_funds": False}).outcome == "eligible"


def test_an_unverified_programme_is_at_best_likely() -> None:
    match = one(programme(confidence="unverified"), SH)
    assert match.outcome == "likely"
    assert [n.id for n in match.confirm] == ["unverified_source"]
    assert match.confirm[0].text.en == (
        "the conditions come from an unverified source; confirm them with the issuer"
    )


def test_match_programme_directly_and_sorting() -> None:
    p = programme()
    assert match_programme(p, Facts(profile=SH), on=ON).outcome == "eligible"
    q = replace(programme(validity="valid_until: 2020-01-01\nlast_confirmed: 2019-01-01\n"), id="q")
    r = replace(programme(confidence="unverified"), id="r")
    s = replace(programme(validity="status: unconfirmed\n"), id="s")
    t = replace(programme("eligibility: {field: result.rung, op: gte, value: 3.25}\n"), id="t")
    order = [
        (m.programme.id, m.outcome)
        for m in match_subsidies([q, t, s, r, p], SH, {}, result("3.00"), on=ON)
    ]
    assert order == [
        ("demo", "eligible"), ("r", "likely"), ("t", "near"), ("s", "to_confirm"),
        ("q", "not_eligible"),
    ]  # fmt: skip


# --- stacking and funding ---------------------------------------------------------------------


def test_stacking_is_symmetric_and_names_its_rule() -> None:
    rule = Stacking(rule=Text("择一", "one of"), source="文件", excludes=("b",))
    group = Stacking(rule=Text("同组", "same group"), source="组", group="g")
    a = replace(programme(), id="a", stacking=rule)
    b = replace(programme(), id="b")
    c = replace(programme(), id="c", stacking=group)
    d = replace(programme(), id="d", stacking=group)
    assert a.excludes(b) and b.excludes(a)
    assert a.stacking_with(b) is rule and b.stacking_with(a) is rule
    assert c.excludes(d) and c.stacking_with(d) is group
    assert not a.excludes(c) and not c.excludes(b) and not a.excludes(a)
    assert not b.excludes(c)
    assert rule.to_dict("en") == {
        "group": None,
        "excludes": ["b"],
        "rule": "one of",
        "source": "文件",
    }


def test_funding_covers_stages_and_questions() -> None:
    funds = Funding(stages=("automation",), questions=("dig_rate",))
    assert funds.covers("automation") and funds.covers("digitization", "dig_rate")
    assert not funds.covers("digitization") and not funds.covers("digitization", "other")
    assert funds.to_dict() == {"stages": ["automation"], "questions": ["dig_rate"]}


# --- estimates --------------------------------------------------------------------------------

V = "verified"
S = "secondary"
U = "unverified"


def param(value: str | int, confidence: str = V) -> Param:
    return Param(D(value), confidence)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("benefit", "profile", "kind", "amount", "confidence", "en", "zh"),
    [
        (Benefit(amount_cny=param(500000)), {}, "fixed", "500000.00", V,
         "500,000 CNY (fixed amount) (verified parameters)", "500,000元（定额）（参数已核实）"),
        (Benefit(amount_cny=param(500000, U)), {}, "unverified", None, None,
         "no estimate: the amount is unverified", "支持金额未经核实，不作估算"),
        (Benefit(cap_cny=param(300000, S)), {}, "up_to", "300000.00", S,
         "up to 300,000 CNY (parameters from secondary sources)",
         "最高300,000元（参数来自二手资料）"),
        (Benefit(cap_cny=param(300000, U)), {}, "unverified", None, None,
         "no estimate: the cap is unverified", "支持上限未经核实，不作估算"),
        (Benefit(cap_cny="unknown"), {}, "unknown", None, None,
         "amount not published (unknown)", "支持金额未公布（未知）"),
        (Benefit(), {}, "none", None, None, "no cash benefit", "非现金支持"),
        (Benefit(rate="unknown", cap_cny=param(5)), {}, "unknown", None, None,
         "support rate not published (unknown)", "支持比例未公布（未知）"),
        (Benefit(rate=param("0.1", U), basis="rd_spend_cny"), {"rd_spend_cny": 10}, "unverified",
         None, None, "no estimate: the rate is unverified", "支持比例未经核实，不作估算"),
        (Benefit(rate=param("0.1"), basis="rd_spend_cny", years=param(3, U)),
         {"rd_spend_cny": 10}, "unverified", None, None,
         "no estimate: the number of years is unverified", "支持年限未经核实，不作估算"),
        (Benefit(rate=param("0.1"), basis="rd_spend_cny", cap_cny=param(500000)), {},
         "depends_on", None, None,
         "depends on R&D spend last year: 10% of it, capped at 500,000 CNY",
         "取决于上年度研发费用：按其10%，最高500,000元"),
        (Benefit(rate=param("0.8"), basis="diagnosis_cost_cny", cap_cny="unknown"), {},
         "depends_on", None, None,
         "depends on industrial-internet diagnosis cost: 80% of it, cap unknown",
         "取决于工业互联网诊断服务费用：按其80%，上限未知"),
        (Benefit(rate=param("0.8"), basis="diagnosis_cost_cny", cap_cny=param(9, U)), {},
         "depends_on", None, None,
         "depends on industrial-internet diagnosis cost: 80% of it, cap unknown",
         "取决于工业互联网诊断服务费用：按其80%，上限未知"),
        (Benefit(rate=param("0.5"), basis="loan_interest_annual_cny", years=param(3, S)), {},
         "depends_on", None, None,
         "depends on annual interest on the project's bank loan: 50% of it a year for 3 years",
         "取决于项目银行贷款年利息：按其每年50%、连续3年"),
        (Benefit(rate=param("0.05", S), basis="leased_equipment_value_cny",
                 cap_cny=param(20000000)),
         {"leased_equipment_value_cny": D("1234567")}, "computed", "61728.35", S,
         "about 61,728.35 CNY (parameters from secondary sources)",
         "约61,728.35元（参数来自二手资料）"),
        (Benefit(rate=param("0.5"), basis="diagnosis_cost_cny"), {"diagnosis_cost_cny": 3},
         "computed", "1.50", V, "about 1.50 CNY (verified parameters)", "约1.50元（参数已核实）"),
    ],
)  # fmt: skip
def test_estimates(
    benefit: Benefit,
    profile: dict[str, object],
    kind: str,
    amount: str | None,
    confidence: str | None,
    en: str,
    zh: str,
) -> None:
    estimate = estimate_benefit(benefit, profile)
    assert estimate.kind == kind
    assert (None if estimate.amount_cny is None else str(estimate.amount_cny)) == amount
    assert estimate.confidence == confidence
    assert (estimate.text.en, estimate.text.zh) == (en, zh)


def test_formulas_and_caps() -> None:
    capped = estimate_benefit(
        Benefit(rate=param("0.3", S), basis="first_unit_contract_cny", cap_cny=param(20000000)),
        {"first_unit_contract_cny": 80000000},
    )
    assert capped.formula == Text(
        "min(30% × 80,000,000, 20,000,000) = 20,000,000元",
        "min(30% × 80,000,000, 20,000,000) = 20,000,000 CNY",
    )
    assert capped.confidence == S  # the weakest parameter used
    years = estimate_benefit(
        Benefit(rate=param("0.5", S), basis="loan_interest_annual_cny", years=param(3, S),
                cap_cny=param(20000000, S)),
        {"loan_interest_annual_cny": 600000},
    )  # fmt: skip
    assert years.formula is not None
    assert years.formula.en == "min(50% × 600,000 × 3, 20,000,000) = 900,000 CNY"
    unknown_cap = estimate_benefit(
        Benefit(rate=param("0.8", S), basis="first_unit_premium_cny", cap_cny="unknown"),
        {"first_unit_premium_cny": 1500000},
    )
    assert unknown_cap.formula is not None
    assert unknown_cap.formula.en == "80% × 1,500,000 = 1,200,000 CNY (cap unknown; may be lower)"
    assert unknown_cap.text.zh == "约1,200,000元（上限未知，实际可能更低）（参数来自二手资料）"
    unverified_cap = estimate_benefit(
        Benefit(rate=param("0.8"), basis="first_unit_premium_cny", cap_cny=param(9, U)),
        {"first_unit_premium_cny": 100},
    )
    assert (unverified_cap.amount_cny, unverified_cap.confidence) == (D("80.00"), V)
    assert (
        unverified_cap.text.en
        == "about 80 CNY (cap unverified; may be lower) (verified parameters)"
    )
    assert unverified_cap.to_dict("en") == {
        "kind": "computed", "amount_cny": "80.00", "ceiling": False, "confidence": "verified",
        "formula": "80% × 100 = 80 CNY (cap unverified; may be lower)",
        "text": "about 80 CNY (cap unverified; may be lower) (verified parameters)", "basis": None,
    }  # fmt: skip


def ceiling(value: str, confidence: str = V) -> Param:
    return Param(D(value), confidence, up_to=True)  # type: ignore[arg-type]


def test_a_ceiling_rate_gives_an_up_to_amount() -> None:
    """ "≤ 10 %" of 25 M CNY was shown as "about 2,500,000 CNY": the source gives a maximum, and
    the issuer may pay less. Such an amount now reads "up to"; an exact rate stays "about"."""
    techtrans = Benefit(rate=ceiling("0.10"), basis="project_investment_cny",
                        cap_cny=param(100000000))  # fmt: skip
    estimate = estimate_benefit(techtrans, {"project_investment_cny": 25000000})
    assert (estimate.kind, estimate.amount_cny, estimate.ceiling) == (
        "computed", D("2500000.00"), True,
    )  # fmt: skip
    assert estimate.text == Text(
        "最高约2,500,000元（参数已核实）", "up to 2,500,000 CNY (verified parameters)"
    )
    assert estimate.formula == Text(
        "min(10% × 25,000,000, 100,000,000) = 2,500,000元（10%为最高比例）",
        "min(10% × 25,000,000, 100,000,000) = 2,500,000 CNY (10% is the maximum rate)",
    )
    assert estimate.to_dict("en")["ceiling"] is True
    # the cap binds: still at most
    first_unit = estimate_benefit(
        Benefit(rate=ceiling("0.3", S), basis="first_unit_contract_cny", cap_cny=param(20000000)),
        {"first_unit_contract_cny": 80000000},
    )
    assert first_unit.text.en == "up to 20,000,000 CNY (parameters from secondary sources)"
    # an unknown cap on a ceiling rate
    insurance = estimate_benefit(
        Benefit(rate=ceiling("0.8", S), basis="first_unit_premium_cny", cap_cny="unknown"),
        {"first_unit_premium_cny": 1500000}, kind="insurance_compensation",
    )  # fmt: skip
    assert insurance.text.zh == "最高约1,200,000元（上限未知，实际可能更低）（参数来自二手资料）"
    assert insurance.text.en == (
        "up to 1,200,000 CNY (cap unknown; may be lower) (parameters from secondary sources)"
    )
    # the basis undeclared: the rate itself reads as a maximum
    pending = estimate_benefit(techtrans, {})
    assert pending.kind == "depends_on" and not pending.ceiling
    assert pending.text == Text(
        "取决于技改或智能化项目总投资：按其10%以内，最高100,000,000元",
        "depends on total investment of the transformation project: up to 10% of it, capped "
        "at 100,000,000 CNY",
    )
    yearly = estimate_benefit(
        Benefit(rate=ceiling("0.5"), basis="loan_interest_annual_cny", years=param(3)), {}
    )
    assert yearly.text == Text(
        "取决于项目银行贷款年利息：按其每年50%以内、连续3年",
        "depends on annual interest on the project's bank loan: up to 50% of it a year for 3 years",
    )
    # an exact rate stays "about", and so does a fixed amount
    exact = estimate_benefit(
        Benefit(rate=param("0.5", S), basis="loan_interest_annual_cny", years=param(3, S)),
        {"loan_interest_annual_cny": 600000}, kind="loan_interest",
    )  # fmt: skip
    assert not exact.ceiling
    assert exact.text.en == "about 900,000 CNY (parameters from secondary sources)"
    assert exact.to_dict("en")["ceiling"] is False
    # tax relief at a ceiling rate (none in the catalogue today) says so too
    credit = estimate_benefit(
        Benefit(rate=ceiling("0.05", S), basis="deductible_input_vat_cny"),
        {"deductible_input_vat_cny": 30000000}, kind="tax_credit",
    )  # fmt: skip
    assert credit.text == Text(
        "最高约可抵减应纳税额1,500,000元（参数来自二手资料）",
        "reduces tax payable by up to 1,500,000 CNY (parameters from secondary sources)",
    )
    deduction = estimate_benefit(
        Benefit(rate=ceiling("1.0", S), basis="rd_spend_cny"), {"rd_spend_cny": 6300000},
        kind="tax_deduction",
    )  # fmt: skip
    assert deduction.text.en.startswith("up to 6,300,000 CNY of additional pre-tax deduction")
    assert deduction.text.zh.startswith("可加计扣除最高约6,300,000元")


def test_the_catalogue_entry_says_whether_the_rate_is_a_ceiling() -> None:
    p = programme(
        benefit="{rate: {value: 0.1, confidence: verified, up_to: true}, "
        "basis: project_investment_cny}"
    )
    assert p.benefit.rate == Param(D("0.1"), "verified", up_to=True)
    assert p.to_dict("en")["benefit"]["rate_up_to"] is True  # type: ignore[index]
    exact = programme(benefit="{rate: {value: 0.1, confidence: verified}, basis: rd_spend_cny}")
    assert exact.to_dict("en")["benefit"]["rate_up_to"] is False  # type: ignore[index]
    assert programme().to_dict("en")["benefit"]["rate_up_to"] is False  # type: ignore[index]


@pytest.mark.parametrize("base", [D("1e27"), D("1e400")])
def test_an_amount_of_any_size_is_rounded_to_the_fen(base: D) -> None:
    """An amount of ¥10^26 or more made the rounding to the fen raise InvalidOperation (a 500
    for the firm and no submission); facts that large are now refused, but a profile given
    to the engine directly (the CLI's --profile) may still hold one."""
    estimate = estimate_benefit(
        Benefit(rate=param("0.1", S), basis="rd_spend_cny"), {"rd_spend_cny": base}
    )
    assert estimate.kind == "computed" and estimate.amount_cny == base / 10


def test_a_reason_shows_the_score_as_the_ladder_rounds_it() -> None:
    """Half-up, as every score is shown: Python's format rounds a Decimal half-even, so a
    score of exactly 2.905 read "now 2.90" beside a result that says 2.91."""
    reason = Reason(Leaf("result.overall", "gte", Decimal("3.50")), False, out_of_reach=True,
                    current=Decimal("2.905"))  # fmt: skip
    assert reason.text("en").endswith("(now 2.91)")
    assert reason.text("zh").endswith("（当前2.91）")
    assert reason.to_dict("en")["current"] == "2.91"


def test_tax_relief_says_what_the_amount_is() -> None:
    deduction = estimate_benefit(
        Benefit(rate=param("1.0", S), basis="rd_spend_cny"), {"rd_spend_cny": 6300000},
        kind="tax_deduction",
    )  # fmt: skip
    assert deduction.text.en == (
        "about 6,300,000 CNY of additional pre-tax deduction (reduces taxable income; not cash) "
        "(parameters from secondary sources)"
    )
    assert deduction.text.zh == (
        "可加计扣除约6,300,000元（减少应纳税所得额，非现金）（参数来自二手资料）"
    )
    credit = estimate_benefit(
        Benefit(rate=param("0.05", S), basis="deductible_input_vat_cny"),
        {"deductible_input_vat_cny": 30000000}, kind="tax_credit",
    )  # fmt: skip
    assert credit.text.en == (
        "reduces tax payable by about 1,500,000 CNY (parameters from secondary sources)"
    )
    assert credit.text.zh == "约可抵减应纳税额1,500,000元（参数来自二手资料）"


# --- texts and JSON ---------------------------------------------------------------------------


def test_leaf_texts_without_why() -> None:
    assert describe_leaf(Leaf("profile.niche_years", "gte", D(2)), "en") == (
        "Years in the niche market ≥ 2"
    )
    assert describe_leaf(Leaf("profile.listed", "eq", False), "zh") == "上市企业为否"
    assert describe_leaf(Leaf("profile.listed", "ne", True), "en") == "Listed company is not yes"
    assert describe_leaf(Leaf("profile.colour", "eq", "red"), "en") == "colour is red"
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
    assert action_text(Leaf("result.rung", "gte", D("3.5")), "zh") == "达到3.50级（集成级）"
    assert action_text(Leaf("result.rung", "gte", D("3.6")), "en") == "reach rung 3.60"
    assert action_text(Leaf("result.rung", "gt", D("3.6")), "zh") == "达到 > 3.60级"
    assert action_text(Leaf("result.overall", "gte", D("3.6")), "zh") == "总体得分提升到3.60"
    assert action_text(Leaf("result.stages.quality", "gte", D(3)), "en") == "reach 3.00 in quality"
    assert action_text(Leaf("answers.q", "eq", "a"), "en") == "make this true: answers.q is a"
    assert action_text(Leaf("result.rung", "lt", D(4)), "zh") == "需满足：成熟度等级 < 4"


def test_programme_and_match_json() -> None:
    p = programme(
        "notes: {zh: 注, en: note}\nrecommendations: [R3]\n" + CONFIRM
        + "funds: {stages: [automation]}\n"
        + "stacking: {group: g, rule: {zh: 择一, en: one of}, source: 文件第3条}\n",
        benefit="{rate: {value: 0.1, confidence: verified}, basis: rd_spend_cny, "
        "cap_cny: unknown, note: {zh: 注, en: n}}",
    )  # fmt: skip
    entry = p.to_dict("en")
    assert entry["benefit"] == {
        "rate": "0.1", "rate_up_to": False, "basis": "rd_spend_cny",
        "basis_label": "R&D spend last year", "years": None, "cap_cny": "unknown",
        "amount_cny": None, "confidence": {"rate": "verified"}, "note": "n",
    }  # fmt: skip
    assert entry["confidence_note"] == (
        "Parameters come from secondary sources; check the official text before applying."
    )
    assert entry["notes"] == "note" and entry["recommendations"] == ["R3"]
    assert entry["format"] == 2 and entry["last_confirmed"] == "2026-01-02"
    assert entry["eligibility"] == [
        "it is not the case that Project already has other municipal funds is yes"
    ]
    assert entry["to_confirm"] == [
        {"id": "no_other_funds", "text": "no other municipal funds"},
        {"id": "score", "text": "an evaluation score of at least 60"},
    ]
    assert entry["stacking"] == {
        "group": "g", "excludes": [], "rule": "one of", "source": "文件第3条",
    }  # fmt: skip
    assert entry["funds"] == {"stages": ["automation"], "questions": []}
    assert entry["source"] == {
        "document": "演示〔2026〕1号", "issued_by": "演示", "title": None,
        "number": "演示〔2026〕1号", "description": None, "year": 2026, "url": None, "also": [],
    }  # fmt: skip
    fixed = programme(
        benefit="{amount_cny: {value: 5, confidence: secondary}, note: {zh: a, en: b}}"
    )
    assert fixed.to_dict("zh")["benefit"] == {
        "rate": None, "rate_up_to": False, "basis": None, "basis_label": None, "years": None,
        "cap_cny": None, "amount_cny": "5", "confidence": {"amount_cny": "secondary"}, "note": "a",
    }  # fmt: skip
    years = programme(
        benefit="{rate: {value: 0.5, confidence: verified}, basis: loan_interest_annual_cny, "
        "years: {value: 3, confidence: secondary}}"
    )
    assert years.to_dict("en")["benefit"]["years"] == 3  # type: ignore[index]
    match = one(p, {**SH, "rd_spend_cny": 10, "other_municipal_funds": False}).to_dict("en")
    json.dumps(match)
    assert match["format"] == 2 and match["outcome"] == "likely"
    assert "status" not in match and "fit" not in match  # format-1 keys, dropped
    assert match["headline"] == "Likely: every condition that can be checked holds; 1 to confirm."
    assert match["notes"] == "note" and match["on"] == "2026-06-01"
    assert match["last_confirmed"] == "2026-01-02"
    assert match["estimate"]["kind"] == "computed"  # type: ignore[index]
    assert match["stacking"]["group"] == "g"  # type: ignore[index]
    assert match["validity"]["state"] == "in_force"  # type: ignore[index]
    assert match["reasons"][1] == {  # type: ignore[index]
        "field": "profile.other_municipal_funds", "met": True, "missing": False,
        "out_of_reach": False, "current": None, "negated": True,
        "requirement": "it is not the case that Project already has other municipal funds is yes",
        "text": "met: it is not the case that Project already has other municipal funds is yes",
    }  # fmt: skip
    plain = one(programme(), SH).to_dict("zh")
    assert plain["notes"] is None and plain["valid_from"] == "2026-01-01"
    assert plain["stacking"] is None and plain["to_confirm"] == []


def test_source_citation() -> None:
    both = Source(issued_by="i", number="沪经信〔2025〕1号", title="通知")
    assert both.document == "沪经信〔2025〕1号《通知》"
    assert Source(issued_by="i", title="通知").document == "通知"
    assert Source(issued_by="i", description="某政策").document == "某政策"
    assert Source(issued_by="i").document == ""


def test_validity_model() -> None:
    v = Validity(status="dated", valid_from=date(2026, 1, 1), valid_until=date(2026, 2, 1))
    assert v.state(date(2026, 1, 15)) == "in_force" and not v.stale(date(2030, 1, 1))
    assert v.check(date(2026, 1, 15)).text("en") == "in force 2026-01-01 – 2026-02-01"
    assert v.check(date(2026, 1, 15)).text("zh") == "有效期2026-01-01至2026-02-01"


# --- facts ------------------------------------------------------------------------------------


def test_fact_definitions() -> None:
    assert len(FACTS_BY_NAME) == len(FACTS)
    for fact in FACTS:
        if fact.type in ("money", "percent"):
            assert fact.unit is not None and fact.min is not None
        if fact.type == "integer":
            assert fact.min is not None
        if fact.type == "choice":
            assert fact.choices
    entry = FACTS_BY_NAME["zjtx_status"].to_dict("en")
    assert entry["choices"][1] == {"id": "innovative", "label": "Innovative SME"}  # type: ignore[index]
    money = FACTS_BY_NAME["rd_spend_cny"].to_dict("zh")
    assert (money["unit"], money["min"], money["max"]) == ("元", "0", "10000000000000")
    founded = FACTS_BY_NAME["founding_year"].to_dict("en")
    assert (founded["type"], founded["min"], founded["max"]) == ("integer", "1900", "2100")
    assert FACTS_BY_NAME["firm_age_years"].derived


def test_validate_facts() -> None:
    clean, errors = validate_facts(
        {
            "rd_spend_cny": 1000, "rd_staff_pct": 12.5, "listed": False,
            "zjtx_status": "innovative", "niche_years": 3, "tech_sme": None, "colour": "red",
            "rd_intensity_pct": 5, "fixed_asset_share_pct": 101, "project_investment_cny": -1,
            "niche_years_x": 1, "high_tech_enterprise": "yes", "diagnosis_scope": "city",
            "leased_equipment_value_cny": "9", "founding_year": 2012, "firm_age_years": 3,
            "testing_multi_cert": True,
        }
    )  # fmt: skip
    assert clean == {
        "rd_spend_cny": D(1000), "rd_staff_pct": D("12.5"), "listed": False,
        "zjtx_status": "innovative", "niche_years": D(3), "founding_year": D(2012),
        "testing_multi_cert": True,
    }  # fmt: skip
    assert errors == {
        "colour": "unknown fact",
        "niche_years_x": "unknown fact",
        "rd_intensity_pct": "is computed, not declared",
        "firm_age_years": "is computed, not declared",
        "fixed_asset_share_pct": "must be ≤ 100, got 101",
        "project_investment_cny": "must be ≥ 0, got -1",
        "high_tech_enterprise": "must be true or false, got a string ('yes')",
        "diagnosis_scope": "must be one of workshop, factory, got a string ('city')",
        "leased_equipment_value_cny": "must be a number, got a string ('9')",
    }
    _, huge = validate_facts({"rd_spend_cny": 10**13, "project_investment_cny": D("1e26")})
    assert huge == {"project_investment_cny": "must be ≤ 10000000000000, got 1E+26"}
    _, fractional = validate_facts({"niche_years": 2.5, "founding_year": 1800})
    assert fractional == {
        "niche_years": "must be a whole number, got 2.5",
        "founding_year": "must be ≥ 1900, got 1800",
    }


def test_derive_facts() -> None:
    derived = derive_facts({"rd_spend_cny": 35, "annual_revenue_cny": 1000, "rd_intensity_pct": 99})
    assert derived["rd_intensity_pct"] == D("3.5")
    assert "rd_intensity_pct" not in derive_facts({"rd_spend_cny": 1, "annual_revenue_cny": 0})
    assert "rd_intensity_pct" not in derive_facts({"rd_intensity_pct": 3})
    aged = derive_facts({"founding_year": 2021, "firm_age_years": 40}, date(2026, 1, 1))
    assert aged["firm_age_years"] == D(5)
    assert "firm_age_years" not in derive_facts({"founding_year": 2021})
    assert "firm_age_years" not in derive_facts({"founding_year": 2027}, date(2026, 1, 1))
