"""The fast plan search returns exactly what the original search returned (issue 14, point 3).

``roadmap_oracle`` is the roadmap as it was before it was made fast. For a few hundred seeded
random firms of each questionnaire — complete and partial answers, n/a now and then, answers
tilted low, middling and high so every rung and the beyond-limits case come up — the roadmap
``score`` returns must equal the oracle's field by field: the same plan (effort, steps in the
same order with the same targets, gains, positions, prerequisites), ideas and why-not-higher.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest

from scoring import Questionnaire, applicable_questions, load_questionnaire, score
from scoring.models import AnswerValue, Question

from . import roadmap_oracle

ROOT = Path(__file__).resolve().parents[2] / "questionnaires"
QUESTIONNAIRES = [
    load_questionnaire(ROOT / name)
    for name in (
        "smart-manufacturing-maturity.v2.yaml",
        "quick-check.v2.yaml",
        "smart-manufacturing-maturity.yaml",
        "quick-check.yaml",
    )
]
FIRMS = 300


def tilted_value(question: Question, rng: random.Random, tilt: float) -> AnswerValue:
    """An answer near ``tilt`` (0 lowest … 1 highest) of the question's range, or any answer."""
    if question.allow_na and rng.random() < 0.08:
        return "n/a"
    wild = rng.random() < 0.25
    if question.type == "single":
        count = len(question.options)
        index = rng.randrange(count) if wild else round(tilt * (count - 1)) + rng.randint(-1, 1)
        return question.options[min(max(index, 0), count - 1)].id
    if question.type == "multi":
        plain = [o.id for o in question.options if not o.exclusive]
        exclusive = [o.id for o in question.options if o.exclusive]
        if exclusive and rng.random() < 0.15 * (1 - tilt):
            return [exclusive[0]]
        many = rng.randint(1, len(plain)) if wild else max(1, round(tilt * len(plain)))
        return rng.sample(plain, min(many, len(plain)))
    assert question.min is not None and question.max is not None
    share = Decimal(rng.randint(0, 1000) if wild else round(1000 * tilt)) / 1000
    return (question.min + (question.max - question.min) * share).quantize(Decimal("0.01"))


def firm(questionnaire: Questionnaire, seed: int) -> dict[str, AnswerValue]:
    """A seeded firm: every third one leaves some questions unanswered."""
    rng = random.Random(seed)
    tilt = rng.random()
    skip = 0.12 if seed % 3 == 0 else 0.0
    answers: dict[str, AnswerValue] = {}
    for question in questionnaire.questions:
        if rng.random() < skip or question not in applicable_questions(questionnaire, answers):
            continue
        answers[question.id] = tilted_value(question, rng, tilt)
    return answers


@pytest.mark.parametrize("questionnaire", QUESTIONNAIRES, ids=lambda q: f"{q.id}-v{q.version}")
def test_the_fast_search_plans_exactly_as_the_original(questionnaire: Questionnaire) -> None:
    planned = beyond = 0
    for seed in range(FIRMS):
        answers = firm(questionnaire, seed)
        result = score(questionnaire, answers)
        expected = roadmap_oracle.roadmap(questionnaire, answers, None, result)
        # repr shows every field of every step, exactly (Decimals included)
        assert repr(result.roadmap) == repr(expected), f"seed {seed}"
        assert result.roadmap is not None
        plan = result.roadmap.plan
        planned += plan is not None
        beyond += plan is not None and not plan.within_limits
    assert planned > FIRMS // 2  # the firms are mostly below the top rung, so plans are compared
    if questionnaire.version == 1:
        assert beyond  # v1's short ladders force plans beyond the limits now and then
