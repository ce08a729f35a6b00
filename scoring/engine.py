"""Scoring on the maturity ladder, exactly as design §3 says.

1. Each applicable, answered, scored question gets a level Lq (single: the option's level;
   multi ``max``: the highest chosen level; multi ``count``: the last band whose min ≤ the number
   of non-exclusive options chosen; number: the last band whose min ≤ the value).
2. Stage score S = Σ wq·Lq / Σ wq over those questions. "n/a" answers, unanswered questions,
   weight-0 (profiling) questions and questions whose ``applies_if`` is false are left out; a
   stage with none left has no score and is left out below.
3. Overall O = Σ Ws·Ss / Σ Ws over scored stages.
4. Rung = the highest r in {3.00, …, 4.00} with O ≥ r and every scored stage ≥ r − 0.25;
   otherwise 2.75. ``held_back_by`` names what stops the next rung.
5. Sums are exact ``Decimal``; quotients and every comparison use exact rationals
   (``fractions.Fraction``), so a score that is mathematically 3.25 always reaches the 3.25
   rung. The returned ``Decimal`` scores are the exact quotients to 28 significant digits;
   only ``to_dict`` rounds, half-up to 2 dp.

**Nothing scorable** (no answers yet, or only n/a): ``overall`` is None, ``stages`` is empty,
the rung is 2.75, ``held_back_by`` is empty and there is no roadmap.

``score`` ignores an answer whose question does not apply (its ``applies_if`` is false given the
other answers), as §3 leaves such questions out; ``validate_answers`` reports it as
``not_applicable`` so an API can reject it. A ``None`` answer counts as unanswered.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, cast

from scoring._raw import to_decimal
from scoring.conditions import Condition, Facts, evaluate, iter_leaves
from scoring.errors import AnswerIssue, InvalidAnswers, Phrase
from scoring.ladder import MIN_LEVEL, RUNG_LEVELS, RUNG_STEP, crosswalk, round_score, rung_info
from scoring.models import NA, Answers, AnswerValue, Option, Profile, Question, Questionnaire

if TYPE_CHECKING:
    from scoring.roadmap import Roadmap

__all__ = [
    "HeldBack",
    "ScoreResult",
    "applicable_questions",
    "question_level",
    "score",
    "validate_answers",
]

_EMPTY_PROFILE: Mapping[str, object] = {}
_THRESHOLDS = {level: (Fraction(level), Fraction(level - RUNG_STEP)) for level in RUNG_LEVELS}
#: Rungs are RUNG_STEP apart from MIN_LEVEL: rung k is (_FIRST_STEPS + k) steps of RUNG_STEP.
_STEPS_PER_UNIT = int(1 / RUNG_STEP)
_FIRST_STEPS = int(MIN_LEVEL * _STEPS_PER_UNIT)
assert RUNG_LEVELS == tuple(MIN_LEVEL + k * RUNG_STEP for k in range(len(RUNG_LEVELS)))


def display(value: Decimal) -> float:
    """A score as a JSON number: rounded half-up to 2 dp."""
    return float(round_score(value))


def to_exact_decimal(value: Fraction) -> Decimal:
    """The Decimal nearest an exact rational (exact whenever it terminates within 28 digits)."""
    return Decimal(value.numerator) / Decimal(value.denominator)


@dataclass(frozen=True, slots=True)
class HeldBack:
    """One reason the next rung (``rung``) is not reached: a score below what it needs."""

    kind: Literal["overall", "stage"]
    stage_id: str | None
    rung: Decimal
    needed: Decimal
    actual: Decimal

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "stage_id": self.stage_id,
            "rung": display(self.rung),
            "needed": display(self.needed),
            "actual": display(self.actual),
        }


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """The result of scoring one set of answers. Scores are exact; ``to_dict`` rounds them."""

    questionnaire_id: str
    questionnaire_version: int
    overall: Decimal | None
    rung: Decimal
    stages: dict[str, Decimal]
    question_levels: dict[str, Decimal]
    held_back_by: tuple[HeldBack, ...]
    roadmap: Roadmap | None = None

    def to_dict(self, lang: str = "zh") -> dict[str, object]:
        """JSON-able result (design §8): scores as numbers rounded half-up to 2 dp."""
        info = rung_info(self.rung)
        return {
            "overall": None if self.overall is None else display(self.overall),
            "rung": display(self.rung),
            "rung_name": info.name.get(lang),
            "stages": {stage_id: display(value) for stage_id, value in self.stages.items()},
            "held_back_by": [reason.to_dict() for reason in self.held_back_by],
            "roadmap": None if self.roadmap is None else self.roadmap.to_dict(lang),
            "crosswalk": crosswalk(self.rung).to_dict(lang),
        }


# --- levels -----------------------------------------------------------------------------------

_SINGLE, _MULTI_MAX, _MULTI_COUNT, _NUMBER = range(4)
_KINDS = {"single": _SINGLE, "number": _NUMBER}


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A question prepared for fast scoring (built once per questionnaire)."""

    question: Question
    id: str
    stage_id: str
    weight: int  # question weight × scale
    points: dict[Decimal, int]  # level → weight × level × scale²
    applies_if: Condition | None
    kind: int
    scored: bool
    levels: dict[Any, Decimal]  # option id → level
    option_ids: frozenset[str]
    exclusive: frozenset[str]
    band_mins: tuple[Decimal, ...]
    band_levels: tuple[Decimal, ...]

    def plainly_valid(self, value: object) -> bool:
        """A fast check that passes the common valid answers; False means "check in detail"."""
        kind = self.kind
        if kind == _SINGLE:
            return value.__class__ is str and value in self.option_ids
        if kind == _NUMBER:
            question = self.question
            plain = value.__class__ is int or (isinstance(value, Decimal) and value.is_finite())
            low, high = cast(Decimal, question.min), cast(Decimal, question.max)
            return plain and low <= cast(Decimal, value) <= high
        if value.__class__ is not list:
            return False
        items = cast(Sequence[str], value)
        try:
            chosen = set(items)
        except TypeError:
            return False
        return (
            len(chosen) == len(items) > 0
            and chosen <= self.option_ids
            and (len(items) == 1 or not self.exclusive & chosen)
        )

    def level(self, value: AnswerValue) -> Decimal:
        """The level of a valid, scored, non-"n/a" answer."""
        kind = self.kind
        if kind == _SINGLE:
            return self.levels[value]
        if kind == _MULTI_MAX:
            return max(map(self.levels.__getitem__, cast(Sequence[str], value)))
        number: Decimal | int
        if kind == _MULTI_COUNT:
            chosen = cast(Sequence[str], value)
            # an exclusive option ("none of these") is always chosen alone and counts 0
            number = 0 if len(chosen) == 1 and chosen[0] in self.exclusive else len(chosen)
        else:
            number = cast(Decimal, value if value.__class__ is not float else to_decimal(value))
        index = bisect_right(self.band_mins, number) - 1  # the last band whose min ≤ value
        return self.band_levels[max(index, 0)]


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _scale(questionnaire: Questionnaire) -> int:
    """A power of ten that makes every question weight and level a whole number."""
    numbers = [question.weight for question in questionnaire.questions]
    for question in questionnaire.questions:
        numbers += [option.level for option in question.options if option.level is not None]
        numbers += [band.level for band in question.bands]
    return int(10 ** max(map(_places, numbers)))


def compiled(questionnaire: Questionnaire) -> tuple[tuple[_Compiled, ...], int]:
    """The questions prepared for scoring and the integer scale (cached on the questionnaire)."""
    cached = questionnaire._cache.get("compiled")
    if cached is None:
        scale = _scale(questionnaire)
        cached = (tuple(_compile(q, scale) for q in questionnaire.questions), scale)
        questionnaire._cache["compiled"] = cached
    return cast(tuple[tuple[_Compiled, ...], int], cached)


def _compile(question: Question, scale: int = 1) -> _Compiled:
    kind = _KINDS.get(question.type, _MULTI_COUNT if question.scoring == "count" else _MULTI_MAX)
    weight = int(question.weight * scale)
    levels = [o.level for o in question.options if o.level is not None]
    levels += [band.level for band in question.bands]
    return _Compiled(
        question=question,
        id=question.id,
        stage_id=question.stage_id,
        weight=weight,
        points={level: weight * int(level * scale) for level in levels},
        applies_if=question.applies_if,
        kind=kind,
        scored=question.scored,
        levels={o.id: o.level for o in question.options if o.level is not None},
        option_ids=frozenset(o.id for o in question.options),
        exclusive=frozenset(o.id for o in question.options if o.exclusive),
        band_mins=tuple(band.min for band in question.bands),
        band_levels=tuple(band.level for band in question.bands),
    )


def question_level(question: Question, value: AnswerValue) -> Decimal | None:
    """The level of a *valid* answer; None for "n/a" and for unscored (weight-0) questions."""
    if not question.scored or (isinstance(value, str) and value == NA):
        return None
    return _compile(question).level(value)


# --- validation -------------------------------------------------------------------------------


def _check_value(question: Question, value: object) -> AnswerIssue | None:
    """The problem with an answer that failed ``_Compiled.plainly_valid``, or None."""
    qid = question.id

    def issue(code: str, message: Phrase) -> AnswerIssue:
        return AnswerIssue(qid, code, message)

    if isinstance(value, str) and value == NA:
        return None if question.allow_na else issue("na_not_allowed", Phrase("cannot be 'n/a'"))
    if question.type == "single":  # a known option id never gets here (plainly_valid)
        if isinstance(value, str):
            message = Phrase("%(option)s is not an option of this question", option=repr(value))
            return issue("unknown_option", message)
        message = Phrase(
            "expected one option id (a string), got %(type)s", type=type(value).__name__
        )
        return issue("wrong_type", message)
    if question.type == "number":
        number = to_decimal(value)
        if number is None:
            message = Phrase("expected a number, got %(type)s", type=type(value).__name__)
            return issue("not_a_number", message)
        assert question.min is not None and question.max is not None
        if not question.min <= number <= question.max:
            message = Phrase(
                "%(value)s is outside [%(min)s, %(max)s]",
                value=number,
                min=question.min,
                max=question.max,
            )
            return issue("out_of_bounds", message)
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        return issue("wrong_type", Phrase("expected a list of option ids"))
    if not value:
        return issue("empty_selection", Phrase("choose at least one option (or the 'none' option)"))
    if len(set(value)) != len(value):
        return issue("duplicate_option", Phrase("an option is chosen twice"))
    unknown = [item for item in value if question.option(item) is None]
    if unknown:
        message = Phrase("not options of this question: %(options)s", options=", ".join(unknown))
        return issue("unknown_option", message)
    exclusive = [item for item in value if cast(Option, question.option(item)).exclusive]
    if exclusive and len(value) > 1:
        message = Phrase(
            "%(option)s cannot be combined with other options", option=repr(exclusive[0])
        )
        return issue("exclusive_conflict", message)
    return None


@dataclass(slots=True)
class Tally:
    """Exact sums per stage and the resulting exact scores (internal, shared with roadmap)."""

    effective: dict[str, AnswerValue] = field(default_factory=dict)
    applicable: list[Question] = field(default_factory=list)
    levels: dict[str, Decimal] = field(default_factory=dict)
    #: stage → [Σ w·L, Σ w] as integers: w scaled by ``scale``, w·L by ``scale``².
    sums: dict[str, list[int]] = field(default_factory=dict)
    scale: int = 1
    stages: dict[str, Fraction] = field(default_factory=dict)
    overall: Fraction | None = None


def walk(
    questionnaire: Questionnaire,
    answers: Answers,
    profile: Profile | None,
    issues: list[AnswerIssue] | None = None,
) -> Tally:
    """One pass in served order: applicability, (optional) validation and exact sums.

    An answer counts only if its question applies; with ``issues`` given, invalid answers are
    reported there and left out (so later ``applies_if`` see them as unanswered).
    """
    result = Tally()
    effective = result.effective
    levels = result.levels
    sums = result.sums
    applicable = result.applicable
    get = answers.get
    facts = Facts(_EMPTY_PROFILE if profile is None else profile, effective)
    items, scale = compiled(questionnaire)
    result.scale = scale
    for item in items:
        condition = item.applies_if
        if condition is not None and not evaluate(condition, facts):
            if issues is not None and get(item.id) is not None:
                message = Phrase("this question does not apply given the other answers")
                issues.append(AnswerIssue(item.id, "not_applicable", message))
            continue
        applicable.append(item.question)
        value = get(item.id)
        if value is None:
            continue
        if issues is not None and not item.plainly_valid(value):
            problem = _check_value(item.question, value)
            if problem is not None:
                issues.append(problem)
                continue
        effective[item.id] = value
        if not item.scored or value == NA:
            continue
        level = item.level(value)
        levels[item.id] = level
        stage_sums = sums.get(item.stage_id)
        if stage_sums is None:
            sums[item.stage_id] = [item.points[level], item.weight]
        else:
            stage_sums[0] += item.points[level]
            stage_sums[1] += item.weight
    _finish(questionnaire, result)
    return result


def _finish(questionnaire: Questionnaire, tally: Tally) -> None:
    """The exact stage and overall scores from ``tally.sums``."""
    scale = tally.scale
    for stage_id, (num, den) in tally.sums.items():
        tally.stages[stage_id] = Fraction(num, den * scale)
    tally.overall = overall_of(questionnaire, tally.stages)


def condition_reads(questionnaire: Questionnaire) -> frozenset[str]:
    """The ids of the questions whose answers some ``applies_if`` reads (cached)."""
    cached = questionnaire._cache.get("condition_reads")
    if cached is None:
        cached = frozenset(
            leaf.field.partition(".")[2]
            for question in questionnaire.questions
            if question.applies_if is not None
            for leaf in iter_leaves(question.applies_if)
            if leaf.field.startswith("answers.")
        )
        questionnaire._cache["condition_reads"] = cached
    return cast(frozenset[str], cached)


def rescore(
    questionnaire: Questionnaire, base: Tally, changes: Mapping[str, AnswerValue]
) -> Tally | None:
    """``walk``'s tally of the answers behind ``base`` with ``changes`` made, from ``base``.

    Only when no ``applies_if`` reads a changed answer (so the same questions apply) and every
    changed question was already scored with a level (so only its stage's sum moves): each
    change replaces its question's points in that sum, with ``walk``'s own levels, points and
    quotients, so the result equals ``walk``'s. Otherwise None (call ``walk``). ``changes``
    must be valid, scored answers other than "n/a".
    """
    reads = condition_reads(questionnaire)
    by_id = _compiled_by_id(questionnaire)
    levels = dict(base.levels)
    effective = dict(base.effective)
    sums = {stage_id: stage_sums[:] for stage_id, stage_sums in base.sums.items()}
    for qid, value in changes.items():
        before = levels.get(qid)
        if before is None or qid in reads:
            return None
        item = by_id[qid]
        level = item.level(value)
        sums[item.stage_id][0] += item.points[level] - item.points[before]
        levels[qid] = level
        effective[qid] = value
    result = Tally(effective, list(base.applicable), levels, sums, base.scale)
    _finish(questionnaire, result)
    return result


def _compiled_by_id(questionnaire: Questionnaire) -> dict[str, _Compiled]:
    cached = questionnaire._cache.get("compiled_by_id")
    if cached is None:
        cached = {item.id: item for item in compiled(questionnaire)[0]}
        questionnaire._cache["compiled_by_id"] = cached
    return cast(dict[str, _Compiled], cached)


def _unknown_questions(questionnaire: Questionnaire, answers: Answers) -> list[AnswerIssue]:
    known = {question.id for question in questionnaire.questions}
    if known.issuperset(answers):
        return []
    message = Phrase("no such question in this questionnaire")
    return [AnswerIssue(key, "unknown_question", message) for key in answers if key not in known]


def applicable_questions(
    questionnaire: Questionnaire, answers: Answers, profile: Profile | None = None
) -> list[Question]:
    """The questions that apply given these answers and profile, in served order. An invalid
    answer (a form's, not validated yet) counts as unanswered, as in :func:`validate_answers`."""
    return walk(questionnaire, answers, profile, []).applicable


def validate_answers(
    questionnaire: Questionnaire,
    answers: Answers,
    profile: Profile | None = None,
    *,
    partial: bool = True,
) -> list[AnswerIssue]:
    """Every problem with ``answers``; [] when they are fine.

    ``partial=False`` (submitting) also reports each required, applicable question without an
    answer (code ``required``). An answer to a question that does not apply given the other
    answers is ``not_applicable``.
    """
    issues = _unknown_questions(questionnaire, answers)
    applicable = walk(questionnaire, answers, profile, issues).applicable
    if not partial:
        issues.extend(
            AnswerIssue(question.id, "required", Phrase("this question needs an answer"))
            for question in applicable
            if question.required and answers.get(question.id) is None
        )
    return issues


def overall_of(questionnaire: Questionnaire, stages: Mapping[str, Fraction]) -> Fraction | None:
    """O = Σ Ws·Ss / Σ Ws over the scored stages; None when no stage is scored."""
    if not stages:
        return None
    # Σ Ws·Ss as one fraction num/den built with integers; a single reduction at the end.
    num, den = 0, 1
    weights = Decimal(0)
    for stage in questionnaire.stages:
        value = stages.get(stage.id)
        if value is not None:
            w_num, w_den = stage.weight.as_integer_ratio()
            s_num, s_den = value.numerator * w_num, value.denominator * w_den
            num, den = num * s_den + s_num * den, den * s_den
            weights += stage.weight
    total_num, total_den = weights.as_integer_ratio()
    return Fraction(num * total_den, den * total_num)


def rung_of(overall: Fraction | None, stages: Mapping[str, Fraction]) -> Decimal:
    """The highest rung r with O ≥ r and every scored stage ≥ r − 0.25 (2.75 if none).

    In whole steps of 0.25 (exact integer floors, no ``Fraction`` comparisons): O ≥ r when
    ⌊4·O⌋ ≥ 4r, and a stage S ≥ r − 0.25 when ⌊4·S⌋ + 1 ≥ 4r.
    """
    if overall is None:
        return MIN_LEVEL
    steps = _STEPS_PER_UNIT * overall.numerator // overall.denominator
    for value in stages.values():
        steps = min(steps, _STEPS_PER_UNIT * value.numerator // value.denominator + 1)
    return RUNG_LEVELS[min(max(steps - _FIRST_STEPS, 0), len(RUNG_LEVELS) - 1)]


def held_back(
    questionnaire: Questionnaire,
    rung: Decimal,
    overall: Fraction | None,
    stages: Mapping[str, Fraction],
) -> tuple[HeldBack, ...]:
    """Why the rung above ``rung`` is not reached: the overall score, then stages in order."""
    if overall is None or rung == RUNG_LEVELS[-1]:
        return ()
    target = rung + RUNG_STEP
    overall_needed, stage_needed_exact = _THRESHOLDS[target]
    reasons: list[HeldBack] = []
    if overall < overall_needed:
        reasons.append(HeldBack("overall", None, target, target, to_exact_decimal(overall)))
    stage_needed = target - RUNG_STEP
    for stage in questionnaire.stages:
        value = stages.get(stage.id)
        if value is not None and value < stage_needed_exact:
            reasons.append(
                HeldBack("stage", stage.id, target, stage_needed, to_exact_decimal(value))
            )
    return tuple(reasons)


@cache
def _roadmap_builder() -> Callable[
    [Questionnaire, Answers, Profile | None, Decimal, tuple[HeldBack, ...], Tally], Roadmap
]:
    """``scoring.roadmap.build_roadmap``, imported on first use (the roadmap imports this module)
    and then kept: the compiled build takes the import lock for every import statement it runs,
    ~30,000 instructions a scoring."""
    from scoring.roadmap import build_roadmap

    return build_roadmap


def score(
    questionnaire: Questionnaire,
    answers: Answers,
    profile: Profile | None = None,
    *,
    with_roadmap: bool = True,
) -> ScoreResult:
    """Score ``answers`` (partial answers are fine); ``InvalidAnswers`` lists every bad one.

    ``with_roadmap=False`` skips the roadmap (for bulk or what-if scoring).
    """
    issues = _unknown_questions(questionnaire, answers)
    walk_issues: list[AnswerIssue] = []
    totals = walk(questionnaire, answers, profile, walk_issues)
    issues.extend(issue for issue in walk_issues if issue.code != "not_applicable")
    if issues:
        raise InvalidAnswers(issues)
    rung = rung_of(totals.overall, totals.stages)
    held_back_by = held_back(questionnaire, rung, totals.overall, totals.stages)
    plan = None
    if with_roadmap:  # built before the result, which is then made once (not copied)
        plan = _roadmap_builder()(questionnaire, answers, profile, rung, held_back_by, totals)
    return ScoreResult(
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        overall=None if totals.overall is None else to_exact_decimal(totals.overall),
        rung=rung,
        stages={
            stage.id: to_exact_decimal(totals.stages[stage.id])
            for stage in questionnaire.stages
            if stage.id in totals.stages
        },
        question_levels=totals.levels,
        held_back_by=held_back_by,
        roadmap=plan,
    )
