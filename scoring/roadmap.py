"""Roadmap to the next rung (design §3, issue 14): a plan that provably gets there.

**Positions and effort.** A question climbs through its positions (``Question.positions``).
Moving it from position i to j costs the sum of the ``effort`` of positions i+1 … j (1 when a
file states none, so a v1 plan minimises the number of positions climbed).

**The plan.** Among all ways of moving answered, scored, applicable questions up, the plan is one
with the least total effort that reaches the next rung R (O ≥ R and every stage ≥ R − 0.25) and
meets every ``requires`` of every position it climbs through (reaching a position means
passing the ones below it, so their prerequisites hold too). *Within limits* means each
question moves by at most ``MAX_POSITIONS`` (two) positions, to a level no higher than
R + 0.25; the plan keeps within limits whenever any plan can. Only when none can is it
planned without them (``within_limits`` false, with ``LIMITS_NOTE`` saying so). Unanswered
and "n/a" questions are not guessed at; a requirement on one of them is unmet.

How it is found, exactly: within a stage, the most stage score for a given effort is a
multiple-choice knapsack (dynamic programme over effort, one choice per question); the stages are
then combined by a second programme over effort that keeps every stage at its bar and maximises
the overall gain, and the least effort whose overall gain reaches R is the plan. Questions whose
level some target ``requires`` and does not yet meet are enumerated (each of their choices), so
prerequisites are exact too. The effort bound grows by half until a plan is found, so small
plans are cheap. Beyond ``MAX_ENUMERATED`` such questions the plan is still valid but
``optimal`` is false.

Which plan of least effort (the tie-break): the first combination of the enumerated questions'
choices, in product order (served order, "no move" first, then lower targets first), that
reaches the least effort; within it the effort is shared between the stages as the second
programme finds it (ties to the least effort on the later stage), and each stage's moves are
read back from its table in served order, from the last question to the first, preferring no
move, then the lower target. To be fast without changing that, the tables of the questions no
combination affects are built once per search, a combination adds only the questions whose
usable moves it decides, bounds with every such move allowed skip most combinations before
their tables are built, and only the winner's tables are built in served order.

**Proof.** Before it is offered, the plan's answers are scored by the engine and the rung is
checked; the plan's ``overall`` and ``stages`` are the engine's: ``rescore`` from the firm's
tally when no ``applies_if`` reads a changed answer (the same levels, points and quotients as
``walk``), else the whole ``walk``. A plan whose changes would alter which questions apply is
rejected and planned again without such changes.

**Order.** Prerequisites first (a topological order of ``requires``); otherwise steps that lift
a stage holding the rung back first, then by gain per unit of effort, then in served order.

**Why not higher** names the binding stage — the stage furthest below its bar R − 0.25, or, when
only the overall score falls short, the lowest stage — and the (up to) three questions in it
that pull it down most (weight × (R − level)), with their levels.

**Other ideas** are single-position moves outside the plan, best gain per effort first, at most
``MAX_IDEAS``; they are labelled as ideas, not part of the plan.
"""

from __future__ import annotations

import math
import operator
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import cast

from scoring._raw import to_decimal
from scoring.conditions import Condition, Facts, evaluate, iter_leaves
from scoring.engine import (
    HeldBack,
    ScoreResult,
    Tally,
    compiled,
    condition_reads,
    display,
    rescore,
    rung_of,
    to_exact_decimal,
    walk,
)
from scoring.ladder import RUNG_LEVELS, RUNG_STEP, round_score, rung_label
from scoring.models import (
    NA,
    Answers,
    AnswerValue,
    Band,
    Option,
    Profile,
    Question,
    Questionnaire,
    Text,
)

__all__ = [
    "LIMITS_NOTE",
    "MAX_ENUMERATED",
    "MAX_IDEAS",
    "MAX_POSITIONS",
    "Holder",
    "Plan",
    "Roadmap",
    "Step",
    "WhyNotHigher",
    "describe_answer",
    "round_gain",
    "roadmap",
]

#: A plan within limits moves each question by at most this many positions …
MAX_POSITIONS = 2
#: … to a level at most this far above the next rung.
CAP_ABOVE = RUNG_STEP
#: Other single-step ideas listed next to the plan.
MAX_IDEAS = 5
#: Prerequisite questions enumerated exactly; beyond this the plan is valid but maybe not optimal.
MAX_ENUMERATED = 5
_GAIN_PLACES = Decimal("0.001")
_CENT = Decimal("0.01")  # ``display``'s places
#: Moves kept per question across calls (per position, rung and stage multiplier).
_MOVES_KEPT = 256
_HOLDERS = 3

LIMITS_NOTE = Text(
    "没有任何方案能在每题最多提升两档、且不超过下一级0.25的前提下达到下一级；"
    "下面的方案超出了这一范围（已标注的步骤）。",
    "No plan reaches the next rung while moving each answer at most two positions and no higher "
    "than 0.25 above that rung; the plan below goes beyond that (the marked steps).",
)


def _json_value(value: AnswerValue) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return list(value) if isinstance(value, list | tuple) else value


def _number_text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)


def round_gain(value: Decimal) -> Decimal:
    """A gain as shown (API, page, PDF, docs): half-up to three decimal places, so 0.0125 is
    0.013 everywhere (Decimal's own formatting would round it half-even to 0.012)."""
    return value.quantize(_GAIN_PLACES, rounding=ROUND_HALF_UP)


def _gain(value: Decimal) -> float:
    return float(round_gain(value))


#: ``display`` of the levels steps show: the questionnaires' levels, a few dozen values
_SHOWN_LEVELS: dict[Decimal, float] = {}


def _shown_level(level: Decimal) -> float:
    """``display(level)``, remembered: equal Decimals (2 and 2.0) display alike, so the value
    is the key."""
    shown = _SHOWN_LEVELS.get(level)
    if shown is None:
        if len(_SHOWN_LEVELS) >= 1024:  # levels are few; anything else must not pile up
            _SHOWN_LEVELS.clear()
        shown = _SHOWN_LEVELS[level] = display(level)
    return shown


def describe_answer(question: Question, value: AnswerValue) -> Text:
    """An answer in words: the option text(s), or the number with its unit."""
    if isinstance(value, str) and value == NA:
        return Text("不适用", "not applicable")
    if question.type == "number":
        number = _number_text(to_decimal(value) or Decimal(0))
        unit = question.unit or Text("", "")
        return Text(f"{number}{unit.zh}", f"{number} {unit.en}".rstrip())
    if isinstance(value, str):
        option = question.option(value)
        return Text("", "") if option is None else option.text
    ids = list(cast(Sequence[str], value))
    texts = [option.text for option in map(question.option, ids) if option is not None]
    return Text("、".join(t.zh for t in texts), "; ".join(t.en for t in texts))


@dataclass(frozen=True, slots=True, init=False)
class Step:
    """Change one answer: ``current`` → ``target``.

    ``gain`` is the exact rise in the overall score from this change alone, ``stage_gain`` the
    rise of its stage; ``effort`` the summed effort of the ``positions`` climbed; ``after`` the
    questions of earlier steps this one requires; ``within_limits`` whether it keeps to two
    positions and the next rung + 0.25.
    """

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
    stage_gain: Decimal = Decimal(0)
    effort: int = 1
    positions: int = 1
    after: tuple[str, ...] = ()
    within_limits: bool = True

    def __init__(
        self,
        question_id: str,
        stage_id: str,
        question: Text,
        current: AnswerValue,
        current_level: Decimal,
        current_text: Text,
        target: AnswerValue,
        target_level: Decimal,
        target_text: Text,
        gain: Decimal,
        lifts_binding_stage: bool,
        stage_gain: Decimal = Decimal(0),
        effort: int = 1,
        positions: int = 1,
        after: tuple[str, ...] = (),
        within_limits: bool = True,
    ) -> None:
        # Written out, not generated by ``dataclass``: mypyc compiles this one, while the
        # generated one stays interpreted even in the compiled build (a plan builds ~15 steps:
        # that was 11 % of a scoring with the roadmap). Frozen: each field is set as the
        # generated one sets it, with ``object.__setattr__`` spelled out and a literal name,
        # which mypyc compiles to a plain slot store (through an alias it is a Python call,
        # ~900 instructions a field).
        object.__setattr__(self, "question_id", question_id)
        object.__setattr__(self, "stage_id", stage_id)
        object.__setattr__(self, "question", question)
        object.__setattr__(self, "current", current)
        object.__setattr__(self, "current_level", current_level)
        object.__setattr__(self, "current_text", current_text)
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "target_level", target_level)
        object.__setattr__(self, "target_text", target_text)
        object.__setattr__(self, "gain", gain)
        object.__setattr__(self, "lifts_binding_stage", lifts_binding_stage)
        object.__setattr__(self, "stage_gain", stage_gain)
        object.__setattr__(self, "effort", effort)
        object.__setattr__(self, "positions", positions)
        object.__setattr__(self, "after", after)
        object.__setattr__(self, "within_limits", within_limits)

    def to_dict(self, lang: str) -> dict[str, object]:
        # ``display``, ``_gain`` and ``Text.get`` inlined: a result has ~15 steps, each called
        # per request (the same roundings, half-up to 2 and 3 places)
        en = lang == "en"
        current, target = self.current, self.target
        return {
            "question_id": self.question_id,
            "stage_id": self.stage_id,
            "question": self.question.en if en else self.question.zh,
            "current": current if current.__class__ is str else _json_value(current),
            "current_text": self.current_text.en if en else self.current_text.zh,
            "current_level": _shown_level(self.current_level),
            "target": target if target.__class__ is str else _json_value(target),
            "target_text": self.target_text.en if en else self.target_text.zh,
            "target_level": _shown_level(self.target_level),
            "gain": float(self.gain.quantize(_GAIN_PLACES, ROUND_HALF_UP)),
            "stage_gain": float(self.stage_gain.quantize(_GAIN_PLACES, ROUND_HALF_UP)),
            "effort": self.effort,
            "positions": self.positions,
            "after": list(self.after),
            "within_limits": self.within_limits,
            "lifts_binding_stage": self.lifts_binding_stage,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """The least-effort changes that reach ``rung``, in order, and the engine's scores for them."""

    rung: Decimal
    steps: tuple[Step, ...]
    overall: Decimal
    stages: dict[str, Decimal]
    effort: int
    within_limits: bool
    optimal: bool

    @property
    def limits_note(self) -> Text | None:
        """Why the plan goes beyond the limits (None when it keeps within them)."""
        return None if self.within_limits else LIMITS_NOTE

    def to_dict(self, lang: str) -> dict[str, object]:
        note = self.limits_note
        return {
            "rung": display(self.rung),
            "overall": display(self.overall),
            "stages": {stage_id: display(value) for stage_id, value in self.stages.items()},
            "effort": self.effort,
            "within_limits": self.within_limits,
            "limits_note": None if note is None else note.get(lang),
            "optimal": self.optimal,
        }


@dataclass(frozen=True, slots=True)
class Holder:
    """A question holding the binding stage down: its weight, level and answer."""

    question_id: str
    question: Text
    weight: Decimal
    level: Decimal
    answer_text: Text

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "question_id": self.question_id,
            "question": self.question.get(lang),
            "weight": float(self.weight),
            "level": display(self.level),
            "answer_text": self.answer_text.get(lang),
        }


@dataclass(frozen=True, slots=True)
class WhyNotHigher:
    """Why ``rung`` is not reached: the binding stage, its bar and the questions holding it."""

    rung: Decimal
    overall: Decimal
    stage_id: str
    stage_title: Text
    stage_score: Decimal
    stage_needed: Decimal
    stage_short: bool  # the stage itself is below its bar (not only the overall score)
    holders: tuple[Holder, ...]

    def text(self, lang: str) -> str:
        """The reason in words. The Chinese keeps to the house spacing rule (``scoring.ladder``):
        「数据采集」使您停在3.50集成级之下：该阶段3.00，这一级需要3.25。"""
        rung = rung_label(self.rung, lang)
        stage = self.stage_title.get(lang)
        score, needed = round_score(self.stage_score), round_score(self.stage_needed)
        overall, held = round_score(self.overall), round_score(self.rung)
        if lang == "en":
            names = "; ".join(
                f"{h.question.en} at {round_score(h.level)} ({h.answer_text.en})"
                for h in self.holders
            )
            if self.stage_short:
                head = (
                    f"{stage} holds you below {rung}: it scores {score}, the rung needs {needed}."
                )
            else:
                head = (
                    f"The overall index is {overall}, {rung} needs {held}; {stage} pulls it down "
                    f"most at {score}."
                )
            return f"{head} Holding {stage} down: {names}." if names else head
        names = "；".join(
            f"{h.question.zh}{round_score(h.level)}（{h.answer_text.zh}）" for h in self.holders
        )
        if self.stage_short:
            head = f"「{stage}」使您停在{rung}之下：该阶段{score}，这一级需要{needed}。"
        else:
            head = f"智造指数{overall}，{rung}需要{held}；拉低最多的是「{stage}」（{score}）。"
        return f"{head}拉低「{stage}」的题目：{names}。" if names else head

    def to_dict(self, lang: str) -> dict[str, object]:
        return {
            "rung": display(self.rung),
            "overall": display(self.overall),
            "stage_id": self.stage_id,
            "stage": self.stage_title.get(lang),
            "stage_score": display(self.stage_score),
            "stage_needed": display(self.stage_needed),
            "stage_short": self.stage_short,
            "holders": [holder.to_dict(lang) for holder in self.holders],
            "text": self.text(lang),
        }


@dataclass(frozen=True, slots=True)
class Roadmap:
    """The plan to ``next_rung``, other ideas and why the rung is not reached yet."""

    current_rung: Decimal
    next_rung: Decimal | None
    held_back_by: tuple[HeldBack, ...]
    plan: Plan | None
    ideas: tuple[Step, ...]
    why_not_higher: WhyNotHigher | None

    @property
    def steps(self) -> tuple[Step, ...]:
        """The plan's steps, in order (none without a plan)."""
        return () if self.plan is None else self.plan.steps

    def to_dict(self, lang: str) -> dict[str, object]:
        why = self.why_not_higher
        return {
            "version": 2,
            "current_rung": display(self.current_rung),
            "next_rung": None if self.next_rung is None else display(self.next_rung),
            "steps": [step.to_dict(lang) for step in self.steps],
            "plan": None if self.plan is None else self.plan.to_dict(lang),
            "ideas": [idea.to_dict(lang) for idea in self.ideas],
            "why_not_higher": None if why is None else why.to_dict(lang),
        }


# --- per-questionnaire preparation -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ladder:
    """A scored question's positions, prepared once per questionnaire."""

    question: Question
    served: int
    levels: tuple[Decimal, ...]
    efforts: tuple[int, ...]  # cumulative: climbing i → j costs efforts[j + 1] − efforts[i + 1]
    option_position: dict[str, int]
    positions: tuple[Option | Band, ...]
    dependent: bool  # some applies_if reads this question's answer
    single: bool  # a single-choice question (its position is its option's)
    scaled: tuple[int, ...]  # weight × level × scale, per position
    weight: int  # weight × scale
    requires: tuple[tuple[tuple[str, Decimal], ...], ...]  # per position
    any_requires: bool
    scale: int
    #: the moves up from each (position, level, cap, limited), see ``_climbs``
    climbs: dict[tuple[int, Decimal, Decimal, bool], list[_Climb]]
    #: … as ``_Move``s, also by stage index and multiplier (at most ``_MOVES_KEPT``); keyed by
    #: the option chosen (a single choice; else None: the level gives the position), the level,
    #: cap, limited, stage index and multiplier
    moves_up: dict[tuple[str | None, Decimal, Decimal, bool, int, int], list[_Move]]

    def points(self, level: Decimal) -> int:
        """``level`` in the units of ``scaled``."""
        return self.weight * int(level * self.scale)


def _ladders(questionnaire: Questionnaire) -> dict[str, _Ladder]:
    cached = questionnaire._cache.get("ladders")
    if cached is None:
        readers = condition_reads(questionnaire)
        ladders: dict[str, _Ladder] = {}
        scale = compiled(questionnaire)[1]
        for served, question in enumerate(questionnaire.questions):
            positions = question.positions()
            if not question.scored or not positions:
                continue
            cumulative = [0]
            for position in positions:
                cumulative.append(cumulative[-1] + position.effort)
            ladders[question.id] = _Ladder(
                question=question,
                served=served,
                levels=tuple(cast(Decimal, p.level) for p in positions),
                efforts=tuple(cumulative),
                option_position={p.id: i for i, p in enumerate(positions) if isinstance(p, Option)},
                positions=positions,
                dependent=question.id in readers,
                single=question.type == "single",
                scaled=tuple(
                    int(question.weight * scale) * int(cast(Decimal, p.level) * scale)
                    for p in positions
                ),
                weight=int(question.weight * scale),
                requires=tuple(
                    tuple((r.question, r.min_level) for r in p.requires) for p in positions
                ),
                any_requires=any(p.requires for p in positions),
                scale=scale,
                climbs={},
                moves_up={},
            )
        cached = ladders
        questionnaire._cache["ladders"] = cached
    return cast(dict[str, _Ladder], cached)


def _readers(questionnaire: Questionnaire) -> dict[str, tuple[Question, ...]]:
    """Question id → the questions whose applies_if reads its answer (cached)."""
    cached = questionnaire._cache.get("readers")
    if cached is None:
        found: dict[str, list[Question]] = {}
        for question in questionnaire.questions:
            if question.applies_if is None:
                continue
            for leaf in iter_leaves(question.applies_if):
                head, _, rest = leaf.field.partition(".")
                if head == "answers" and question not in found.setdefault(rest, []):
                    found[rest].append(question)
        cached = {key: tuple(value) for key, value in found.items()}
        questionnaire._cache["readers"] = cached
    return cast(dict[str, tuple[Question, ...]], cached)


# --- moves ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Move:
    """Move one question to position ``to``; its effect in the evaluator's integer units."""

    question: Question
    stage: int
    frm: int
    to: int
    level: Decimal
    effort: int
    d_num: int  # change of the stage numerator
    d_overall: int  # change of the overall numerator
    within_limits: bool
    ladder: _Ladder
    #: every position climbed through must have its prerequisites met
    requires: tuple[tuple[str, Decimal], ...]
    rate: float  # 100 × overall gain per effort (for the fractional bound, ``_rate``)

    def value(self, current: AnswerValue) -> AnswerValue:
        return _target_value(self.ladder, current, self.to)[0]


def _current_position(ladder: _Ladder, value: AnswerValue, level: Decimal) -> int:
    question = ladder.question
    if question.type == "single":
        return ladder.option_position[cast(str, value)]
    return bisect_right(ladder.levels, level) - 1  # the highest position not above the level


def _target_value(ladder: _Ladder, value: AnswerValue, to: int) -> tuple[AnswerValue, Text]:
    """The answer that puts ``ladder``'s question at position ``to``, and its words."""
    question = ladder.question
    position = ladder.positions[to]
    if isinstance(position, Option):
        if question.type == "single":
            return position.id, position.text
        kept = [i for i in cast(Sequence[str], value) if not _exclusive(question, i)]
        return [*kept, position.id], position.text
    if question.type == "multi":  # scoring: count
        chosen = [i for i in cast(Sequence[str], value) if not _exclusive(question, i)]
        spare = [o for o in question.options if not o.exclusive and o.id not in chosen]
        added = spare[: max(0, int(position.min) - len(chosen))]
        text = Text("、".join(o.text.zh for o in added), "; ".join(o.text.en for o in added))
        return [*chosen, *(o.id for o in added)], text
    assert question.min is not None
    unit = question.unit or Text("", "")
    low = max(position.min, question.min)
    shown = _number_text(low)
    if to + 1 < len(ladder.positions):
        upper = _number_text(cast(Band, ladder.positions[to + 1]).min)
        text = Text(
            f"{shown}–{upper}{unit.zh}（不含{upper}）",
            f"{shown} to under {upper} {unit.en}".rstrip(),
        )
    else:
        text = Text(f"≥ {shown}{unit.zh}", f"≥ {shown} {unit.en}".rstrip())
    return low, text


def _exclusive(question: Question, option_id: str) -> bool:
    option = question.option(option_id)
    return option is not None and option.exclusive


_Climb = tuple[int, Decimal, int, int, bool, tuple[tuple[str, Decimal], ...]]


def _climbs(ladder: _Ladder, frm: int, level: Decimal, cap: Decimal, limited: bool) -> list[_Climb]:
    """The moves up from position ``frm`` (answered at ``level``) in the question's own terms:
    target position and level, effort, stage-numerator gain, whether within limits, and the
    prerequisites of every position climbed. They depend on nothing else, so they are kept on
    the ladder (a few per position and rung)."""
    key = (frm, level, cap, limited)
    known = ladder.climbs.get(key)
    if known is not None:
        return known
    here = ladder.points(level)
    efforts = ladder.efforts
    last = len(ladder.levels) - 1
    if limited:
        last = min(last, frm + MAX_POSITIONS)
    climbs: list[_Climb] = []
    for to in range(frm + 1, last + 1):
        target_level = ladder.levels[to]
        if target_level <= level:
            continue
        within = to - frm <= MAX_POSITIONS and target_level <= cap
        if limited and not within:
            continue
        requires: tuple[tuple[str, Decimal], ...] = ()
        if ladder.any_requires:
            requires = tuple(r for p in ladder.requires[frm + 1 : to + 1] for r in p)
        climbs.append(
            (
                to,
                target_level,
                efforts[to + 1] - efforts[frm + 1],
                ladder.scaled[to] - here,
                within,
                requires,
            )
        )
    ladder.climbs[key] = climbs
    return climbs


class _Evaluator:
    """Scores hypothetical answer changes in exact integer arithmetic.

    With S a power of ten that makes every level and question weight whole, stage k's score is
    ``num[k] / den[k]`` and the overall score is ``overall / (ΣW × M)`` with ``M = lcm(den)``.
    A change of one answer adds fixed integers to one ``num[k]`` and to ``overall``.
    """

    def __init__(self, questionnaire: Questionnaire, base: Tally) -> None:
        scale = base.scale
        self.scale = scale
        self.stage_ids = [stage.id for stage in questionnaire.stages if stage.id in base.sums]
        self.position = {stage_id: k for k, stage_id in enumerate(self.stage_ids)}
        weights = _stage_weights(questionnaire)
        self.nums = [base.sums[s][0] for s in self.stage_ids]
        self.dens = [scale * base.sums[s][1] for s in self.stage_ids]
        lcm = 1
        for den in self.dens:
            lcm = lcm * den // _gcd(lcm, den)
        self.lcm = lcm
        self.multipliers = [
            weights[s] * (lcm // d) for s, d in zip(self.stage_ids, self.dens, strict=True)
        ]
        self.total_weight = sum(weights[s] for s in self.stage_ids)
        self.overall = sum(m * n for m, n in zip(self.multipliers, self.nums, strict=True))
        self.overall_denominator = Decimal(self.total_weight * lcm)
        self.stage_denominators = [Decimal(den) for den in self.dens]

    def gaps(self, rung: Decimal) -> tuple[list[int], int]:
        """What each stage and the overall numerator must still gain, times 100 (≤ 0: none)."""
        needed = int(rung * 100)
        stages = [(needed - 25) * d - 100 * n for n, d in zip(self.nums, self.dens, strict=True)]
        return stages, needed * self.total_weight * self.lcm - 100 * self.overall


def _stage_weights(questionnaire: Questionnaire) -> dict[str, int]:
    """Stage weights as whole numbers (scaled by one power of ten), cached."""
    cached = questionnaire._cache.get("stage_weights")
    if cached is None:
        stage_scale = 10 ** max(_places(stage.weight) for stage in questionnaire.stages)
        cached = {stage.id: int(stage.weight * stage_scale) for stage in questionnaire.stages}
        questionnaire._cache["stage_weights"] = cached
    return cast(dict[str, int], cached)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


# --- the plan ----------------------------------------------------------------------------------


class _Planner:
    """Builds candidate moves and finds the least-effort set that reaches the rung."""

    def __init__(
        self,
        questionnaire: Questionnaire,
        answers: Answers,
        profile: Profile | None,
        base: Tally,
        rung: Decimal,
    ) -> None:
        self.questionnaire = questionnaire
        self.answers = answers
        self.profile = profile
        self.base = base
        self.rung = rung
        self.cap = rung + CAP_ABOVE
        self.evaluator = _Evaluator(questionnaire, base)
        #: what each stage and the overall numerator must still gain (``_Evaluator.gaps``),
        #: read by every search and by why-not-higher; never changed in place
        self.stage_gaps, self.overall_gap = self.evaluator.gaps(rung)
        self.ladders = _ladders(questionnaire)
        self._moves: dict[tuple[bool, bool], dict[str, list[_Move]]] = {}
        self._applicable: set[str] | None = None
        self._facts: Facts | None = None

    def moves(self, *, limited: bool, dependent: bool) -> dict[str, list[_Move]]:
        """Candidate moves per question, cheapest first (``limited``: within limits only)."""
        key = (limited, dependent)
        cached = self._moves.get(key)
        if cached is not None:
            return cached
        if not dependent:  # the same moves, less those of questions an applies_if reads
            ladders = self.ladders
            kept = {
                qid: moves
                for qid, moves in self.moves(limited=limited, dependent=True).items()
                if not ladders[qid].dependent
            }
            self._moves[key] = kept
            return kept
        evaluator = self.evaluator
        multipliers = evaluator.multipliers
        position = evaluator.position
        levels = self.base.levels
        cap = self.cap
        found: dict[str, list[_Move]] = {}
        effective = self.base.effective
        ladders = self.ladders
        for qid, level in levels.items():
            ladder = ladders.get(qid)
            if ladder is None:
                continue
            question = ladder.question
            k = position[question.stage_id]
            multiplier = multipliers[k]
            # the same question, position, rung and stage multiplier: the same moves (a
            # single choice's position is its option's; any other question's, its level's)
            value = cast(str, effective[qid]) if ladder.single else None
            known = (value, level, cap, limited, k, multiplier)
            moves = ladder.moves_up.get(known)
            if moves is None:
                if len(ladder.moves_up) >= _MOVES_KEPT:
                    ladder.moves_up.clear()
                frm = _current_position(ladder, effective[qid], level)
                moves = ladder.moves_up[known] = [
                    _Move(
                        question,
                        k,
                        frm,
                        to,
                        target_level,
                        effort,
                        d_num,
                        multiplier * d_num,
                        within,
                        ladder,
                        requires,
                        100 * multiplier * d_num / effort,
                    )  # fmt: skip
                    for to, target_level, effort, d_num, within, requires in _climbs(
                        ladder, frm, level, cap, limited
                    )
                ]
            if ladder.dependent:
                moves = [
                    move
                    for move in moves
                    if self._keeps_applicability(qid, move.value(effective[qid]))
                ]
            if moves:
                found[qid] = moves
        self._moves[key] = found
        return found

    def _keeps_applicability(self, qid: str, value: AnswerValue) -> bool:
        readers = _readers(self.questionnaire).get(qid, ())
        if self._applicable is None:  # the base answers and what applies, once per firm
            self._applicable = {question.id for question in self.base.applicable}
            self._facts = Facts(self.profile or {}, dict(self.base.effective))
        applicable, facts = self._applicable, cast(Facts, self._facts)
        effective = cast(dict[str, AnswerValue], facts.answers)
        effective[qid] = value  # tried in place, put back below
        try:
            # An answered reader must keep applying (or not). So must an unanswered required
            # one: coming into play it scores nothing in this plan, but the firm must answer it
            # before it can submit, and its answer counts then (networking the first machines
            # made two data questions apply; at their lowest the promised rung was missed).
            # Only optional questions left blank may come into play.
            return all(
                evaluate(cast(Condition, reader.applies_if), facts) == (reader.id in applicable)
                for reader in readers
                if reader.required or self.answers.get(reader.id) is not None
            )
        finally:
            effective[qid] = self.base.effective[qid]

    def solve(self, moves: dict[str, list[_Move]]) -> tuple[list[_Move], bool] | None:
        """The least-effort set of moves (one per question at most) reaching the rung."""
        if not moves:
            return None
        levels = self.base.levels
        # A requirement already met by the current answers needs nothing; one on an
        # unanswered, n/a or non-applicable question can never be met.
        candidates: dict[str, list[_Move]] = {}
        demanded: dict[str, set[Decimal]] = {}
        # a question's last move climbs through every position its other moves do
        if not any(options[-1].requires for options in moves.values()):
            candidates = moves
        for qid, options in moves.items() if candidates is not moves else ():
            if not options[-1].requires:
                candidates[qid] = options
                continue
            kept = []
            for move in options:
                if not move.requires:
                    kept.append(move)
                    continue
                unmet = [(p, m) for p, m in move.requires if levels.get(p, _ZERO) < m]
                if any(p not in moves for p, _ in unmet):
                    continue
                for p, m in unmet:
                    demanded.setdefault(p, set()).add(m)
                kept.append(move)
            if kept:
                candidates[qid] = kept
        active = sorted((p for p in demanded if p in candidates), key=self._served)
        optimal = len(active) <= MAX_ENUMERATED
        enumerated = active[:MAX_ENUMERATED]
        if not candidates:
            return None
        ceiling = sum(options[-1].effort for options in candidates.values())  # the dearest last
        # a lower bound on the effort: the overall gap over the best overall gain per effort
        rates = map(_rate, candidates.values())
        floor = _fill(sorted(r for r in rates if r[1] > 0)[::-1], self.overall_gap)
        bound = ceiling if floor is None else max(2, math.ceil(1.25 * floor))
        while True:
            bound = min(bound, ceiling)
            best = self._search(candidates, enumerated, bound)
            if best is not None:
                return best, optimal
            if bound >= ceiling:
                return None
            bound = math.ceil(bound * 1.5)

    def _served(self, qid: str) -> int:
        return self.ladders[qid].served

    def _search(
        self,
        candidates: dict[str, list[_Move]],
        enumerated: list[str],
        bound: int,
    ) -> list[_Move] | None:
        """The least-effort plan with effort ≤ ``bound``, enumerating prerequisite questions.

        Every combination of the enumerated questions' moves (none first, in served order)
        is tried, in order; a later one must need strictly less effort, so the plan is the
        first combination's that needs the least. A question's moves are ordered by target
        and each climbs through the positions of the ones below it, so the moves whose
        prerequisites are met are always a prefix. Per group (the stages at their bars pooled;
        each short stage alone) the most gain per effort of the questions whose prefix no
        combination changes ("settled") is one table, built once in served order; a
        combination adds only the questions whose prefix it decides, and shares those rows
        with every combination deciding the same prefixes. The most gain per effort does not
        depend on the order of the questions, so the combinations compare exactly as one
        table per combination in served order would; only the winner's tables are then built
        in served order (from the settled rows before its first decided question) to pick its
        moves as such a table does.
        """
        levels = self.base.levels
        multipliers = self.evaluator.multipliers
        stage_gaps, overall_gap = self.stage_gaps, self.overall_gap
        enumerated_set = set(enumerated)
        # group 0 pools the stages already at their bar; each short stage is a group of its own
        members: list[list[int]] = [[k for k, gap in enumerate(stage_gaps) if gap <= 0]]
        members += [[k] for k, gap in enumerate(stage_gaps) if gap > 0]
        group_of = {k: g for g, ks in enumerate(members) for k in ks}
        count_groups = len(members)
        width = bound + 1
        index = {p: i for i, p in enumerate(enumerated)}
        # Per enumerated question, its choices: none (its current level), then each move whose
        # prerequisites on questions that are not enumerated are met (the others never are):
        # (level, effort, stage, 100 × stage gain, 100 × overall gain, prerequisites on
        # enumerated questions by index).
        choices: list[list[_Move | None]] = []
        infos: list[list[_Choice]] = []
        for p in enumerated:
            picks: list[_Move | None] = [None]
            info: list[_Choice] = [(levels.get(p, _ZERO), 0, 0, 0, 0, [])]
            for move in candidates[p]:
                if any(levels.get(q, _ZERO) < v for q, v in move.requires if q not in index):
                    continue
                picks.append(move)
                info.append(
                    (
                        move.level,
                        move.effort,
                        move.stage,
                        100 * move.d_num,
                        100 * move.d_overall,
                        [(index[q], v) for q, v in move.requires if q in index],
                    )
                )
            choices.append(picks)
            infos.append(info)
        # Per free question in served order: its group, its moves, how many of them have their
        # prerequisites on questions that are not enumerated met (a fixed prefix) and, when a
        # move of that prefix needs an enumerated question, per move those needs ("decided").
        prepared: list[tuple[int, list[_Move], int, list[list[tuple[int, Decimal]]] | None]] = []
        for qid, options in candidates.items():
            if qid in enumerated_set:
                continue
            fixed = len(options)
            checks: list[list[tuple[int, Decimal]]] | None = None
            if enumerated and options[-1].requires:  # the last move climbs through them all
                checks = []
                for k, move in enumerate(options):
                    if any(levels.get(q, _ZERO) < v for q, v in move.requires if q not in index):
                        fixed = k
                        break
                    checks.append([(index[q], v) for q, v in move.requires if q in index])
                if not any(checks):
                    checks = None
            if fixed:
                prepared.append((group_of[options[0].stage], options, fixed, checks))
        settled: list[list[list[_Move]]] = [[] for _ in members]
        decided: list[list[tuple[list[_Move], int, list[list[tuple[int, Decimal]]]]]] = [
            [] for _ in members
        ]
        reads: list[set[int]] = [set() for _ in members]  # enumerated questions a group reads
        for g, options, fixed, checks in prepared:
            if checks is None:
                settled[g].append(options[:fixed])
            else:
                decided[g].append((options, fixed, checks))
                reads[g].update(i for needs in checks for i, _ in needs)
        tables = [_table(settled[g], width, overall=g == 0) for g in range(count_groups)]
        base = [table.bests[-1] for table in tables]
        read = [sorted(indices) for indices in reads]
        # per group: rows by the choices of the questions it reads, and by decided move counts
        by_choice: list[dict[tuple[int, ...], list[int]]] = [{} for _ in members]
        by_counts: list[dict[tuple[int, ...], list[int]]] = [{(): row} for row in base]
        convolved: dict[tuple[int, ...], list[int]] = {}
        best: tuple[int, tuple[int, ...], list[list[int]]] | None = None
        short = [(members[g][0], multipliers[members[g][0]]) for g in range(1, count_groups)]
        # Bounds for any combination: every decided question with all its moves usable
        # ("relaxed"); per short stage the least effort at its bar, and over all groups (bars
        # ignored) the least effort that closes the overall gap.
        combinations = _combinations(infos, overall_gap, stage_gaps)
        # With a few combinations, trying each exactly costs about what the bounds would: only
        # more of them are worth bounding (the threshold chosen by callgrind instruction counts).
        bounded = len(combinations) > _BOUNDED_ABOVE
        relaxed = anyhow = []
        if bounded:
            relaxed = [
                _with_decided(
                    by_counts[g],
                    decided[g],
                    tuple(fixed for _, fixed, _ in decided[g]),
                    overall=g == 0,
                )
                for g in range(count_groups)
            ]
            anyhow = relaxed[0]
            for g, options, fixed, _ in prepared:
                if g:
                    anyhow = _add_moves(anyhow, options[:fixed], overall=True)
        # With bounds, the combinations are tried least bound first (ties in product order):
        # the first exact plan is then near the least, and every combination whose bound
        # exceeds it (or equals it, later in product order) is never tried. The plan is still
        # the first combination in product order that needs the least effort.
        ranked: Iterable[tuple[int, int]] = ((0, n) for n in range(len(combinations)))
        if bounded:
            ranked = []
            for n, (_, _, spent, gap, gaps) in enumerate(combinations):
                room = bound - spent
                if room < 0:
                    continue
                need = bisect_left(anyhow, -(-gap // 100), 0, room + 1)
                if need > room:
                    continue  # even with every decided move and no bars
                low = 0
                for g, (k, _) in enumerate(short, start=1):
                    low += bisect_left(relaxed[g], -(-gaps[k] // 100), 0, room + 1)
                if low > room:
                    continue  # the short stages alone need more
                ranked.append((spent + max(need, low), n))
            ranked.sort()
        first = len(combinations)  # the winner's position in product order
        for low, n in ranked:
            combo, levels_now, spent, gap, gaps = combinations[n]
            if best is None:
                limit = bound - spent
            else:
                if low > best[0]:
                    break  # ranked by bound: no later one can need less
                limit = best[0] - (n > first) - spent  # a later one must need strictly less
                if low - spent > limit:
                    continue
            if limit < 0:
                continue
            rows = base
            if enumerated:
                rows = []
                for g in range(count_groups):
                    if not read[g]:
                        rows.append(base[g])
                        continue
                    key = tuple(combo[i] for i in read[g])
                    row = by_choice[g].get(key)
                    if row is None:
                        counts = _counts(decided[g], levels_now)
                        row = by_choice[g][key] = _with_decided(
                            by_counts[g], decided[g], counts, overall=g == 0
                        )
                    rows.append(row)
            needs_now = [(rows[g], gaps[k], m) for g, (k, m) in enumerate(short, start=1)]
            effort = _least(rows[0], needs_now, gap, limit, convolved)
            if effort is not None:
                best = (spent + effort, combo, rows)
                first = n
        if best is None:
            return None
        return self._rebuild_plan(best, choices, infos, tables, prepared, short, convolved)

    def _rebuild_plan(
        self,
        best: tuple[int, tuple[int, ...], list[list[int]]],
        choices: list[list[_Move | None]],
        infos: list[list[_Choice]],
        tables: list[_Table],
        prepared: list[tuple[int, list[_Move], int, list[list[tuple[int, Decimal]]] | None]],
        short: list[tuple[int, int]],
        convolved: dict[tuple[int, ...], list[int]],
    ) -> list[_Move]:
        """The winning combination's moves: its effort shared out between the groups as
        ``_least`` found it (with the convolutions it made), then each group's moves read back
        as a table of its questions in served order would give them (``_rebuild``, from the
        settled table's rows)."""
        total, combo, rows = best
        chosen = [cast(_Move, choices[i][c]) for i, c in enumerate(combo) if c]
        levels_now = [info[c][0] for info, c in zip(infos, combo, strict=True)]
        stage_gaps = self.stage_gaps[:]
        for move in chosen:
            stage_gaps[move.stage] -= 100 * move.d_num
        needs = [(rows[g], stage_gaps[k], m) for g, (k, m) in enumerate(short, start=1)]
        budgets = _allot(rows[0], needs, total - sum(move.effort for move in chosen), convolved)
        # per group, its questions in served order with their usable moves; True: decided
        items: list[list[tuple[list[_Move], bool]]] = [[] for _ in tables]
        for g, options, fixed, checks in prepared:
            count = fixed
            if checks is not None:
                count = _counts([(options, fixed, checks)], levels_now)[0]
            if count:
                items[g].append((options[:count], checks is not None))
        found = list(chosen)
        for g, table in enumerate(tables):
            if budgets[g]:
                found += _rebuild(items[g], table, budgets[g])
        return found


_ZERO = Decimal(0)
#: Relaxed bounds are built only for more combinations than this (chosen by instruction counts).
_BOUNDED_ABOVE = 4


def _rate(options: list[_Move]) -> tuple[float, int]:
    """A question's best overall gain per effort and its largest gain (×100): with them a
    fractional knapsack bounds the effort of every plan from below (``_fill``)."""
    rate, top = options[0].rate, options[0].d_overall
    for move in options:
        if move.rate > rate:
            rate = move.rate
        if move.d_overall > top:
            top = move.d_overall
    return rate, 100 * top


def _fill(items: list[tuple[float, int]], gap: int) -> float | None:
    """The fractional-knapsack effort that closes ``gap`` with ``items`` (None: it cannot)."""
    if gap <= 0:
        return 0.0
    effort = 0.0
    for rate, top in items:
        if top >= gap:
            return effort + gap / rate
        effort += top / rate
        gap -= top
    return None


_Choice = tuple[Decimal, int, int, int, int, list[tuple[int, Decimal]]]


def _combinations(
    infos: list[list[_Choice]], overall_gap: int, stage_gaps: list[int]
) -> list[tuple[tuple[int, ...], list[Decimal], int, int, list[int]]]:
    """Every combination of the enumerated questions' choices whose prerequisites among them
    hold, in product order (the first question's choice most significant), with the levels it
    leaves, its effort and the overall and stage gaps still to close. Built question by
    question, so what a prefix adds up to is added once for all the combinations sharing it.
    """
    later: list[list[tuple[int, int, Decimal]]] = [[] for _ in infos]  # needs on a later one
    for i, info in enumerate(infos):
        for c, choice in enumerate(info):
            for j, level in choice[5]:
                if j > i:
                    later[j].append((i, c, level))
    partial: list[tuple[tuple[int, ...], list[Decimal], int, int, list[int]]] = [
        ((), [], 0, overall_gap, stage_gaps)
    ]
    for i, info in enumerate(infos):
        extended = []
        checks = later[i]
        for combo, levels_now, spent, gap, gaps in partial:
            for c, (level, cost, stage, d_num, d_overall, needs) in enumerate(info):
                if needs and any(j < i and levels_now[j] < v for j, v in needs):
                    continue
                if checks and any(combo[e] == ce and level < v for e, ce, v in checks):
                    continue
                if c:
                    changed = gaps[:]
                    changed[stage] -= d_num
                    extended.append(
                        (combo + (c,), [*levels_now, level], spent + cost, gap - d_overall, changed)
                    )
                else:
                    extended.append((combo + (0,), [*levels_now, level], spent, gap, gaps))
        partial = extended
    return partial


def _counts(
    decided: list[tuple[list[_Move], int, list[list[tuple[int, Decimal]]]]],
    levels_now: list[Decimal],
) -> tuple[int, ...]:
    """Per decided question, how many of its moves have their prerequisites met."""
    counts = []
    for _, count, checks in decided:
        for k, needed in enumerate(checks):
            if any(levels_now[i] < v for i, v in needed):
                count = k
                break
        counts.append(count)
    return tuple(counts)


def _with_decided(
    known: dict[tuple[int, ...], list[int]],
    decided: list[tuple[list[_Move], int, list[list[tuple[int, Decimal]]]]],
    counts: tuple[int, ...],
    *,
    overall: bool,
) -> list[int]:
    """The settled row with the decided questions' usable moves added, one question at a time;
    ``known`` keeps the row after each prefix of counts, for other combinations to share."""
    row = known[()]
    for i, (options, _, _) in enumerate(decided):
        after = known.get(counts[: i + 1])
        if after is None:
            after = known[counts[: i + 1]] = (
                _add_moves(row, options[: counts[i]], overall=overall) if counts[i] else row
            )
        row = after
    return row


_NONE = -(10**30)  # "impossible" in the programmes' integer gains (far below any real sum)


@dataclass(slots=True)
class _Table:
    """A multiple-choice knapsack over effort: ``bests[i][e]`` is the most gain from the first
    i questions' moves with effort ≤ e (``bests[-1]`` for all of them)."""

    items: list[list[_Move]]
    bests: list[list[int]]
    overall: bool  # gains in overall units (d_overall), else in stage units (d_num)


def _table(items: list[list[_Move]], width: int, *, overall: bool) -> _Table:
    """At most one move per question, in the given order; each row is built with C-level list
    operations."""
    bests = [[0] * width]
    for options in items:
        bests.append(_add_moves(bests[-1], options, overall=overall))
    return _Table(items, bests, overall)


def _best_row(items: list[list[_Move]], width: int, *, overall: bool) -> list[int]:
    """The last row of ``_table(items, width)`` alone (it does not depend on the order)."""
    best = [0] * width
    for options in items:
        best = _add_moves(best, options, overall=overall)
    return best


def _add_moves(best: list[int], options: list[_Move], *, overall: bool) -> list[int]:
    """``best`` (most gain per effort) with at most one of ``options`` added: at each effort e
    the most of ``best[e]`` and, per move that fits, ``best[e − cost] + gain``.

    Rows are non-decreasing, and from the first effort ``full`` at which ``best`` has its
    largest gain ``top`` on it is flat: from ``full`` plus the dearest fitting move's cost on,
    every term is ``top`` or ``top + gain``, so the new row is flat there too, at ``top`` plus
    the largest gain. Only the efforts below are compared one by one; the flat rest is one int
    object repeated (storing cell by cell boxed a new int each time).
    """
    width = len(best)
    top = best[-1]
    full = bisect_left(best, top)
    dearest = most = 0
    for move in options:
        if move.effort < width:
            dearest = max(dearest, move.effort)
            most = max(most, move.d_overall if overall else move.d_num)
    flat = min(full + dearest, width)
    row = best[:flat]
    for move in options:
        cost = move.effort
        if cost >= width:
            continue
        gain = move.d_overall if overall else move.d_num
        # index loops, not slices or enumerate: the compiled build runs them on machine ints
        for effort in range(cost, flat):
            value = best[effort - cost] + gain
            if value > row[effort]:
                row[effort] = value
    row += [top + most] * (width - flat)
    return row


def _stage_rows(
    pool: list[int],
    needs: list[tuple[list[int], int, int]],
    limit: int,
    convolved: dict[tuple[int, ...], list[int]],
) -> tuple[list[list[int]], list[int], list[int], list[list[int]]] | None:
    """The short stages' rows in overall units, the least effort at which each is at its bar,
    the least effort at which the pool and the first j are (``lows``), and the best overall
    gain per effort of the pool and the first j short stages (``totals``, all but the last;
    from ``convolved`` when ``_least`` made them)."""
    width = limit + 1
    stages: list[list[int]] = []
    starts: list[int] = []
    lows = [0]
    for row, need, multiplier in needs:
        start = bisect_left(row, -(-need // 100), 0, width)  # rows are non-decreasing
        if lows[-1] + start > limit:
            return None
        stages.append([multiplier * v for v in row[:width]])
        starts.append(start)
        lows.append(lows[-1] + start)
    totals: list[list[int]] = [pool]
    key: tuple[int, ...] = (id(pool),)
    for j, (row, _, multiplier) in enumerate(needs[:-1]):  # all but the last convolution
        key += (id(row), starts[j])
        totals.append(_convolved(convolved, key, totals[j], row, multiplier, starts[j], lows[j]))
    return stages, starts, lows, totals


def _convolved(
    convolved: dict[tuple[int, ...], list[int]],
    key: tuple[int, ...],
    earlier: list[int],
    row: list[int],
    multiplier: int,
    start: int,
    low: int,
) -> list[int]:
    """``earlier`` convolved with the short stage ``row`` (in overall units, as wide as the
    row), kept in ``convolved`` under ``key`` (the rows and starts it combines)."""
    known = convolved.get(key)
    if known is None:
        scaled = [multiplier * v for v in row]
        known = convolved[key] = _convolve(earlier, scaled, start, low, len(row))
    return known


def _least(
    pool: list[int],
    needs: list[tuple[list[int], int, int]],
    overall_gap: int,
    limit: int,
    convolved: dict[tuple[int, ...], list[int]],
) -> int | None:
    """Least effort ≤ ``limit``: the short stages at their bars and the overall gap closed.

    ``pool`` is the best gain per effort of the stages that are not short (overall units);
    each of ``needs`` is a short stage's row, its gap (×100) and its multiplier into overall
    units. Stage by stage the best overall gain for each effort is a max-plus convolution over
    the efforts at which both sides are at their bars. Every such best is non-decreasing in
    effort, so the least effort that closes the overall gap is, over the last stage's efforts
    i, the least i + j where j is the first effort at which the earlier stages gain enough (a
    bisection) — the last convolution is never evaluated. The others are kept in ``convolved``
    (by the rows and starts they combine, as wide as the rows): many combinations of
    prerequisite choices share them.
    """
    width = limit + 1
    if not needs:
        effort = bisect_left(pool, -(-overall_gap // 100), 0, width)
        return None if effort >= width else effort
    earlier, low = pool, 0  # low: the least effort at which the earlier stages are at their bars
    key: tuple[int, ...] = (id(pool),)
    for row, need, multiplier in needs[:-1]:
        start = bisect_left(row, -(-need // 100), 0, width)
        if low + start > limit:
            return None
        key += (id(row), start)
        earlier = _convolved(convolved, key, earlier, row, multiplier, start, low)
        low += start
    row, need, multiplier = needs[-1]
    start = bisect_left(row, -(-need // 100), 0, width)
    if low + start > limit:
        return None
    effort = width
    previous = None
    for i in range(start, width - low):
        gain = row[i]
        if gain == previous:
            continue  # the same gain for more effort: never sooner
        previous = gain
        if i + low >= effort:
            break
        j = bisect_left(earlier, -(-(overall_gap - 100 * multiplier * gain) // 100), low, width)
        effort = min(effort, i + j)
    return None if effort >= width else effort


def _allot(
    pool: list[int],
    needs: list[tuple[list[int], int, int]],
    effort: int,
    convolved: dict[tuple[int, ...], list[int]],
) -> list[int]:
    """How ``_least``'s ``effort`` is shared: the pool's, then each short stage's; ties go to
    the least effort on the later stage."""
    prepared = _stage_rows(pool, needs, effort, convolved)
    assert prepared is not None
    stages, starts, lows, totals = prepared
    shares: list[int] = []
    left = effort
    for j in range(len(needs) - 1, -1, -1):
        spent = _split(totals[j], stages[j], starts[j], lows[j], left)
        left -= spent
        shares.append(spent)
    return [left, *reversed(shares)]


def _split(earlier: list[int], stage: list[int], start: int, low: int, effort: int) -> int:
    """The least stage effort i with the most ``earlier[effort − i] + stage[i]``."""
    before = earlier[effort - start : (low - 1 if low else None) : -1]
    sums = list(map(operator.add, before, stage[start : effort - low + 1]))
    return start + sums.index(max(sums))


def _convolve(earlier: list[int], stage: list[int], start: int, low: int, width: int) -> list[int]:
    """Max-plus convolution: per effort e, the best ``earlier[e − i] + stage[i]`` (both at bars).

    Both rows are non-decreasing, so of the stage efforts with the same gain only the least
    can be best: only where the stage's gain rises is it added.
    """
    row = [_NONE] * width
    previous = None
    for i in range(start, width - low):
        gain = stage[i]
        if gain == previous:
            continue
        previous = gain
        # an index loop, as in ``_add_moves``: only the cells that rise are stored (a list
        # comprehension boxed every cell anew)
        for effort in range(low + i, width):
            value = earlier[effort - i] + gain
            if value > row[effort]:
                row[effort] = value
    return row


def _rebuild(items: list[tuple[list[_Move], bool]], table: _Table, budget: int) -> list[_Move]:
    """The moves behind the most gain with effort ≤ ``budget`` of ``items`` (served order;
    True: a decided question) as a served-order table of them reads them back: from the last
    question to the first, no move if the row before it has the same gain, else its first
    move that does.

    That row before question i (the most gain per effort of the questions before it) is not
    built: it is the settled ``table``'s row of the settled questions before i combined with
    the few decided questions before i, evaluated only at the efforts the reading needs (the
    most, over each way of choosing at most one move of each such decided question, of the
    settled row at the effort left plus those moves' gains).
    """
    overall = table.overall
    bests = table.bests
    combined = [(0, 0)]  # (effort, gain) of each choice of the decided questions so far
    before: list[list[tuple[int, int]]] = []
    for options, decided in items:
        before.append(combined)
        if decided:  # rows are non-decreasing: only the choices no cheaper one beats matter
            combined = _frontier(
                combined
                + [
                    (effort + move.effort, gain + (move.d_overall if overall else move.d_num))
                    for effort, gain in combined
                    for move in options
                    if effort + move.effort <= budget
                ]
            )
    settled = len(bests) - 1
    row = bests[settled]
    value = max(row[budget - effort] + gain for effort, gain in combined)
    picked: list[_Move] = []
    for i in range(len(items) - 1, -1, -1):
        options, decided = items[i]
        if not decided:
            settled -= 1
            row = bests[settled]
        pairs = before[i]
        if pairs is before[0]:  # no decided question before this one: the settled row itself
            if row[budget] == value:
                continue
            for move in options:
                cost = move.effort
                gain = move.d_overall if overall else move.d_num
                if cost <= budget and row[budget - cost] + gain == value:
                    picked.append(move)
                    budget -= cost
                    value -= gain
                    break
            continue
        if max(row[budget - e] + g for e, g in pairs if e <= budget) == value:
            continue
        for move in options:
            cost = move.effort
            gain = move.d_overall if overall else move.d_num
            left = budget - cost
            if left >= 0 and max(row[left - e] + g for e, g in pairs if e <= left) + gain == value:
                picked.append(move)
                budget = left
                value -= gain
                break
    return picked


def _frontier(choices: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The (effort, gain) pairs that no other pair beats with no more effort (least effort
    first); with a non-decreasing row, the most of row[x − effort] + gain is among them."""
    kept: list[tuple[int, int]] = []
    for effort, gain in sorted(choices, key=lambda choice: (choice[0], -choice[1])):
        if not kept or gain > kept[-1][1]:
            kept.append((effort, gain))
    return kept


def roadmap(
    questionnaire: Questionnaire, answers: Answers, profile: Profile | None, result: ScoreResult
) -> Roadmap:
    """The roadmap from ``result`` (a score of these answers) to the next rung."""
    base = walk(questionnaire, answers, profile)
    return build_roadmap(questionnaire, answers, profile, result.rung, result.held_back_by, base)


def build_roadmap(
    questionnaire: Questionnaire,
    answers: Answers,
    profile: Profile | None,
    rung: Decimal,
    held_back_by: tuple[HeldBack, ...],
    base: Tally,
) -> Roadmap:
    """``roadmap`` from the rung, what holds it back and the base tally already computed
    (internal to ``score``)."""
    if base.overall is None or rung == RUNG_LEVELS[-1]:
        return Roadmap(rung, None, held_back_by, None, (), None)
    next_rung = rung + RUNG_STEP
    planner = _Planner(questionnaire, answers, profile, base, next_rung)
    binding = {reason.stage_id for reason in held_back_by if reason.kind == "stage"}
    plan = _plan(planner, binding)
    in_plan = {step.question_id for step in plan.steps} if plan else set()
    ideas = _ideas(planner, binding, in_plan)
    why = _why_not_higher(questionnaire, planner)
    return Roadmap(rung, next_rung, held_back_by, plan, ideas, why)


def _plan(planner: _Planner, binding: set[str | None]) -> Plan | None:
    """Within limits if possible, else beyond; each candidate proven by the engine.

    Moves that change an answer some ``applies_if`` reads are tried first (each alone keeps
    every question's applicability); if together they alter it, the engine's re-score shows
    it and the plan is made again without such moves.
    """
    for limited in (True, False):
        for dependent in (True, False):
            solved = planner.solve(planner.moves(limited=limited, dependent=dependent))
            if solved is None:
                break  # without the dependent moves there are fewer options still
            chosen, optimal = solved
            proven = _prove(planner, chosen)
            if proven is None:
                continue
            overall, stages = proven
            steps = _order(planner, chosen, binding)
            return Plan(
                rung=planner.rung,
                steps=steps,
                overall=to_exact_decimal(overall),
                stages={
                    stage.id: to_exact_decimal(stages[stage.id])
                    for stage in planner.questionnaire.stages
                    if stage.id in stages
                },
                effort=sum(move.effort for move in chosen),
                within_limits=all(move.within_limits for move in chosen),
                optimal=optimal,
            )
    return None


def _prove(
    planner: _Planner, chosen: list[_Move]
) -> tuple[Fraction, Mapping[str, Fraction]] | None:
    """The engine's scores for the plan's answers, or None unless they reach the rung."""
    effective = planner.base.effective
    changes = {move.question.id: move.value(effective[move.question.id]) for move in chosen}
    # From the base tally when no applies_if reads a changed answer; else the whole walk.
    tally = rescore(planner.questionnaire, planner.base, changes)
    if tally is None:
        answers = dict(planner.answers)
        answers.update(changes)
        tally = walk(planner.questionnaire, answers, planner.profile)
        if tally.effective.keys() != effective.keys():
            return None
    overall = tally.overall
    if overall is None or rung_of(overall, tally.stages) < planner.rung:
        return None
    return overall, tally.stages


def _step(planner: _Planner, move: _Move, binding: set[str | None], after: tuple[str, ...]) -> Step:
    question = move.question
    evaluator = planner.evaluator
    qid = question.id
    current = planner.base.effective[qid]
    ladder = move.ladder
    target: AnswerValue
    if question.type == "single":  # both answers are options on the ladder
        option = cast(Option, ladder.positions[move.to])
        target, text = option.id, option.text
        current_text = cast(Option, ladder.positions[move.frm]).text
    else:
        target, text = _target_value(ladder, current, move.to)
        current_text = describe_answer(question, current)
    # Positional, in field order: matching sixteen keywords costs more than the rest of a step.
    return Step(
        qid,
        question.stage_id,
        question.text,
        current,
        planner.base.levels[qid],
        current_text,
        target,
        move.level,
        text,
        # Decimal division is correctly rounded, so this equals the reduced Fraction's Decimal
        Decimal(move.d_overall) / evaluator.overall_denominator,  # gain
        question.stage_id in binding and move.d_num > 0,  # lifts_binding_stage
        Decimal(move.d_num) / evaluator.stage_denominators[move.stage],  # stage_gain
        move.effort,
        move.to - move.frm,  # positions
        after,
        move.within_limits,
    )


def _rates_key(moves: Iterable[_Move]) -> Callable[[_Move], int]:
    """A sort key putting the highest overall gain per effort first, exactly: gain × (L ÷
    effort) with L a common multiple of every effort is a whole number in the same order."""
    common = 1
    for effort in {move.effort for move in moves}:
        common = common * effort // math.gcd(common, effort)

    def key(move: _Move) -> int:
        return -move.d_overall * (common // move.effort)

    return key


def _order(planner: _Planner, chosen: list[_Move], binding: set[str | None]) -> tuple[Step, ...]:
    """Prerequisites first; then binding-stage steps, gain per effort, served order."""
    levels = planner.base.levels
    in_plan = {move.question.id: move for move in chosen}
    needs = {
        move.question.id: tuple(
            sorted(
                {p for p, m in move.requires if p in in_plan and levels.get(p, _ZERO) < m},
                key=planner._served,
            )
        )
        if move.requires
        else ()
        for move in chosen
    }

    rate = _rates_key(chosen)

    def key(move: _Move) -> tuple[bool, int, int]:
        lifts = move.question.stage_id in binding and move.d_num > 0
        return (not lifts, rate(move), move.ladder.served)

    waiting = sorted(chosen, key=key)
    ordered = waiting
    if any(needs.values()):  # the first step whose prerequisites are done, each time
        done: set[str] = set()
        ordered = []
        while waiting:
            # by position: ``list.remove`` would compare moves with the dataclass's interpreted
            # ``__eq__``
            at = next(i for i, m in enumerate(waiting) if done.issuperset(needs[m.question.id]))
            ready = waiting.pop(at)
            done.add(ready.question.id)
            ordered.append(ready)
    return tuple(_step(planner, move, binding, needs[move.question.id]) for move in ordered)


def _ideas(planner: _Planner, binding: set[str | None], in_plan: set[str]) -> tuple[Step, ...]:
    """Single-position moves outside the plan whose prerequisites are met, best first."""
    levels = planner.base.levels
    found: list[_Move] = []
    for qid, options in planner.moves(limited=True, dependent=False).items():
        if qid in in_plan:
            continue
        move = options[0]
        if move.requires and any(levels.get(p, _ZERO) < m for p, m in move.requires):
            continue
        found.append(move)
    # ``found`` is in served order (the moves follow the tally's levels, which ``walk`` adds in
    # served order) and the sort is stable: ties stay in served order
    found.sort(key=_rates_key(found))
    return tuple(_step(planner, move, binding, ()) for move in found[:MAX_IDEAS])


def _why_not_higher(questionnaire: Questionnaire, planner: _Planner) -> WhyNotHigher | None:
    """Why the planner's rung is not reached (its gaps say whether the stage is short)."""
    base, rung = planner.base, planner.rung
    if not base.stages or base.overall is None:
        return None
    # The lowest stage, the first in served order on a tie: stage k scores nums[k] / dens[k]
    # (the evaluator's integers, equal to the tally's fractions), compared crosswise.
    evaluator = planner.evaluator
    nums, dens = evaluator.nums, evaluator.dens
    k = 0
    for j in range(1, len(nums)):
        if nums[j] * dens[k] < nums[k] * dens[j]:
            k = j
    stage_id = evaluator.stage_ids[k]
    stage = questionnaire.stage(stage_id)
    holders: list[tuple[Decimal, int, Question]] = []
    for i, question in enumerate(stage.questions):
        level = base.levels.get(question.id)
        if level is not None and level < rung:
            holders.append((-(question.weight * (rung - level)), i, question))
    holders.sort()  # by weight × shortfall, then position (unique: the question never decides)
    # positional, in field order (keyword matching costs more than the objects)
    return WhyNotHigher(
        rung,
        to_exact_decimal(base.overall),
        stage_id,
        stage.title,
        to_exact_decimal(base.stages[stage_id]),  # stage_score
        rung - RUNG_STEP,  # stage_needed
        planner.stage_gaps[k] > 0,  # stage_short: below the bar rung − 0.25
        tuple(
            Holder(
                question.id,
                question.text,
                question.weight,
                base.levels[question.id],
                describe_answer(question, base.effective[question.id]),
            )
            for _, _, question in holders[:_HOLDERS]
        ),
    )
