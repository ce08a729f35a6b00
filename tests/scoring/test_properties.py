"""Property tests (hypothesis) of the scoring rule, design §3."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import (
    MAX_LEVEL,
    MIN_LEVEL,
    Question,
    Questionnaire,
    applicable_questions,
    load_questionnaire,
    score,
)
from scoring.models import AnswerValue

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]
GOLDEN = load_questionnaire(DATA / "golden.yaml")
FULL = load_questionnaire(ROOT / "questionnaires" / "smart-manufacturing-maturity.yaml")
QUICK = load_questionnaire(ROOT / "questionnaires" / "quick-check.yaml")
QUESTIONNAIRES = [GOLDEN, FULL, QUICK]
QUARTER = Decimal("0.25")


def value_for(question: Question, rng: random.Random) -> AnswerValue:
    if question.allow_na and rng.random() < 0.1:
        return "n/a"
    if question.type == "single":
        return rng.choice(question.options).id
    if question.type == "multi":
        plain = [o.id for o in question.options if not o.exclusive]
        exclusive = [o.id for o in question.options if o.exclusive]
        if exclusive and rng.random() < 0.2:
            return [exclusive[0]]
        return rng.sample(plain, rng.randint(1, len(plain)))
    assert question.min is not None and question.max is not None
    step = Decimal(rng.randint(0, 1000)) / 1000
    return (question.min + (question.max - question.min) * step).quantize(Decimal("0.01"))


def random_answers(questionnaire: Questionnaire, rng: random.Random) -> dict[str, AnswerValue]:
    """Valid answers: each applicable question answered or skipped, in served order."""
    answers: dict[str, AnswerValue] = {}
    for question in questionnaire.questions:
        if rng.random() < 0.15 or question not in applicable_questions(questionnaire, answers):
            continue
        answers[question.id] = value_for(question, rng)
    return answers


seeds = st.integers(min_value=0, max_value=2**32 - 1)
questionnaires = st.sampled_from(QUESTIONNAIRES)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def independent(questionnaire: Questionnaire) -> set[str]:
    """Questions no applies_if reads (changing them cannot change which questions apply)."""
    read = {
        leaf_field.partition(".")[2]
        for q in questionnaire.questions
        if q.applies_if is not None
        for leaf_field in _fields(q)
    }
    return {q.id for q in questionnaire.questions} - read


def _fields(question: Question) -> list[str]:
    from scoring import iter_leaves

    assert question.applies_if is not None
    return [leaf.field for leaf in iter_leaves(question.applies_if)]


@SETTINGS
@given(questionnaires, seeds)
def test_scores_stay_on_the_ladder_and_rung_respects_stages(
    questionnaire: Questionnaire, seed: int
) -> None:
    result = score(questionnaire, random_answers(questionnaire, random.Random(seed)))
    for value in [*result.stages.values(), *([result.overall] if result.overall else [])]:
        assert MIN_LEVEL <= value <= MAX_LEVEL
    assert result.rung in {Decimal(x) / 4 for x in range(11, 17)}
    if result.stages:
        assert result.overall is not None
        assert result.rung <= min(result.stages.values()) + QUARTER
        assert result.rung <= result.overall or result.rung == MIN_LEVEL
    else:
        assert result.overall is None and result.rung == MIN_LEVEL


@SETTINGS
@given(questionnaires, seeds, st.data())
def test_raising_an_answer_never_lowers_a_score(
    questionnaire: Questionnaire, seed: int, data: st.DataObject
) -> None:
    rng = random.Random(seed)
    answers = random_answers(questionnaire, rng)
    before = score(questionnaire, answers, with_roadmap=False)
    movable = [qid for qid in before.question_levels if qid in independent(questionnaire)]
    if not movable:
        return
    qid = data.draw(st.sampled_from(movable))
    question = questionnaire.question(qid)
    higher = []
    for _ in range(30):
        candidate = value_for(question, rng)
        if candidate == "n/a":
            continue
        level = before.question_levels[qid]
        raised = score(questionnaire, {**answers, qid: candidate}, with_roadmap=False)
        if raised.question_levels[qid] >= level:
            higher.append(raised)
    for raised in higher:
        for stage_id, value in before.stages.items():
            assert raised.stages[stage_id] >= value
        assert raised.overall is not None and before.overall is not None
        assert raised.overall >= before.overall
        assert raised.rung >= before.rung


@SETTINGS
@given(questionnaires, seeds)
def test_answer_order_does_not_matter(questionnaire: Questionnaire, seed: int) -> None:
    rng = random.Random(seed)
    answers = random_answers(questionnaire, rng)
    items = list(answers.items())
    rng.shuffle(items)
    one = score(questionnaire, answers)
    two = score(questionnaire, dict(items))
    assert one.to_dict() == two.to_dict()
    assert (one.overall, one.stages, one.rung) == (two.overall, two.stages, two.rung)


@SETTINGS
@given(seeds)
def test_na_and_not_applicable_leave_the_denominator(seed: int) -> None:
    rng = random.Random(seed)
    answers = random_answers(GOLDEN, rng)
    answers.pop("q4", None)
    answers["q3"] = rng.choice(["l275", "l300", "l325"])  # q6 does not apply
    answers.pop("q6", None)
    base = score(GOLDEN, answers, with_roadmap=False)
    with_na = score(GOLDEN, {**answers, "q4": "n/a"}, with_roadmap=False)
    with_stale = score(GOLDEN, {**answers, "q6": ["z"]}, with_roadmap=False)
    assert base.stages == with_na.stages == with_stale.stages
    assert base.overall == with_na.overall == with_stale.overall


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(questionnaires, seeds)
def test_plan_reaches_the_next_rung(questionnaire: Questionnaire, seed: int) -> None:
    answers = random_answers(questionnaire, random.Random(seed))
    result = score(questionnaire, answers)
    roadmap = result.roadmap
    assert roadmap is not None
    if roadmap.plan is None:
        return
    plan = roadmap.plan
    changed = {step.question_id: step.target for step in plan.steps}
    after = score(questionnaire, {**answers, **changed}, with_roadmap=False)
    assert after.rung >= plan.rung == result.rung + QUARTER
    assert after.overall == plan.overall
    assert after.stages == plan.stages
    for step in plan.steps:
        assert step.target_level > step.current_level
        if plan.within_limits:
            assert step.positions <= 2 and step.target_level <= plan.rung + QUARTER


V2 = [
    load_questionnaire(ROOT / "questionnaires" / "smart-manufacturing-maturity.v2.yaml"),
    load_questionnaire(ROOT / "questionnaires" / "quick-check.v2.yaml"),
]


@SETTINGS
@given(st.sampled_from(QUESTIONNAIRES + V2), seeds)
def test_rescore_from_a_tally_equals_the_whole_walk(
    questionnaire: Questionnaire, seed: int
) -> None:
    """``rescore`` (the roadmap's proof of a plan) gives exactly ``walk``'s tally, and refuses
    a change that an ``applies_if`` reads or that is not a scored level yet."""
    from scoring.engine import condition_reads, rescore, walk

    rng = random.Random(seed)
    answers = random_answers(questionnaire, rng)
    base = walk(questionnaire, answers, None)
    reads = condition_reads(questionnaire)
    changes: dict[str, AnswerValue] = {}
    for qid in base.levels:
        if rng.random() < 0.4:
            value = value_for(questionnaire.question(qid), rng)
            if value != "n/a":
                changes[qid] = value
    tally = rescore(questionnaire, base, changes)
    expected = walk(questionnaire, {**answers, **changes}, None)
    if any(qid in reads for qid in changes):
        assert tally is None
        return
    assert tally is not None
    assert tally.levels == expected.levels and list(tally.levels) == list(expected.levels)
    assert tally.effective == expected.effective and tally.sums == expected.sums
    assert tally.stages == expected.stages and tally.overall == expected.overall
    assert tally.applicable == expected.applicable
    unscored = [q.id for q in questionnaire.questions if q.id not in base.levels]
    if unscored:
        assert rescore(questionnaire, base, {unscored[0]: "x"}) is None
