"""Hand-computed golden cases (design §3), every rung boundary hit exactly.

The questionnaire is ``data/golden.yaml``: stages s1 (q1, q1b ×2), s2 (q2, q2b ×2) with weight 1
and s3 (q3, q4 number, q5 multi count, q6 multi max if q3 ≥ 3.50) with weight 2; so
O = (S1 + S2 + 2·S3) / 4 when all three stages are scored. Options ``lNNN`` have level N.NN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from scoring import Questionnaire, score
from scoring.models import AnswerValue

D = Decimal


@dataclass
class Case:
    name: str
    answers: dict[str, AnswerValue]
    overall: str | None
    stages: dict[str, str]
    rung: str
    held: list[tuple[str, str | None, str, str]] = field(default_factory=list)
    shown: float | None = None  # overall as displayed (half-up, 2 dp) when it differs


def equal(level: str) -> dict[str, AnswerValue]:
    option = "l" + level.replace(".", "")
    return {"q1": option, "q2": option, "q3": option}


CASES = [
    # Every rung exactly: all stages = r, so O = r.
    Case(
        "all 2.75",
        equal("2.75"),
        "2.75",
        {"s1": "2.75", "s2": "2.75", "s3": "2.75"},
        "2.75",
        [("overall", None, "3.00", "2.75")],
    ),
    Case(
        "all 3.00",
        equal("3.00"),
        "3",
        {"s1": "3", "s2": "3", "s3": "3"},
        "3.00",
        [("overall", None, "3.25", "3")],
    ),
    Case(
        "all 3.25",
        equal("3.25"),
        "3.25",
        {"s1": "3.25", "s2": "3.25", "s3": "3.25"},
        "3.25",
        [("overall", None, "3.50", "3.25")],
    ),
    Case(
        "all 3.50",
        equal("3.50"),
        "3.5",
        {"s1": "3.5", "s2": "3.5", "s3": "3.5"},
        "3.50",
        [("overall", None, "3.75", "3.5")],
    ),
    Case(
        "all 3.75",
        equal("3.75"),
        "3.75",
        {"s1": "3.75", "s2": "3.75", "s3": "3.75"},
        "3.75",
        [("overall", None, "4.00", "3.75")],
    ),
    Case("all 4.00", equal("4.00"), "4", {"s1": "4", "s2": "4", "s3": "4"}, "4.00", []),
    # O exactly r with the lowest stage exactly r − 0.25: (r−.25 + r+.25 + 2r) / 4 = r.
    Case(
        "O=3.00, S1=2.75",
        {"q1": "l275", "q2": "l325", "q3": "l300"},
        "3",
        {"s1": "2.75", "s2": "3.25", "s3": "3"},
        "3.00",
        [("overall", None, "3.25", "3"), ("stage", "s1", "3.00", "2.75")],
    ),
    Case(
        "O=3.25, S1=3.00",
        {"q1": "l300", "q2": "l350", "q3": "l325"},
        "3.25",
        {"s1": "3", "s2": "3.5", "s3": "3.25"},
        "3.25",
        [("overall", None, "3.50", "3.25"), ("stage", "s1", "3.25", "3")],
    ),
    Case(
        "O=3.50, S1=3.25",
        {"q1": "l325", "q2": "l375", "q3": "l350"},
        "3.5",
        {"s1": "3.25", "s2": "3.75", "s3": "3.5"},
        "3.50",
        [("overall", None, "3.75", "3.5"), ("stage", "s1", "3.50", "3.25")],
    ),
    Case(
        "O=3.75, S1=3.50",
        {"q1": "l350", "q2": "l400", "q3": "l375"},
        "3.75",
        {"s1": "3.5", "s2": "4", "s3": "3.75"},
        "3.75",
        [("overall", None, "4.00", "3.75"), ("stage", "s1", "3.75", "3.5")],
    ),
    # O reaches r but a stage is more than one rung behind: the stage caps the rung.
    Case(
        "O=3.25 capped by S1=2.75",
        {"q1": "l275", "q2": "l375", "q3": "l325"},
        "3.25",
        {"s1": "2.75", "s2": "3.75", "s3": "3.25"},
        "3.00",
        [("stage", "s1", "3.00", "2.75")],
    ),
    # O just below a rung: (3 + 3.25 + 6.5) / 4 = 3.1875.
    Case(
        "O=3.1875",
        {"q1": "l300", "q2": "l325", "q3": "l325"},
        "3.1875",
        {"s1": "3", "s2": "3.25", "s3": "3.25"},
        "3.00",
        [("overall", None, "3.25", "3.1875")],
        3.19,
    ),
    # Half-up display: (3 + 3 + 6.5) / 4 = 3.125 shows as 3.13 (banker's rounding would say 3.12).
    Case(
        "O=3.125 shows 3.13",
        {"q1": "l300", "q2": "l300", "q3": "l325"},
        "3.125",
        {"s1": "3", "s2": "3", "s3": "3.25"},
        "3.00",
        [("overall", None, "3.25", "3.125")],
        3.13,
    ),
    # Thirds: S1 = (3 + 2·3.5)/3 = 10/3, S2 = (3.5 + 2·3)/3 = 19/6, S3 unscored;
    # O = (10/3 + 19/6) / 2 = 39/12 = 3.25 exactly, so the 3.25 rung is reached.
    Case(
        "thirds reach 3.25 exactly",
        {"q1": "l300", "q1b": "l350", "q2": "l350", "q2b": "l300"},
        "3.25",
        {"s1": "3.333333333333333333333333333", "s2": "3.166666666666666666666666667"},
        "3.25",
        [
            ("overall", None, "3.50", "3.25"),
            ("stage", "s2", "3.25", "3.166666666666666666666666667"),
        ],
    ),
    # n/a leaves the denominator; count scoring: 2 chosen → 3.25. S3 = (3.5 + 3.25)/2 = 3.375.
    Case(
        "n/a and count",
        {"q1": "l300", "q2": "l300", "q3": "l350", "q4": "n/a", "q5": ["a", "b"]},
        "3.1875",
        {"s1": "3", "s2": "3", "s3": "3.375"},
        "3.00",
        [("overall", None, "3.25", "3.1875")],
        3.19,
    ),
    # Number bands: 40 is the first value of the 3.50 band. S3 = (3 + 3.5)/2 = 3.25.
    Case(
        "band edge 40",
        {"q1": "l325", "q2": "l325", "q3": "l300", "q4": 40},
        "3.25",
        {"s1": "3.25", "s2": "3.25", "s3": "3.25"},
        "3.25",
        [("overall", None, "3.50", "3.25")],
    ),
    # 39.99 is still in the 3.25 band. S3 = (3 + 3.25)/2 = 3.125; O = (6.5 + 6.25)/4 = 3.1875.
    Case(
        "band edge 39.99",
        {"q1": "l325", "q2": "l325", "q3": "l300", "q4": 39.99},
        "3.1875",
        {"s1": "3.25", "s2": "3.25", "s3": "3.125"},
        "3.00",
        [("overall", None, "3.25", "3.1875")],
        3.19,
    ),
    # q6 does not apply when q3 < 3.50: its answer is left out. S3 = 3.
    Case(
        "not applicable left out",
        {"q1": "l300", "q2": "l300", "q3": "l300", "q6": ["z"]},
        "3",
        {"s1": "3", "s2": "3", "s3": "3"},
        "3.00",
        [("overall", None, "3.25", "3")],
    ),
    # q6 applies: multi max takes the highest chosen level, 3.75. S3 = (3.5 + 3.75)/2 = 3.625;
    # O = (3.5 + 3.5 + 7.25)/4 = 3.5625.
    Case(
        "multi max",
        {"q1": "l350", "q2": "l350", "q3": "l350", "q6": ["x", "y"]},
        "3.5625",
        {"s1": "3.5", "s2": "3.5", "s3": "3.625"},
        "3.50",
        [("overall", None, "3.75", "3.5625")],
        3.56,
    ),
    # An exclusive "none" counts 0 → 2.75. S3 = (3 + 2.75)/2 = 2.875; O = (6 + 5.75)/4 = 2.9375.
    Case(
        "exclusive none counts zero",
        {"q1": "l300", "q2": "l300", "q3": "l300", "q5": ["none"]},
        "2.9375",
        {"s1": "3", "s2": "3", "s3": "2.875"},
        "2.75",
        [("overall", None, "3.00", "2.9375")],
        2.94,
    ),
    # Unscored stages are left out of O and of the rung test.
    Case(
        "one stage only",
        {"q1": "l350"},
        "3.5",
        {"s1": "3.5"},
        "3.50",
        [("overall", None, "3.75", "3.5")],
    ),
    # Nothing scorable: overall None, rung 2.75, nothing holds it back.
    Case("nothing answered", {}, None, {}, "2.75", []),
    Case("only n/a", {"q4": "n/a"}, None, {}, "2.75", []),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_golden(golden: Questionnaire, case: Case) -> None:
    result = score(golden, case.answers)

    assert result.overall == (None if case.overall is None else D(case.overall))
    assert result.stages == {key: D(value) for key, value in case.stages.items()}
    assert list(result.stages) == list(case.stages)  # served order
    assert result.rung == D(case.rung)
    held = [(h.kind, h.stage_id, h.needed, h.actual) for h in result.held_back_by]
    assert held == [
        (kind, stage, D(needed), D(actual)) for kind, stage, needed, actual in case.held
    ]
    shown = result.to_dict()["overall"]
    expected_shown = (
        case.shown
        if case.shown is not None
        else (None if case.overall is None else float(D(case.overall)))
    )
    assert shown == expected_shown


def test_overall_exact_decimal_keeps_precision(golden: Questionnaire) -> None:
    result = score(golden, {"q1": "l300", "q1b": "l350"})
    assert result.overall == D("3.333333333333333333333333333")
    assert result.to_dict()["overall"] == 3.33


def test_held_back_names_the_next_rung(golden: Questionnaire) -> None:
    result = score(golden, {"q1": "l300", "q2": "l350", "q3": "l325"})
    assert {h.rung for h in result.held_back_by} == {D("3.50")}
    assert result.to_dict()["held_back_by"] == [
        {"kind": "overall", "stage_id": None, "rung": 3.5, "needed": 3.5, "actual": 3.25},
        {"kind": "stage", "stage_id": "s1", "rung": 3.5, "needed": 3.25, "actual": 3.0},
    ]
