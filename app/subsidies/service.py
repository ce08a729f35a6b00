"""Subsidy advice for an assessment's answers against the catalogue on a given day (the advice
given at submission is kept with the result: ``app.results``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from scoring import Questionnaire, ScoreResult, score
from scoring.subsidies import Programme, ResultSnapshot
from scoring.subsidy_advice import SubsidyAdvice, subsidy_advice


def advise(
    programmes: Sequence[Programme],
    profile: Mapping[str, object],
    answers: Mapping[str, Any],
    result: ScoreResult | ResultSnapshot | None,
    on: date,
) -> SubsidyAdvice:
    return subsidy_advice(programmes, profile, answers, result, on=on)


def draft_advice(
    programmes: Sequence[Programme],
    questionnaire: Questionnaire,
    profile: Mapping[str, object],
    answers: Mapping[str, Any],
    on: date,
) -> SubsidyAdvice:
    """Advice for answers so far: a draft is scored as it stands (it has no roadmap yet)."""
    return advise(
        programmes, profile, answers, score(questionnaire, answers, profile, with_roadmap=False), on
    )
