"""``scoring.subsidy_advice``: the summary, the non-conflicting total, conflicts, unlocks,
coverage, funding and the catalogue audit; property tests over random firms and results."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.conditions import Facts
from scoring.facts import FACTS
from scoring.ladder import RUNG_LEVELS, RUNG_STEP
from scoring.models import Text
from scoring.subsidies import (
    SHANGHAI_DISTRICTS,
    SIZE_CLASSES,
    Benefit,
    Funding,
    Param,
    Programme,
    ResultSnapshot,
    Stacking,
    SubsidyMatch,
    Validity,
    match_programme,
    match_subsidies,
)
from scoring.subsidy_advice import (
    CATALOGUE_GAPS,
    audit_catalogue,
    best_total,
    funding_for,
    subsidy_advice,
)
from scoring.subsidy_loader import load_subsidies, parse_programme
from tests.scoring.subsidy_programmes import ONGOING, programme, programme_text

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = load_subsidies(ROOT / "subsidies")
ON = date(2026, 6, 1)
D = Decimal
STAGES = ("digitization", "automation", "data_collection", "cloud_adoption")

BASE = programme(
    pid="base",
    source='{issued_by: 演示, number: 演示〔2026〕1号, year: 2026, url: "https://example.org/1"}',
    validity=ONGOING,
)
BASE_TEXT = programme_text(pid="x", validity=ONGOING)
SH = {"district_code": "310117"}


def cash(
    pid: str,
    amount: int,
    *,
    excludes: tuple[str, ...] = (),
    group: str | None = None,
    kind: str = "grant",
    stale: bool = False,
) -> Programme:
    stacking = (
        Stacking(rule=Text(f"{pid}规则", f"rule of {pid}"), source=f"{pid}文件", group=group,
                 excludes=excludes)
        if excludes or group else None
    )  # fmt: skip
    validity = (
        BASE.validity if not stale else replace(BASE.validity, last_confirmed=date(2020, 1, 1))
    )
    return replace(
        BASE,
        id=pid,
        name=Text(f"{pid}中", pid),
        kind=kind,  # type: ignore[arg-type]
        benefit=Benefit(amount_cny=Param(D(amount), "secondary")),
        stacking=stacking,
        validity=validity,
    )


def totals(programmes: list[Programme]):  # type: ignore[no-untyped-def]
    return best_total(match_subsidies(programmes, SH, on=ON))


# --- the non-conflicting total ---------------------------------------------------------------


def test_the_best_combination_is_chosen_not_the_greedy_one() -> None:
    # a conflicts with b and c; b and c are compatible: b + c (7) beats a alone (6)
    programmes = [cash("a", 6, excludes=("b", "c")), cash("b", 4), cash("c", 3), cash("d", 1)]
    total = totals(programmes)
    assert [m.programme.id for m in total.included] == ["b", "c", "d"]
    assert total.amount_cny == D("8.00") and total.confirmed_cny == D("8.00")
    ((left),) = total.left_out
    assert (left.programme_id, left.reason.en) == (
        "a", "cannot be combined with b, which is counted: rule of a (source: a文件)",
    )  # fmt: skip
    assert left.reason.zh == "与已计入的「b中」不可叠加：a规则（依据：a文件）"
    assert left.to_dict("zh") == {"id": "a", "name": "a中", "reason": left.reason.zh}


def test_a_group_excludes_every_pair_and_ties_prefer_confirmed_money() -> None:
    programmes = [
        cash("a", 5, group="g", stale=True),  # likely: depends on an item to confirm
        cash("b", 5, group="g"),  # eligible
        cash("c", 2, group="g"),
    ]
    total = totals(programmes)
    assert [m.programme.id for m in total.included] == ["b"]
    assert (total.amount_cny, total.confirmed_cny) == (D("5.00"), D("5.00"))
    assert [o.programme_id for o in total.left_out] == ["a", "c"]
    assert total.to_dict("en") == {
        "amount_cny": "5.00", "confirmed_cny": "5.00", "programmes": ["b"],
        "text": "Up to 5 CNY from 1 programme(s) that can be combined",
        "left_out": [o.to_dict("en") for o in total.left_out],
    }  # fmt: skip


def test_only_eligible_and_likely_cash_programmes_count() -> None:
    no_amount = replace(cash("unknown", 1), benefit=Benefit(cap_cny="unknown"))
    tax = cash("tax", 9, kind="tax_credit")
    recognition = replace(cash("badge", 1), kind="recognition", benefit=Benefit())
    closed = replace(
        cash("closed", 9), validity=Validity(status="dated", valid_until=date(2020, 1, 1))
    )
    total = totals([cash("a", 2, stale=True), no_amount, tax, recognition, closed])
    assert [m.programme.id for m in total.included] == ["a"]
    assert total.confirmed_cny == D("0.00")
    assert {o.programme_id: o.reason.en for o in total.left_out} == {
        "tax": "tax relief is listed separately, not in the total",
        "unknown": "amount not published (unknown)",
    }
    assert total.text("zh") == "合计最高约2元（1项可同时享受的政策），其中2元有待确认事项"


def _independent(matches: tuple[SubsidyMatch, ...]) -> bool:
    return not any(a.programme.excludes(b.programme) for a, b in itertools.combinations(matches, 2))


@settings(max_examples=150, deadline=None)
@given(
    amounts=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=7),
    edges=st.sets(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=12),
)
def test_the_total_is_the_best_independent_set(
    amounts: list[int], edges: set[tuple[int, int]]
) -> None:
    """Exact: no brute-force subset of compatible programmes has a larger sum."""
    n = len(amounts)
    excludes = {
        i: tuple(f"p{j}" for (k, j) in edges if k == i and j < n and j != i) for i in range(n)
    }
    programmes = [cash(f"p{i}", amounts[i], excludes=excludes[i]) for i in range(n)]
    matches = match_subsidies(programmes, SH, on=ON)
    total = best_total(matches)
    assert _independent(total.included)
    best = max(
        sum((m.estimate.amount_cny or D(0) for m in subset), D(0))
        for size in range(n + 1)
        for subset in itertools.combinations(matches, size)
        if _independent(subset)
    )
    assert total.amount_cny == best
    # everything priced and left out conflicts with something counted
    for left in total.left_out:
        loser = next(m for m in matches if m.programme.id == left.programme_id)
        assert any(loser.programme.excludes(m.programme) for m in total.included)


# --- property tests over the real catalogue ---------------------------------------------------

SCORES = st.integers(min_value=275, max_value=400).map(lambda cents: D(cents) / 100)


@st.composite
def results(draw: st.DrawFn) -> ResultSnapshot:
    return ResultSnapshot(
        draw(SCORES), draw(st.sampled_from(RUNG_LEVELS)),
        {stage: draw(SCORES) for stage in STAGES},
    )  # fmt: skip


def _fact_value(draw: st.DrawFn, name: str) -> object:
    fact = next(f for f in FACTS if f.name == name)
    if fact.type == "boolean":
        return draw(st.booleans())
    if fact.type == "choice":
        return draw(st.sampled_from([c.id for c in fact.choices]))
    if fact.type == "percent":
        return D(draw(st.integers(0, 100)))
    if fact.type == "integer":
        return D(draw(st.integers(int(fact.min or 0), int(fact.max or 60))))
    return D(draw(st.sampled_from([0, 50_000, 600_000, 3_000_000, 15_000_000, 30_000_000])))


@st.composite
def firms(draw: st.DrawFn) -> dict[str, object]:
    firm: dict[str, object] = {
        "district_code": draw(st.sampled_from(list(SHANGHAI_DISTRICTS))),
        "industry_code": str(draw(st.integers(13, 43))),
        "size_class": draw(st.sampled_from(SIZE_CLASSES)),
        "above_designated_size": draw(st.booleans()),
        "employees": draw(st.integers(1, 5000)),
        "annual_revenue_cny": D(draw(st.integers(1, 10_000)) * 100_000),
    }
    declarable = [f.name for f in FACTS if not f.derived]
    for name in draw(st.lists(st.sampled_from(declarable), unique=True, max_size=20)):
        firm[name] = _fact_value(draw, name)
    return firm


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(firm=firms(), result=results(), day=st.dates(date(2023, 1, 1), date(2029, 12, 31)))
def test_totals_never_combine_exclusive_programmes_and_near_is_within_one_rung(
    firm: dict[str, object], result: ResultSnapshot, day: date
) -> None:
    advice = subsidy_advice(CATALOGUE, firm, {}, result, on=day)
    assert _independent(advice.total.included)
    assert all(m.outcome in ("eligible", "likely") for m in advice.total.included)
    assert advice.total.confirmed_cny <= advice.total.amount_cny
    assert sum(advice.summary.counts.values()) == advice.summary.checked == len(CATALOGUE)
    for match in advice.matches:
        if match.outcome == "near":
            assert match.todo
            for item in match.todo:
                assert item.leaf.field.startswith("result.")
                current = _score(result, item.leaf.field)
                gap = item.leaf.value - current  # type: ignore[operator]
                assert gap <= RUNG_STEP if item.leaf.op == "gte" else gap < RUNG_STEP
        if match.validity.state in ("expired", "not_yet"):
            assert match.outcome == "not_eligible"
        if match.outcome == "to_confirm":
            assert match.estimate.amount_cny is None
        if match.estimate.amount_cny is not None and match.outcome in ("eligible", "likely"):
            assert match.estimate.confidence in ("verified", "secondary")


def _score(result: ResultSnapshot, path: str) -> Decimal:
    rest = path.removeprefix("result.")
    if rest == "rung":
        return result.rung
    if rest == "overall":
        assert result.overall is not None
        return result.overall
    return result.stages[rest.removeprefix("stages.")]


# --- summary, conflicts, unlocks, coverage ---------------------------------------------------


def test_summary_conflicts_unlocks_and_coverage() -> None:
    programmes = [
        cash("a", 6, excludes=("b",)),
        cash("b", 4),
        replace(
            cash("c", 1),
            benefit=Benefit(rate=Param(D("0.1"), "verified"), basis="rd_spend_cny"),
            recommendations=("R8",),
        ),
        replace(
            cash("d", 1),
            eligibility=parse_programme(
                BASE_TEXT + "eligibility: {field: profile.listed, op: eq, value: false}\n", "d"
            ).eligibility,
            recommendations=("R8",),
        ),
        replace(
            cash("e", 1),
            to_confirm=parse_programme(BASE_TEXT + CONFIRM_ITEM, "e").to_confirm,
        ),
    ]
    advice = subsidy_advice(programmes, SH, on=ON)
    assert advice.summary.text("en") == (
        "Checked 5 programmes: 3 eligible, 1 likely, 0 near, 1 not eligible, 0 to confirm."
    )
    assert [m.programme.id for m in advice.by_outcome("not_eligible")] == ["d"]
    ((conflict),) = advice.conflicts
    assert conflict.to_dict("zh") == {"programmes": ["a", "b"], "rule": "a规则", "source": "a文件"}
    unlocks = {u.fact: u for u in advice.unlocks}
    assert unlocks["listed"].qualify == ("d",) and unlocks["listed"].declared_in == "facts"
    assert unlocks["rd_spend_cny"].price == ("c",)
    assert unlocks["other_municipal_funds"].settle == ("e",)
    assert (
        unlocks["listed"].text("en")
        == "Declaring “Listed company” could qualify the firm for 1 programme(s)"
    )
    assert unlocks["listed"].text("zh") == "填报“上市企业”可能使1项政策符合条件"
    assert unlocks["rd_spend_cny"].text("en") == "Declaring “R&D spend last year” would price 1"
    assert unlocks["rd_spend_cny"].text("zh") == "填报“上年度研发费用”可估算1项政策的金额"
    assert unlocks["other_municipal_funds"].text("en") == (
        "Declaring “Project already has other municipal funds” would settle an item to confirm "
        "for 1"
    )
    assert unlocks["other_municipal_funds"].text("zh") == (
        "填报“项目已获其他市级专项资金”可确认1项政策的待确认事项"
    )
    coverage = {c.recommendation: c for c in advice.coverage}
    assert list(coverage) == [f"R{i}" for i in range(1, 11)]
    assert coverage["R8"].programmes == ("c",)  # d is not eligible
    assert coverage["R6"].note == CATALOGUE_GAPS["R6"]
    assert coverage["R6"].to_dict("en")["title"] == "Cloud adoption"
    assert coverage["R1"].to_dict("en") == {
        "recommendation": "R1", "title": "Technical-transformation funds for smart manufacturing",
        "programmes": [], "note": None,
    }  # fmt: skip
    data = advice.to_dict("en")
    assert data["format"] == 2 and data["on"] == "2026-06-01"
    assert data["summary"] == {  # type: ignore[comparison-overlap]
        "checked": 5, "eligible": 3, "likely": 1, "near": 0, "to_confirm": 0, "not_eligible": 1,
        "text": "Checked 5 programmes: 3 eligible, 1 likely, 0 near, 1 not eligible, 0 to confirm.",
    }  # fmt: skip
    # one programme each: in the facts form's order
    assert [u["name"] for u in data["unlocks"]] == [  # type: ignore[index]
        "other_municipal_funds", "rd_spend_cny", "listed",
    ]  # fmt: skip
    assert len(data["matches"]) == 5 and len(data["coverage"]) == 10  # type: ignore[arg-type]


CONFIRM_ITEM = """\
to_confirm:
  - id: funds
    text: {zh: 未获其他资金, en: no other funds}
    unless: {field: profile.other_municipal_funds, op: eq, value: false}
"""


def test_the_result_says_no_cloud_programme_is_in_force() -> None:
    advice = subsidy_advice(CATALOGUE, {"district_code": "310115"}, on=ON)
    r6 = next(c for c in advice.coverage if c.recommendation == "R6")
    assert r6.note is not None and r6.to_dict("en")["note"] == CATALOGUE_GAPS["R6"].en
    assert r6.to_dict("zh")["note"].startswith("目前没有已核实的上海市级企业上云现金补贴")  # type: ignore[union-attr]


def test_unlocks_skip_programmes_outside_their_validity() -> None:
    closed = replace(
        cash("closed", 1),
        validity=Validity(status="dated", valid_until=date(2020, 1, 1)),
        eligibility=parse_programme(
            BASE_TEXT + "eligibility: {field: profile.listed, op: eq, value: false}\n", "x"
        ).eligibility,
    )
    assert subsidy_advice([closed], SH, on=ON).unlocks == ()


def test_funding_for_a_roadmap_step() -> None:
    funded = replace(cash("f", 1), funds=Funding(stages=("automation",), questions=("q1",)))
    top = BASE_TEXT + "eligibility: {field: result.rung, op: gte, value: 4.0}\n"
    far = replace(funded, id="far", eligibility=parse_programme(top, "x").eligibility)
    near = replace(funded, id="near", eligibility=far.eligibility)
    result = ResultSnapshot(D("3.80"), D("3.75"), {})
    matches = [
        match_programme(p, Facts(profile=SH, result=result), on=ON) for p in (funded, near)
    ] + [match_programme(far, Facts(profile=SH, result=ResultSnapshot(D("3"), D("3.00"))), on=ON)]
    assert [m.programme.id for m in funding_for(matches, "automation")] == ["f", "near"]
    assert [m.programme.id for m in funding_for(matches, "digitization", "q1")] == ["f", "near"]
    assert funding_for(matches, "digitization") == ()


# --- the catalogue audit ----------------------------------------------------------------------


def test_audit_lists_expired_unknown_stale_and_unlinked_programmes() -> None:
    expired = replace(cash("expired", 1), validity=Validity(
        status="dated", valid_until=date(2026, 2, 4), last_confirmed=date(2020, 1, 1)))  # fmt: skip
    unknown = replace(cash("unknown", 1), validity=Validity(status="unconfirmed"))
    stale = replace(cash("stale", 1), validity=Validity(
        status="ongoing", last_confirmed=date(2025, 11, 30)))  # fmt: skip
    fresh = replace(cash("fresh", 1), validity=Validity(
        status="ongoing", last_confirmed=date(2025, 12, 1)))  # fmt: skip
    unlinked = replace(fresh, id="unlinked", source=replace(fresh.source, url=None))
    findings = audit_catalogue([unlinked, stale, fresh, unknown, expired], as_of=date(2026, 12, 1))
    assert [str(f) for f in findings] == [
        "expired: expired on 2026-02-04",
        "stale: last confirmed 2025-11-30, over 12 months before 2026-12-01",
        "unknown: validity unknown (status: unconfirmed): find dated sources or remove it",
        "unlinked: no official source URL",
    ]
    assert [f.kind for f in findings] == ["expired", "stale", "validity_unknown", "no_url"]


def test_audit_of_the_real_catalogue() -> None:
    findings = audit_catalogue(CATALOGUE, as_of=date(2026, 12, 1))
    by_kind: dict[str, list[str]] = {}
    for finding in findings:
        by_kind.setdefault(finding.kind, []).append(finding.programme_id)
    assert by_kind["expired"] == [
        "sh-growth-voucher", "sh-smart-factory-excellent-2025", "sh-techtrans-2026",
    ]  # fmt: skip
    assert len(by_kind["validity_unknown"]) == 9
    assert len(by_kind["stale"]) == 19
    assert len(by_kind["no_url"]) == 28
