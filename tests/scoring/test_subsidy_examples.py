"""The five example firms of docs/subsidies.md: outcomes, hand-computed estimates and totals.

Firm data live in ``subsidy_examples.py``; the assessment date is 2026-01-28 (inside the 2026
technical-transformation call window). Every number here is the one printed in the doc; the
comments show the arithmetic. Several assertions pin what issue 15 found wrong before.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from scoring.subsidies import yuan
from scoring.subsidy_advice import SubsidyAdvice, subsidy_advice
from scoring.subsidy_loader import load_subsidies
from tests.scoring import subsidy_examples as ex

_HERE = Path(__file__).resolve().parent
CATALOGUE = load_subsidies(_HERE.parents[1] / "subsidies")
D = Decimal

#: Every firm sees the free self-diagnosis platform "to confirm" (no dated source shows it in
#: service), and three programmes are past their end date on 2026-01-28.
EXPIRED = ["sh-growth-voucher", "sh-smart-factory-excellent-2025"]
SME_ONLY = [
    "cn-sme-digital-level-test", "cn-zjtx-sme-recognition", "sh-ai-compute-voucher",
    "sh-first-sishang-rd-reward", "sh-smart-manufacturing-voucher", "sh-sme-guarantee-fund",
]  # fmt: skip


def advise(profile: dict[str, object], result: object) -> SubsidyAdvice:
    return subsidy_advice(CATALOGUE, profile, {}, result, on=ex.ON)  # type: ignore[arg-type]


def ids(advice: SubsidyAdvice, outcome: str) -> list[str]:
    return [m.programme.id for m in advice.by_outcome(outcome)]  # type: ignore[arg-type]


def match(advice: SubsidyAdvice, pid: str):  # type: ignore[no-untyped-def]
    return next(m for m in advice.matches if m.programme.id == pid)


def amounts(advice: SubsidyAdvice) -> dict[str, Decimal]:
    """Amounts of the eligible, likely and near matches."""
    return {
        m.programme.id: m.estimate.amount_cny
        for m in advice.matches
        if m.outcome in ("eligible", "likely", "near") and m.estimate.amount_cny is not None
    }


def test_a_micro_firm_in_jinshan() -> None:
    advice = advise(ex.JINSHAN_MICRO, ex.JINSHAN_RESULT)
    assert advice.summary.text("en") == (
        "Checked 35 programmes: 0 eligible, 3 likely, 2 near, 28 not eligible, 2 to confirm."
    )
    assert advice.summary.text("zh") == (
        "已核对35个项目：0个符合、3个很可能符合、2个接近符合、28个不符合、2个待确认。"
    )
    assert ids(advice, "likely") == [
        "cn-sme-digital-level-test", "sh-smart-manufacturing-voucher", "sh-sme-guarantee-fund",
    ]  # fmt: skip
    assert ids(advice, "near") == ["cn-smart-factory-basic", "sh-smart-factory-advanced"]
    assert ids(advice, "to_confirm") == [
        "cn-c3mep-self-assessment",
        "jinshan-iiot-diagnosis-workshop",
    ]
    # Issue 15: the undated 2020 Jinshan policy promised 32,000 CNY (80 % × 40,000); now no amount.
    diagnosis = match(advice, "jinshan-iiot-diagnosis-workshop")
    assert diagnosis.estimate.kind == "withheld" and diagnosis.estimate.amount_cny is None
    # Testing support is for "one test, many certificates" only: declaring it would unlock it.
    testing = match(advice, "sh-testing-certification-2024")
    assert testing.outcome == "not_eligible" and testing.missing_facts == ("testing_multi_cert",)
    unlock = next(u for u in advice.unlocks if u.fact == "testing_multi_cert")
    assert unlock.qualify == ("sh-testing-certification-2024",)
    # The 智评券 is for SMEs; for a firm below designated size its eligibility is to confirm.
    voucher = match(advice, "sh-smart-manufacturing-voucher")
    assert [n.id for n in voucher.confirm] == ["still_in_force", "above_designated_size_target"]
    # One rung short of 基础级 and of 先进级 (both ≈ CMMM level 2, rung 3.25) is near; the
    # tier the firm holds is not declared, so that it holds neither is to confirm.
    assert [t.text("en") for t in match(advice, "cn-smart-factory-basic").todo] == [
        "reach rung 3.25 (Standardised)", "reach 3.25 in digitization",
    ]  # fmt: skip
    advanced = match(advice, "sh-smart-factory-advanced")
    assert [t.text("en") for t in advanced.todo] == ["reach rung 3.25 (Standardised)"]
    assert "tier_not_held" in [n.id for n in advanced.confirm]
    assert amounts(advice) == {}
    assert advice.total.amount_cny == D("0.00")
    assert advice.total.text("en") == "No amount can be totalled yet"
    assert [(o.programme_id, o.reason.en) for o in advice.total.left_out] == [
        ("sh-smart-manufacturing-voucher", "amount not published (unknown)")
    ]
    # what the facts form could unlock, most programmes first: the R&D spend (the 120 %
    # deduction is for any division, the enterprise list decides), then the project investment
    assert [(u.fact, u.qualify) for u in advice.unlocks[:2]] == [
        ("rd_spend_cny", ("cn-ic-machine-tool-rd-deduction", "cn-rd-super-deduction",
                          "sh-tech-sme-innovation-fund")),
        # Not the leasing subsidy: its project threshold is to confirm, not a condition.
        ("project_investment_cny", ("sh-equipment-loan-interest-2024", "sh-techtrans-2026")),
    ]  # fmt: skip


def test_a_medium_automotive_supplier_in_jiading() -> None:
    advice = advise(ex.JIADING_AUTO, ex.JIADING_RESULT)
    assert dict(advice.summary.counts) == {
        "eligible": 0, "likely": 9, "near": 0, "to_confirm": 2, "not_eligible": 24,
    }  # fmt: skip
    # Technical transformation: whether the project fits the 2026 guide is to confirm.
    assert ids(advice, "eligible") == []
    assert [n.id for n in match(advice, "sh-techtrans-2026").confirm] == ["application_guide"]
    assert ids(advice, "likely") == [
        "cn-ic-machine-tool-rd-deduction", "cn-rd-super-deduction", "cn-sme-digital-level-test",
        "sh-equipment-leasing-2024", "sh-equipment-loan-interest-2024",
        "sh-smart-factory-advanced", "sh-smart-manufacturing-voucher", "sh-sme-guarantee-fund",
        "sh-techtrans-2026",
    ]  # fmt: skip
    assert ids(advice, "to_confirm") == ["cn-c3mep-self-assessment", "jiading-smart-factory-award"]
    assert amounts(advice) == {
        "sh-techtrans-2026": D("2500000.00"),  # min(10% × 25,000,000, 100,000,000)
        "sh-equipment-loan-interest-2024": D("900000.00"),  # min(50% × 600,000 × 3, 20 M)
        "sh-equipment-leasing-2024": D("400000.00"),  # min(5% × 8,000,000, 20 M)
        "cn-rd-super-deduction": D("6300000.00"),  # 100% × 6,300,000: a deduction, not cash
        "cn-ic-machine-tool-rd-deduction": D("7560000.00"),  # 120% × 6,300,000 (if on the list)
    }
    # "≤ 10 %" and "≤ 5 %" are ceilings: up to; the loan interest's 50 % is exact: about.
    assert {pid: match(advice, pid).estimate.text.en for pid in amounts(advice)} == {
        "sh-techtrans-2026": "up to 2,500,000 CNY (verified parameters)",
        "sh-equipment-loan-interest-2024": "about 900,000 CNY (parameters from secondary sources)",
        "sh-equipment-leasing-2024": "up to 400,000 CNY (parameters from secondary sources)",
        "cn-rd-super-deduction": "about 6,300,000 CNY of additional pre-tax deduction (reduces "
        "taxable income; not cash) (parameters from secondary sources)",
        "cn-ic-machine-tool-rd-deduction": "about 7,560,000 CNY of additional pre-tax deduction "
        "(reduces taxable income; not cash) (parameters from secondary sources)",
    }
    assert match(advice, "sh-techtrans-2026").estimate.text.zh == (
        "最高约2,500,000元（参数已核实）"
    )
    # Issue 15: 5.8 M used to add all three same-project municipal funds and the Jiading award.
    total = advice.total
    assert (total.amount_cny, total.confirmed_cny) == (D("2500000.00"), D("0.00"))
    assert [m.programme.id for m in total.included] == ["sh-techtrans-2026"]
    left = {o.programme_id: o.reason.en for o in total.left_out}
    assert left["sh-equipment-loan-interest-2024"] == (
        "cannot be combined with Shanghai technical-transformation special fund (investment "
        "subsidy), 2026 call, which is counted: the project may not have any other municipal "
        "special fund (source: 2026年度技术改造专项申报通知（申报条件：未获得其他市级专项资金）)"
    )
    assert left["sh-equipment-leasing-2024"].startswith("cannot be combined with Shanghai tech")
    assert left["cn-rd-super-deduction"] == "tax relief is listed separately, not in the total"
    assert total.text("en") == (
        "Up to 2,500,000 CNY from 1 programme(s) that can be combined; 2,500,000 CNY of it "
        "depends on items to confirm"
    )
    assert total.text("zh") == (
        "合计最高约2,500,000元（1项可同时享受的政策），其中2,500,000元有待确认事项"
    )
    # The undated Jiading award shows no amount.
    assert match(advice, "jiading-smart-factory-award").estimate.amount_cny is None
    # What the firm already holds is not advised: it is a 专精特新 SME and a basic-tier factory.
    for pid in ("cn-zjtx-sme-recognition", "cn-smart-factory-basic"):
        assert match(advice, pid).outcome == "not_eligible", pid
    # 先进级 asks rung 3.25 (≈ CMMM level 2), which the firm has; it holds only the basic tier.
    assert [n.id for n in match(advice, "sh-smart-factory-advanced").confirm] == [
        "application_window", "provincial_review",
    ]  # fmt: skip
    fund = match(advice, "sh-tech-sme-innovation-fund")
    # 6.3 M R&D on 180 M revenue is 3.5 %: below the fund's 5 %.
    assert "not met: R&D spend at least 5% of revenue" in [r.text("en") for r in fund.reasons]
    assert fund.missing_facts == ("listed", "high_tech_products", "rd_staff_pct")
    assert {c.to_dict("en")["programmes"][0] for c in advice.conflicts} == {  # type: ignore[index]
        "cn-ic-machine-tool-rd-deduction", "sh-equipment-leasing-2024",
        "sh-equipment-loan-interest-2024",
    }  # fmt: skip


def test_a_large_listed_electronics_maker_in_pudong() -> None:
    advice = advise(ex.PUDONG_ELECTRONICS, ex.PUDONG_RESULT)
    assert dict(advice.summary.counts) == {
        "eligible": 0, "likely": 4, "near": 0, "to_confirm": 1, "not_eligible": 30,
    }  # fmt: skip
    # The insurance compensation is an annual call: this year's window is to confirm.
    assert ids(advice, "eligible") == []
    assert ids(advice, "likely") == [
        "cn-advanced-manufacturing-vat-credit", "cn-first-unit-insurance",
        "sh-first-unit-2026", "sh-standardisation-fund",
    ]  # fmt: skip
    # The firm holds the advanced tier: neither it nor the basic tier is advised.
    for pid in ("cn-smart-factory-basic", "sh-smart-factory-advanced"):
        assert match(advice, pid).outcome == "not_eligible", pid
    assert [n.id for n in match(advice, "cn-first-unit-insurance").confirm] == [
        "application_window"
    ]
    assert [n.id for n in match(advice, "sh-standardisation-fund").confirm] == [
        "application_window", "no_other_municipal_funds", "standard_category",
    ]  # fmt: skip
    assert amounts(advice) == {
        "cn-first-unit-insurance": D("1200000.00"),  # 80% × 1,500,000, cap unknown
        "sh-first-unit-2026": D("20000000.00"),  # min(30% × 80,000,000 = 24 M, 20 M)
        "sh-standardisation-fund": D("1000000.00"),  # up to 1,000,000
    }
    # Issue 15: 首台套's sector scope is unresolved for electronics, so it is to confirm.
    first_unit = match(advice, "sh-first-unit-2026")
    assert [n.id for n in first_unit.confirm] == ["sector_scope"]
    # ≤ 80 % and ≤ 30 % are ceilings: "up to", as the standardisation fund's cap already was
    assert match(advice, "cn-first-unit-insurance").estimate.text.en == (
        "up to 1,200,000 CNY (cap unknown; may be lower) (parameters from secondary sources)"
    )
    assert match(advice, "sh-first-unit-2026").estimate.text.zh == (
        "最高约20,000,000元（参数来自二手资料）"
    )
    total = advice.total
    assert total.amount_cny == D("22200000.00")  # 1,200,000 + 20,000,000 + 1,000,000
    assert total.confirmed_cny == D("0.00")  # nothing eligible: every part has items to confirm
    assert total.text("en") == (
        "Up to 22,200,000 CNY from 3 programme(s) that can be combined; 22,200,000 CNY of it "
        "depends on items to confirm"
    )
    assert (
        total.text("zh")
        == "合计最高约22,200,000元（3项可同时享受的政策），其中22,200,000元有待确认事项"
    )
    # SME-only programmes are out; the 2025 卓越级 call has closed.
    for pid in SME_ONLY + ["sh-tech-sme-innovation-fund"]:
        assert match(advice, pid).outcome == "not_eligible", pid
    assert "not met: not a listed company" in [
        r.text("en") for r in match(advice, "sh-tech-sme-innovation-fund").reasons
    ]
    excellent = match(advice, "sh-smart-factory-excellent-2025")
    assert (excellent.outcome, excellent.verdict) == ("not_eligible", "met")
    # the VAT credit depends on the input VAT: declaring it would price it
    unlock = next(u for u in advice.unlocks if u.fact == "deductible_input_vat_cny")
    assert unlock.price == ("cn-advanced-manufacturing-vat-credit",)


def test_a_large_listed_machine_tool_maker_gets_no_sme_programme() -> None:
    advice = advise(ex.MINHANG_MACHINE_TOOLS, ex.MINHANG_RESULT)
    assert dict(advice.summary.counts) == {
        "eligible": 0, "likely": 7, "near": 0, "to_confirm": 1, "not_eligible": 27,
    }  # fmt: skip
    for pid in SME_ONLY:
        reasons = [r.text("en") for r in match(advice, pid).reasons]
        assert "not met: the firm is an SME (micro, small or medium)" in reasons, pid
    assert ids(advice, "likely") == [
        "cn-advanced-manufacturing-vat-credit", "cn-equipment-one-off-deduction",
        "cn-ic-machine-tool-rd-deduction", "cn-rd-super-deduction", "cn-smart-factory-basic",
        "sh-smart-factory-advanced", "sh-testing-certification-2024",
    ]  # fmt: skip
    assert amounts(advice) == {
        "cn-advanced-manufacturing-vat-credit": D("1500000.00"),  # 5% × 30,000,000 input VAT
        "cn-rd-super-deduction": D("45000000.00"),  # 100% × 45,000,000
        "cn-ic-machine-tool-rd-deduction": D("54000000.00"),  # 120% × 45,000,000
        "sh-testing-certification-2024": D("120000.00"),  # min(30% × 400,000, 500,000)
    }
    # the two deduction rates exclude each other
    (conflict,) = advice.conflicts
    assert conflict.to_dict("en")["programmes"] == [
        "cn-ic-machine-tool-rd-deduction", "cn-rd-super-deduction",
    ]  # fmt: skip
    assert match(advice, "sh-testing-certification-2024").estimate.text.en == (
        "up to 120,000 CNY (parameters from secondary sources)"
    )
    assert advice.total.amount_cny == D("120000.00")
    assert [m.programme.id for m in advice.total.included] == ["sh-testing-certification-2024"]


def test_a_small_firm_with_a_project_gets_a_non_conflicting_total() -> None:
    advice = advise(ex.SONGJIANG_PROJECT, ex.SONGJIANG_RESULT)
    assert dict(advice.summary.counts) == {
        "eligible": 0, "likely": 13, "near": 0, "to_confirm": 2, "not_eligible": 20,
    }  # fmt: skip
    assert amounts(advice) == {
        "sh-equipment-loan-interest-2024": D("1200000.00"),  # min(50% × 800,000 × 3, 20 M)
        "sh-equipment-leasing-2024": D("600000.00"),  # min(5% × 12,000,000, 20 M)
        "sh-first-sishang-rd-reward": D("150000.00"),  # min(5% × 3,000,000, 500,000)
        "sh-testing-certification-2024": D("60000.00"),  # min(30% × 200,000, 500,000)
        "cn-rd-super-deduction": D("3000000.00"),  # 100% × 3,000,000 (deduction)
        "cn-ic-machine-tool-rd-deduction": D("3600000.00"),  # 120% × 3,000,000 (deduction)
    }
    # the project has not started, so the technical-transformation fund does not apply
    assert [r.text("en") for r in match(advice, "sh-techtrans-2026").reasons] == [
        "not met: construction has started"
    ]
    total = advice.total
    # loan interest (1,200,000) beats leasing (600,000), with which it cannot be combined:
    # 1,200,000 + 150,000 + 60,000 = 1,410,000 (the other choice gives 810,000)
    assert total.amount_cny == D("1410000.00") and total.confirmed_cny == D("0.00")
    assert [m.programme.id for m in total.included] == [
        "sh-equipment-loan-interest-2024", "sh-first-sishang-rd-reward",
        "sh-testing-certification-2024",
    ]  # fmt: skip
    left = {o.programme_id: o.reason.en for o in total.left_out}
    assert left["sh-equipment-leasing-2024"] == (
        "cannot be combined with Interest subsidy on bank loans for technical-transformation and "
        "equipment-renewal projects, which is counted: an equipment investment gets either the "
        "interest subsidy or the leasing subsidy, not both (source: 关于进一步促进工业降本增效"
        "推进新型工业化的若干措施（2024）：“贴息50%或融资租赁补贴5%”)"
    )
    assert left["songjiang-digital-diagnosis-2023"] == "support rate not published (unknown)"
    # rung 3.25 meets 先进级's ≈ CMMM level 2; no source asks a data-collection score of it
    advanced = match(advice, "sh-smart-factory-advanced")
    assert advanced.outcome == "likely" and advanced.todo == ()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_examples_serialise(lang: str) -> None:
    for profile, result in (
        (ex.JINSHAN_MICRO, ex.JINSHAN_RESULT),
        (ex.JIADING_AUTO, ex.JIADING_RESULT),
        (ex.PUDONG_ELECTRONICS, ex.PUDONG_RESULT),
        (ex.MINHANG_MACHINE_TOOLS, ex.MINHANG_RESULT),
        (ex.SONGJIANG_PROJECT, ex.SONGJIANG_RESULT),
    ):
        data = advise(profile, result).to_dict(lang)
        json.dumps(data, ensure_ascii=False)
        for entry in data["matches"]:  # type: ignore[attr-defined]
            assert entry["source"]["document"] and entry["confidence"] and entry["validity"]
            assert entry["headline"]


DOC = _HERE.parents[1] / "docs" / "subsidies.md"
EXAMPLES = {
    "A": (ex.JINSHAN_MICRO, ex.JINSHAN_RESULT),
    "B": (ex.JIADING_AUTO, ex.JIADING_RESULT),
    "C": (ex.PUDONG_ELECTRONICS, ex.PUDONG_RESULT),
    "D": (ex.MINHANG_MACHINE_TOOLS, ex.MINHANG_RESULT),
    "E": (ex.SONGJIANG_PROJECT, ex.SONGJIANG_RESULT),
}


def test_the_doc_prints_what_the_matcher_gives() -> None:
    """docs/subsidies.md §7: each example's summary sentence and total are the matcher's."""
    text = DOC.read_text(encoding="utf-8")
    sections = re.split(r"^### ([A-E])\. ", text.split("## 7. ")[1], flags=re.MULTILINE)
    found = dict(zip(sections[1::2], sections[2::2], strict=True))
    assert sorted(found) == sorted(EXAMPLES)
    for name, (profile, result) in EXAMPLES.items():
        advice = advise(profile, result)
        assert f"*{advice.summary.text('en')}*" in found[name], name
        total = advice.total
        if total.included:
            shown = re.search(r"\*\*Total: up to ([\d,]+) CNY\*\*", found[name])
            assert shown is not None, name
            assert shown.group(1) == yuan(total.amount_cny), name
