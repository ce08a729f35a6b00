"""Roadmap to the next rung (design §3): ranked steps and the fewest-changes what-if.

**Steps.** For every answered, scored, applicable question that can go higher, one step: move
it to the next answer up (the lowest option, band or count whose level beats the current one).
Each step carries its exact gain in the overall score and whether it lifts a *binding* stage
(a stage named in ``held_back_by``). Ranking: steps that lift a binding stage first (the rung
cannot move without them), then by gain in overall per unit of question weight, then by gain,
then in served order. Unanswered and "n/a" questions are not guessed at.

**What-if.** The fewest answer changes that reach the next rung. Each candidate change moves a
question to its best answer. A greedy pass first adds, one at a time, the change that most
reduces the shortfall ``max(0, r − O) + Σ max(0, r − 0.25 − Ss)``; whenever the stage scores can
only rise with answer levels (no ``applies_if`` depends on a changed answer) this reaches the
rung whenever moving every candidate to its best answer does. Then every smaller set of
changes is tried exhaustively while that costs at most ``EXACT_SEARCH_BUDGET`` evaluations: if
all smaller sizes were searched, ``exact`` is True and the count is proven minimal. Finally each
chosen change is lowered to the least ambitious answer that still reaches the rung.

Hypothetical scoring is cheap: each candidate's effect on its stage and on the overall score is
precomputed as an exact fraction, so one evaluation is a few additions; only a change to an
answer that some ``applies_if`` reads is re-scored in full.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import cast

from scoring._raw import to_decimal
from scoring.conditions import iter_leaves
from scoring.engine import HeldBack, ScoreResult, Tally, display, to_exact_decimal, walk
from scoring.ladder import RUNG_LEVELS, RUNG_STEP
from scoring.models import NA, Answers, AnswerValue, Profile, Question, Questionnaire, Text

__all__ = ["EXACT_SEARCH_BUDGET", "Roadmap", "Step", "WhatIf", "describe_answer", "roadmap"]

#: How many hypothetical scorings the exact what-if search may spend.
EXACT_SEARCH_BUDGET = 1000
_GAIN_PLACES = Decimal("0.001")


def _json_value(value: AnswerValue) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return list(value) if isinstance(value, list | tuple) else value


def _number_text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)


def describe_answer(question: Question, value: AnswerValue) -> Text:
    """An answer in words: the option text(s), or the number with its unit."""
    if isinstance(value, str) and value == NA:
        return Text("不适用", "not applicable")
    if question.type == "number":
        number = _number_text(to_decimal(value) or Decimal(0))
        unit = question.unit or Text("", "")
        return Text(f"{number}{unit.zh}", f"{number} {unit.en}".rstrip())
    ids = [value] if isinstance(value, str) else list(cast(list[str], value))
    texts = [option.text for option in map(question.option, ids) if option is not None]
    return Text("、".join(t.zh for t in texts), "; ".join(t.en for t in texts))


@dataclass(frozen=True, slots=True)
class Step:
    """Change one answer: ``current`` → ``target``; ``gain`` is the exact rise in overall."""

    question_id: str
    stage_id: str
    question: Text
    current: AnswerValue
    current_level: Decimal
    current_text: Text
    target: AnswerValue
    target_level: Decimal
    target_text: Text
    gain: Decimal
    lifts_binding_stage: bool

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "question_id": self.question_id,
            "stage_id": self.stage_id,
            "question": self.question.get(lang),
            "current": _json_value(self.current),
            "current_text": self.current_text.get(lang),
            "current_level": display(self.current_level),
            "target": _json_value(self.target),
            "target_text": self.target_text.get(lang),
            "target_level": display(self.target_level),
            "gain": float(self.gain.quantize(_GAIN_PLACES, rounding=ROUND_HALF_UP)),
            "lifts_binding_stage": self.lifts_binding_stage,
        }


@dataclass(frozen=True, slots=True)
class WhatIf:
    """The fewest answer changes that reach ``rung``, and the scores they give."""

    rung: Decimal
    changes: tuple[Step, ...]
    overall: Decimal
    stages: dict[str, Decimal]
    exact: bool

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "rung": display(self.rung),
            "changes": [change.to_dict(lang) for change in self.changes],
            "overall": display(self.overall),
            "stages": {stage_id: display(value) for stage_id, value in self.stages.items()},
            "exact": self.exact,
        }


@dataclass(frozen=True, slots=True)
class Roadmap:
    """Ranked steps towards ``next_rung`` and the what-if (None if not reachable by answers)."""

    current_rung: Decimal
    next_rung: Decimal | None
    held_back_by: tuple[HeldBack, ...]
    steps: tuple[Step, ...]
    what_if: WhatIf | None

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "current_rung": display(self.current_rung),
            "next_rung": None if self.next_rung is None else display(self.next_rung),
            "steps": [step.to_dict(lang) for step in self.steps],
            "what_if": None if self.what_if is None else self.what_if.to_dict(lang),
        }


@dataclass(frozen=True, slots=True)
class _Target:
    """One hypothetical answer, with its exact effect in the evaluator's integer units."""

    index: int
    question: Question
    value: AnswerValue
    level: Decimal
    text: Text
    stage: int  # index into the evaluator's scored stages
    d_num: int  # change of that stage's numerator
    d_overall: int  # change of the overall numerator
    dependent: bool  # some applies_if reads this question's answer


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _targets(
    question: Question, value: AnswerValue, level: Decimal
) -> list[tuple[AnswerValue, Decimal, Text]]:
    """Answers to ``question`` scoring above ``level``, lowest level first."""
    found: list[tuple[AnswerValue, Decimal, Text]] = []
    if question.type == "single":
        for option in question.options:
            if option.level is not None and option.level > level:
                found.append((option.id, option.level, option.text))
    elif question.type == "multi" and question.scoring == "max":
        kept = [i for i in cast(list[str], value) if not question.option(i).exclusive]  # type: ignore[union-attr]
        for option in question.options:
            if not option.exclusive and option.level is not None and option.level > level:
                found.append(([*kept, option.id], option.level, option.text))
    elif question.type == "multi":
        chosen = [i for i in cast(list[str], value) if not question.option(i).exclusive]  # type: ignore[union-attr]
        spare = [o for o in question.options if not o.exclusive and o.id not in chosen]
        for band in question.bands:
            extra = int(band.min) - len(chosen)
            if band.level > level and extra > 0:
                added = spare[:extra]
                text = Text(
                    "、".join(o.text.zh for o in added), "; ".join(o.text.en for o in added)
                )
                found.append(([*chosen, *(o.id for o in added)], band.level, text))
    else:
        assert question.min is not None
        unit = question.unit or Text("", "")
        for i, band in enumerate(question.bands):
            if band.level <= level:
                continue
            low = max(band.min, question.min)
            shown = _number_text(low)
            if i + 1 < len(question.bands):
                upper = _number_text(question.bands[i + 1].min)
                text = Text(
                    f"{shown}–{upper}{unit.zh}（不含 {upper}）",
                    f"{shown} to under {upper} {unit.en}".rstrip(),
                )
            else:
                text = Text(f"≥ {shown}{unit.zh}", f"≥ {shown} {unit.en}".rstrip())
            found.append((low, band.level, text))
    found.sort(key=lambda item: item[1])
    return found


class _Evaluator:
    """Scores hypothetical answer changes in exact integer arithmetic.

    With S a power of ten that makes every level and question weight whole, stage k's score is
    ``num[k] / C[k]`` (``C[k] = S × Σ scaled weights``) and the overall score is
    ``overall / (ΣW × M)`` with ``M = lcm(C)``. A change of one answer adds fixed integers to one
    ``num[k]`` and to ``overall``, so trying a change costs a few integer additions. A change
    that would alter which answered questions apply is marked invalid for the what-if search.
    """

    def __init__(
        self, questionnaire: Questionnaire, answers: Answers, profile: Profile | None, base: Tally
    ) -> None:
        self.questionnaire = questionnaire
        self.answers = {key: value for key, value in answers.items() if value is not None}
        self.profile = profile
        self.base = base
        scale = base.scale
        stage_scale = 10 ** max(_places(stage.weight) for stage in questionnaire.stages)
        self.scale = scale
        self.stage_ids = [stage.id for stage in questionnaire.stages if stage.id in base.sums]
        self.position = {stage_id: k for k, stage_id in enumerate(self.stage_ids)}
        weights = {stage.id: int(stage.weight * stage_scale) for stage in questionnaire.stages}
        self.nums = [base.sums[s][0] for s in self.stage_ids]
        self.dens = [scale * base.sums[s][1] for s in self.stage_ids]
        self.lcm = math.lcm(*self.dens)
        self.factors = [self.lcm // den for den in self.dens]
        self.multipliers = [
            weights[s] * f for s, f in zip(self.stage_ids, self.factors, strict=True)
        ]
        self.total_weight = sum(weights[s] for s in self.stage_ids)
        self.overall = sum(m * n for m, n in zip(self.multipliers, self.nums, strict=True))
        self.dependents = {
            leaf.field.partition(".")[2]
            for question in questionnaire.questions
            if question.applies_if is not None
            for leaf in iter_leaves(question.applies_if)
            if leaf.field.startswith("answers.")
        }
        self.base_ids = frozenset(base.effective)
        self._valid: dict[frozenset[int], bool] = {}
        self._count = 0

    def target(self, question: Question, value: AnswerValue, level: Decimal, text: Text) -> _Target:
        k = self.position[question.stage_id]
        step = int((level - self.base.levels[question.id]) * self.scale)
        d_num = int(question.weight * self.scale) * step
        self._count += 1
        return _Target(
            self._count, question, value, level, text, k, d_num, self.multipliers[k] * d_num,
            question.id in self.dependents,
        )  # fmt: skip

    def valid(self, targets: Iterable[_Target]) -> bool:
        """Whether the changes leave the set of answered, applicable questions as it is."""
        moved = [target for target in targets if target.dependent]
        if not moved:
            return True
        key = frozenset(target.index for target in moved)
        if key not in self._valid:
            answers = dict(self.answers)
            answers.update((target.question.id, target.value) for target in moved)
            self._valid[key] = (
                frozenset(walk(self.questionnaire, answers, self.profile).effective)
                == self.base_ids
            )
        return self._valid[key]

    def apply(self, targets: Iterable[_Target]) -> tuple[list[int], int]:
        nums = list(self.nums)
        overall = self.overall
        for target in targets:
            nums[target.stage] += target.d_num
            overall += target.d_overall
        return nums, overall

    def reaches(self, nums: list[int], overall: int, rung: Decimal) -> bool:
        needed = int(rung * 100)
        if 100 * overall < needed * self.total_weight * self.lcm:
            return False
        stage_needed = needed - 25
        return all(100 * n >= stage_needed * d for n, d in zip(nums, self.dens, strict=True))

    def shortfall(self, nums: list[int], overall: int, rung: Decimal) -> int:
        """``max(0, r − O) + Σ max(0, r − 0.25 − S)`` times 100·ΣW·M (an exact integer)."""
        needed = int(rung * 100)
        total = max(0, needed * self.total_weight * self.lcm - 100 * overall)
        stage_needed = (needed - 25) * self.lcm
        for n, f in zip(nums, self.factors, strict=True):
            total += self.total_weight * max(0, stage_needed - 100 * n * f)
        return total

    def overall_fraction(self, overall: int) -> Fraction:
        return Fraction(overall, self.total_weight * self.lcm)

    def stage_fraction(self, nums: list[int], k: int) -> Fraction:
        return Fraction(nums[k], self.dens[k])


def roadmap(
    questionnaire: Questionnaire, answers: Answers, profile: Profile | None, result: ScoreResult
) -> Roadmap:
    """The roadmap from ``result`` (a score of these answers) to the next rung."""
    return build_roadmap(
        questionnaire, answers, profile, result, walk(questionnaire, answers, profile)
    )


def build_roadmap(
    questionnaire: Questionnaire,
    answers: Answers,
    profile: Profile | None,
    result: ScoreResult,
    base: Tally,
) -> Roadmap:
    """``roadmap`` with the base tally already computed (internal to ``score``)."""
    rung = result.rung
    if base.overall is None or rung == RUNG_LEVELS[-1]:
        return Roadmap(rung, None, result.held_back_by, (), None)
    next_rung = rung + RUNG_STEP
    evaluator = _Evaluator(questionnaire, answers, profile, base)
    binding = {reason.stage_id for reason in result.held_back_by if reason.kind == "stage"}
    ladders: list[list[_Target]] = []
    steps: list[tuple[tuple[object, ...], Step]] = []
    for position, question in enumerate(questionnaire.questions):
        level = base.levels.get(question.id)
        if level is None:
            continue
        value = answers[question.id]
        found = _targets(question, value, level)
        if not found:
            continue
        ladder = [evaluator.target(question, *item) for item in found]
        ladders.append(ladder)
        step = _step(evaluator, ladder[0], binding)
        if step.gain > 0 or step.lifts_binding_stage:
            key = (not step.lifts_binding_stage, -step.gain / question.weight, -step.gain, position)
            steps.append((key, step))
    steps.sort(key=lambda item: item[0])
    what_if = _what_if(evaluator, ladders, next_rung, binding)
    return Roadmap(rung, next_rung, result.held_back_by, tuple(step for _, step in steps), what_if)


def _step(evaluator: _Evaluator, target: _Target, binding: set[str | None]) -> Step:
    question = target.question
    base = evaluator.base
    assert base.overall is not None
    stage_id = question.stage_id
    if evaluator.valid([target]):
        gain = evaluator.overall_fraction(target.d_overall)
        lifted = target.d_num > 0
    else:  # the change alters which answers apply: score it in full
        answers = {**evaluator.answers, question.id: target.value}
        full = walk(evaluator.questionnaire, answers, evaluator.profile)
        gain = (full.overall or Fraction(0)) - base.overall
        lifted = full.stages.get(stage_id, Fraction(0)) > base.stages[stage_id]
    current = evaluator.answers[question.id]
    return Step(
        question_id=question.id,
        stage_id=stage_id,
        question=question.text,
        current=current,
        current_level=base.levels[question.id],
        current_text=describe_answer(question, current),
        target=target.value,
        target_level=target.level,
        target_text=target.text,
        gain=to_exact_decimal(gain),
        lifts_binding_stage=stage_id in binding and lifted,
    )


def _what_if(
    evaluator: _Evaluator, ladders: list[list[_Target]], rung: Decimal, binding: set[str | None]
) -> WhatIf | None:
    best = [ladder[-1] for ladder in ladders if evaluator.valid([ladder[-1]])]
    chosen = _greedy(evaluator, best, rung)
    if chosen is None:
        return None
    exact = True
    spent = 0
    for size in range(1, len(chosen)):
        combinations = math.comb(len(best), size)
        if spent + combinations > EXACT_SEARCH_BUDGET:
            exact = False
            break
        spent += combinations
        found = _best_of_size(evaluator, best, size, rung)
        if found is not None:
            chosen = found
            break
    by_question = {ladder[0].question.id: ladder for ladder in ladders}
    chosen = _lower(evaluator, chosen, by_question, rung)
    order = {question.id: i for i, question in enumerate(evaluator.questionnaire.questions)}
    chosen.sort(key=lambda target: order[target.question.id])
    nums, overall = evaluator.apply(chosen)
    stages = {
        stage_id: to_exact_decimal(evaluator.stage_fraction(nums, k))
        for k, stage_id in enumerate(evaluator.stage_ids)
    }
    changes = tuple(_step(evaluator, target, binding) for target in chosen)
    return WhatIf(
        rung, changes, to_exact_decimal(evaluator.overall_fraction(overall)), stages, exact
    )


def _greedy(evaluator: _Evaluator, best: list[_Target], rung: Decimal) -> list[_Target] | None:
    """Add, one at a time, the change that most reduces the shortfall (ties: higher overall)."""
    chosen: list[_Target] = []
    remaining = list(best)
    nums, overall = evaluator.apply(())
    while not evaluator.reaches(nums, overall, rung):
        current = evaluator.shortfall(nums, overall, rung)
        pick: tuple[int, int, int] | None = None
        for i, target in enumerate(remaining):
            if target.dependent and not evaluator.valid([*chosen, target]):
                continue
            nums[target.stage] += target.d_num
            gap = evaluator.shortfall(nums, overall + target.d_overall, rung)
            nums[target.stage] -= target.d_num
            if gap < current and (pick is None or (gap, -target.d_overall) < pick[:2]):
                pick = (gap, -target.d_overall, i)
        if pick is None:
            return None
        target = remaining.pop(pick[2])
        chosen.append(target)
        nums[target.stage] += target.d_num
        overall += target.d_overall
    return chosen


def _best_of_size(
    evaluator: _Evaluator, best: list[_Target], size: int, rung: Decimal
) -> list[_Target] | None:
    """Among all sets of ``size`` changes that reach ``rung``, the one with the highest overall.

    Every change raises its stage and the overall score, so a set reaches the rung exactly when
    its overall gain covers the overall shortfall and, in each stage now short, its gains there
    cover that stage's shortfall.
    """
    needed = int(rung * 100)
    overall_gap = needed * evaluator.total_weight * evaluator.lcm - 100 * evaluator.overall
    stage_gaps = {
        k: (needed - 25) * den - 100 * num
        for k, (num, den) in enumerate(zip(evaluator.nums, evaluator.dens, strict=True))
        if 100 * num < (needed - 25) * den
    }
    if len(stage_gaps) > size:
        return None  # each stage short needs a change of its own
    winner: tuple[int, tuple[_Target, ...]] | None = None
    for combination in itertools.combinations(best, size):
        gain = sum(target.d_overall for target in combination)
        if 100 * gain < overall_gap or (winner is not None and gain <= winner[0]):
            continue
        if stage_gaps:
            lifted = dict.fromkeys(stage_gaps, 0)
            for target in combination:
                if target.stage in lifted:
                    lifted[target.stage] += 100 * target.d_num
            if any(lifted[k] < gap for k, gap in stage_gaps.items()):
                continue
        if evaluator.valid(combination):
            winner = (gain, combination)
    return None if winner is None else list(winner[1])


def _lower(
    evaluator: _Evaluator,
    chosen: list[_Target],
    ladders: Mapping[str, list[_Target]],
    rung: Decimal,
) -> list[_Target]:
    """Lower each change to the least ambitious answer that still reaches ``rung``."""
    chosen = list(chosen)
    for i, target in enumerate(chosen):
        ladder = ladders[target.question.id]
        for lower in ladder[: ladder.index(target)]:
            trial = [*chosen[:i], lower, *chosen[i + 1 :]]
            if evaluator.reaches(*evaluator.apply(trial), rung) and evaluator.valid(trial):
                chosen[i] = lower
                break
    return chosen
