"""Ladder constants, display rounding, crosswalk; the error tree."""

from __future__ import annotations

from decimal import Decimal

import pytest

import scoring
from scoring import (
    RUNG_LEVELS,
    RUNGS,
    ConditionError,
    InvalidAnswers,
    LoadError,
    LoadIssue,
    QuestionnaireLoadError,
    ScoringError,
    crosswalk,
    round_score,
    rung_info,
)


def test_rungs() -> None:
    assert RUNG_LEVELS == tuple(
        Decimal(x) for x in ("2.75", "3.00", "3.25", "3.50", "3.75", "4.00")
    )
    assert [rung.name.en for rung in RUNGS] == [
        "Pre-3.0", "Automated", "Digitized", "Connected", "Data-driven", "Smart"
    ]  # fmt: skip
    assert rung_info(Decimal("3.5")).name.get("zh") == "网络化"
    with pytest.raises(ValueError, match="not a rung"):
        rung_info(Decimal("3.1"))


@pytest.mark.parametrize(
    ("value", "shown"),
    [("3.125", "3.13"), ("3.135", "3.14"), ("3.1249", "3.12"), ("3.25", "3.25"), ("2.755", "2.76")],
)
def test_round_half_up(value: str, shown: str) -> None:
    assert round_score(Decimal(value)) == Decimal(shown)


def test_crosswalk_is_indicative() -> None:
    walk = crosswalk(Decimal("3.25"))
    assert walk.indicative
    assert walk.to_dict("zh")["cmmm"] == "L2 规范级"
    assert crosswalk(Decimal("4.00")).miit.en.startswith("—")


def test_error_tree() -> None:
    assert issubclass(QuestionnaireLoadError, LoadError)
    assert issubclass(ConditionError, LoadError)
    assert issubclass(LoadError, ScoringError)
    assert issubclass(InvalidAnswers, ScoringError)
    one = QuestionnaireLoadError([LoadIssue("f.yaml", "", "empty")])
    assert str(one) == "1 problem found\n  f.yaml: empty"
    assert str(InvalidAnswers([])) == "0 invalid answers"


def test_public_api_is_exported() -> None:
    for name in scoring.__all__:
        assert hasattr(scoring, name), name
