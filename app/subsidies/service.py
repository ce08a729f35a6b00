"""Subsidy matching for stored assessments: as at submission, and as of today."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from scoring import Questionnaire, ScoreResult, score
from scoring.subsidies import Programme, ResultSnapshot, SubsidyMatch, match_subsidies

LANGS = ("zh", "en")


def match(
    programmes: Sequence[Programme],
    profile: Mapping[str, object],
    answers: Mapping[str, Any],
    result: ScoreResult | ResultSnapshot | None,
    on: date,
) -> list[SubsidyMatch]:
    return match_subsidies(programmes, profile, answers, result, on=on)


def stored_form(matches: Sequence[SubsidyMatch]) -> list[dict[str, Any]]:
    """How matches are kept with a result: each in both languages."""
    return [{lang: m.to_dict(lang) for lang in LANGS} for m in matches]


def localized(stored: Sequence[Mapping[str, Any]], lang: str) -> list[dict[str, Any]]:
    return [dict(entry[lang]) for entry in stored]


def exact_scores(result: ScoreResult) -> dict[str, Any]:
    """The unrounded scores, kept so that later re-matching compares exact values."""
    return {
        "overall": None if result.overall is None else str(result.overall),
        "rung": str(result.rung),
        "stages": {k: str(v) for k, v in result.stages.items()},
    }


def snapshot(exact: Mapping[str, Any]) -> ResultSnapshot:
    return ResultSnapshot(
        overall=None if exact["overall"] is None else Decimal(exact["overall"]),
        rung=Decimal(exact["rung"]),
        stages={k: Decimal(v) for k, v in exact["stages"].items()},
    )


def draft_matches(
    programmes: Sequence[Programme],
    questionnaire: Questionnaire,
    profile: Mapping[str, object],
    answers: Mapping[str, Any],
    on: date,
) -> list[SubsidyMatch]:
    """Matches for answers so far: a draft is scored as it stands."""
    return match(
        programmes, profile, answers, score(questionnaire, answers, profile, with_roadmap=False), on
    )
