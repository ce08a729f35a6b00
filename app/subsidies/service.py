"""Subsidy matching of an assessment's answers against the catalogue on a given day (what was
matched at submission is kept with the result: ``app.results``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from scoring import Questionnaire, ScoreResult, score
from scoring.subsidies import Programme, ResultSnapshot, SubsidyMatch, match_subsidies


def match(
    programmes: Sequence[Programme],
    profile: Mapping[str, object],
    answers: Mapping[str, Any],
    result: ScoreResult | ResultSnapshot | None,
    on: date,
) -> list[SubsidyMatch]:
    return match_subsidies(programmes, profile, answers, result, on=on)


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
