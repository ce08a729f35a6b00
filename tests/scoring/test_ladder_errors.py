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
    Questionnaire,
    QuestionnaireLoadError,
    ScoringError,
    crosswalk,
    round_score,
    rung_info,
)
from scoring.ladder import index_label, rung_label, score_label


def test_rungs() -> None:
    assert RUNG_LEVELS == tuple(
        Decimal(x) for x in ("2.75", "3.00", "3.25", "3.50", "3.75", "4.00")
    )
    assert [rung.name.en for rung in RUNGS] == [
        "Starting", "Planning", "Standardised", "Integrated", "Optimised", "Leading"
    ]  # fmt: skip
    assert rung_info(Decimal("3.5")).name.get("zh") == "集成级"
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
    assert walk.to_dict("zh")["cmmm"] == "L2规范级"
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


def test_rung_names_never_reuse_a_stage_name(full: Questionnaire) -> None:
    stage_titles = {t for stage in full.stages for t in (stage.title.zh, stage.title.en)}
    names = {t for rung in RUNGS for t in (rung.name.zh, rung.name.en)}
    assert not names & stage_titles
    # …and each rung is named after the CMMM level tag its crosswalk points to
    for rung in RUNGS[1:]:
        assert rung.crosswalk.cmmm.zh.endswith(rung.name.zh)
        assert rung.crosswalk.cmmm.en.endswith(rung.name.en)


def test_score_labels_always_name_the_zhizao_index() -> None:
    assert index_label(Decimal("3.4567"), "zh") == "智造指数3.46"
    assert index_label(Decimal("3.4567"), "en") == "zhizao index 3.46"
    assert index_label(None, "zh") == "智造指数 —"
    assert rung_label(Decimal("3.25"), "zh") == "3.25规范级"
    assert score_label(Decimal("3.46"), Decimal("3.25"), "zh") == (
        "智造指数3.46 · 3.25规范级（参考：CMMM L2规范级，工信部L2）"
    )
    assert score_label(Decimal("3.46"), Decimal("3.25"), "en") == (
        "zhizao index 3.46 · rung 3.25 Standardised (indicative: CMMM L2 Standardised, MIIT L2)"
    )
