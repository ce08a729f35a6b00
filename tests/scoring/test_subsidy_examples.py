"""The three example firms of docs/subsidies.md: matches and hand-computed estimates.

Firm data live in ``subsidy_examples.py``; the assessment date is 2026-01-28 (inside the 2026
technical-transformation call window). Every number here is the one printed in the doc.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from scoring.subsidies import SubsidyMatch, match_subsidies
from scoring.subsidy_loader import load_subsidies
from tests.scoring import subsidy_examples as ex

_HERE = Path(__file__).resolve().parent
CATALOGUE = load_subsidies(_HERE.parents[1] / "subsidies")


def _by_status(matches: list[SubsidyMatch]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for match in matches:
        grouped.setdefault(match.status, []).append(match.programme.id)
    return grouped


def _estimates(matches: list[SubsidyMatch]) -> dict[str, Decimal]:
    """Computed / fixed / up-to amounts of the eligible and near matches."""
    return {
        match.programme.id: match.estimate.amount_cny
        for match in matches
        if match.status in ("eligible", "near") and match.estimate.amount_cny is not None
    }


def _todo(matches: list[SubsidyMatch], lang: str = "en") -> dict[str, list[str]]:
    return {m.programme.id: [item.text(lang) for item in m.todo] for m in matches if m.todo}


CLOSED = ["minhang-smart-factory-2021", "sh-growth-voucher", "sh-smart-factory-excellent-2025"]


def test_micro_firm_in_jinshan() -> None:
    matches = match_subsidies(CATALOGUE, ex.JINSHAN_MICRO, {}, ex.JINSHAN_RESULT, on=ex.ON)
    status = _by_status(matches)
    assert status["eligible"] == [
        "cn-c3mep-self-assessment",
        "cn-sme-digital-level-test",
        "jinshan-iiot-diagnosis-workshop",
        "sh-smart-manufacturing-voucher",
        "sh-sme-guarantee-fund",
        "sh-testing-certification-2024",
    ]
    assert status["near"] == ["cn-smart-factory-basic", "sh-smart-factory-advanced"]
    assert status["closed"] == CLOSED
    assert len(status["ineligible"]) == 15
    assert _estimates(matches) == {
        "jinshan-iiot-diagnosis-workshop": Decimal("32000.00"),  # min(80% × 40,000, 50,000)
        "sh-testing-certification-2024": Decimal("18000.00"),  # min(30% × 60,000, 500,000)
    }
    assert _todo(matches) == {
        "cn-smart-factory-basic": ["reach rung 3.25 (Digitized)", "reach 3.25 in digitization"],
        "sh-smart-factory-advanced": [
            "reach rung 3.50 (Connected)",
            "reach 3.50 in data collection",
        ],
    }
    assert _todo(matches, "zh")["sh-smart-factory-advanced"] == [
        "达到 3.50 级（网络化）",
        "数据采集阶段得分达到 3.50",
    ]
    diagnosis = next(m for m in matches if m.programme.id == "jinshan-iiot-diagnosis-workshop")
    assert diagnosis.to_dict("en")["estimate"] == {
        "kind": "computed",
        "amount_cny": "32000.00",
        "formula": "min(80% × 40,000, 50,000) = 32,000 CNY",
        "text": "about 32,000 CNY",
    }
    assert diagnosis.to_dict("zh")["estimate"]["formula"] == "min(80% × 40,000, 50,000) = 32,000元"  # type: ignore[index]


def test_medium_automotive_supplier_in_jiading() -> None:
    matches = match_subsidies(CATALOGUE, ex.JIADING_AUTO, {}, ex.JIADING_RESULT, on=ex.ON)
    status = _by_status(matches)
    assert status["eligible"] == [
        "cn-c3mep-self-assessment",
        "cn-smart-factory-basic",
        "cn-sme-digital-level-test",
        "cn-zjtx-sme-recognition",
        "jiading-smart-factory-award",
        "sh-equipment-leasing-2024",
        "sh-equipment-loan-interest-2024",
        "sh-smart-manufacturing-voucher",
        "sh-sme-guarantee-fund",
        "sh-techtrans-2026",
    ]
    assert status["near"] == ["sh-smart-factory-advanced"]
    assert status["closed"] == CLOSED
    assert _estimates(matches) == {
        "jiading-smart-factory-award": Decimal("2000000.00"),  # min(30% × 25 M, 2 M): capped
        "sh-equipment-leasing-2024": Decimal("400000.00"),  # min(5% × 8 M, 20 M)
        "sh-equipment-loan-interest-2024": Decimal("900000.00"),  # min(50% × 600,000 × 3, 20 M)
        "sh-techtrans-2026": Decimal("2500000.00"),  # min(10% × 25 M, 100 M)
    }
    assert sum(_estimates(matches).values()) == Decimal("5800000.00")
    assert _todo(matches) == {
        "sh-smart-factory-advanced": [
            "reach rung 3.50 (Connected)",
            "reach 3.50 in data collection",
        ],
    }
    fund = next(m for m in matches if m.programme.id == "sh-tech-sme-innovation-fund")
    assert fund.status == "ineligible"
    # 6.3 M R&D on 180 M revenue is 3.5 %: below the fund's 5 %.
    assert "not met: R&D spend at least 5% of revenue" in [r.text("en") for r in fund.reasons]
    assert fund.missing_facts == ("listed", "high_tech_products", "rd_staff_pct")


def test_large_electronics_maker_in_pudong() -> None:
    matches = match_subsidies(CATALOGUE, ex.PUDONG_ELECTRONICS, {}, ex.PUDONG_RESULT, on=ex.ON)
    status = _by_status(matches)
    assert status["eligible"] == [
        "cn-c3mep-self-assessment",
        "cn-first-unit-insurance",
        "cn-smart-factory-basic",
        "sh-ai-compute-voucher",
        "sh-first-unit-2026",
        "sh-smart-factory-advanced",
        "sh-smart-manufacturing-voucher",
        "sh-standardisation-fund",
    ]
    assert "near" not in status
    assert status["closed"] == CLOSED
    assert _estimates(matches) == {
        "cn-first-unit-insurance": Decimal("1200000.00"),  # 80% × 1.5 M, cap unknown
        "sh-ai-compute-voucher": Decimal("600000.00"),  # 20% × 3 M, cap unknown
        "sh-first-unit-2026": Decimal("20000000.00"),  # min(30% × 80 M, 20 M): capped
        "sh-standardisation-fund": Decimal("1000000.00"),  # up to 1 M
    }
    excellent = next(m for m in matches if m.programme.id == "sh-smart-factory-excellent-2025")
    assert (excellent.status, excellent.fit) == ("closed", "eligible")  # would have qualified
    techtrans = next(m for m in matches if m.programme.id == "sh-techtrans-2026")
    assert techtrans.status == "ineligible"
    assert [r.text("en") for r in techtrans.reasons] == [
        "not met: fixed assets are more than 60% of the investment"
    ]
    insurance = next(m for m in matches if m.programme.id == "cn-first-unit-insurance")
    assert insurance.estimate.formula is not None
    assert (
        insurance.estimate.formula.en
        == "80% × 1,500,000 = 1,200,000 CNY (cap unknown; may be lower)"
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_examples_serialise(lang: str) -> None:
    import json

    for profile, result in (
        (ex.JINSHAN_MICRO, ex.JINSHAN_RESULT),
        (ex.JIADING_AUTO, ex.JIADING_RESULT),
        (ex.PUDONG_ELECTRONICS, ex.PUDONG_RESULT),
    ):
        for match in match_subsidies(CATALOGUE, profile, {}, result, on=ex.ON):
            data = match.to_dict(lang)
            json.dumps(data, ensure_ascii=False)
            assert data["source"] and data["confidence"]
