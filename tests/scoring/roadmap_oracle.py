"""The roadmap as it was before the search was made fast (issue 14, point 3) — a test oracle.

A copy of ``scoring/roadmap.py`` at 5127552 (roadmap v2; only its cache keys renamed), kept so
that ``test_plan_oracle.py`` can show the faster search returns identical plans, ideas and
why-not-higher for the same answers. Do not change it to match the new code.

One correction since (branch q2-speed2): the stage tables were cached by their move counts
alone, so a combination of prerequisite choices could reuse a table holding other questions —
a plan could then climb a question whose prerequisite it never met
(``test_roadmap.py::test_a_table_is_not_shared_by_different_questions``). Tables are now keyed
by which questions they hold, here as in the search; the one seeded firm whose plan changed
(v2 full, seed 120) only changed which of two equal-effort plans is offered.

Since branch rm-speed the output types (``Step``, ``Plan``, ``Holder``, ``WhyNotHigher``,
``Roadmap``) and the limits are imported from ``scoring.roadmap`` instead of copied: they are
the contract both sides fill in, not the logic under comparison, and the copy was most of what
the ``duplicates`` tool flagged (issue 13). Everything that decides a plan is still the original.
"""

from __future__ import annotations

import math
import operator
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import product
from typing import cast

from scoring._raw import to_decimal
from scoring.conditions import Condition, Facts, evaluate, iter_leaves
from scoring.engine import (
    ScoreResult,
    Tally,
    compiled,
    overall_of,
    rung_of,
    to_exact_decimal,
    walk,
)
from scoring.ladder import RUNG_LEVELS, RUNG_STEP
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
from scoring.roadmap import (  # the output types and limits: the contract, not the search
    CAP_ABOVE,
    MAX_ENUMERATED,
    MAX_IDEAS,
    MAX_POSITIONS,
    Holder,
    Plan,
    Roadmap,
    Step,
    WhyNotHigher,
)

_HOLDERS = 3

__all__ = ["describe_answer", "roadmap"]


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
    scaled: tuple[int, ...]  # weight × level × scale, per position
    weight: int  # weight × scale
    requires: tuple[tuple[tuple[str, Decimal], ...], ...]  # per position
    any_requires: bool
    scale: int

    def points(self, level: Decimal) -> int:
        """``level`` in the units of ``scaled``."""
        return self.weight * int(level * self.scale)


def _ladders(questionnaire: Questionnaire) -> dict[str, _Ladder]:
    cached = questionnaire._cache.get("oracle_ladders")
    if cached is None:
        readers = {
            leaf.field.partition(".")[2]
            for question in questionnaire.questions
            if question.applies_if is not None
            for leaf in iter_leaves(question.applies_if)
            if leaf.field.startswith("answers.")
        }
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
            )
        cached = ladders
        questionnaire._cache["oracle_ladders"] = cached
    return cast(dict[str, _Ladder], cached)


def _readers(questionnaire: Questionnaire) -> dict[str, tuple[Question, ...]]:
    """Question id → the questions whose applies_if reads its answer (cached)."""
    cached = questionnaire._cache.get("oracle_readers")
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
        questionnaire._cache["oracle_readers"] = cached
    return cast(dict[str, tuple[Question, ...]], cached)


# --- moves ------------------------------------------------------------------------------------


@dataclass(slots=True)
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
        kept = [i for i in cast(list[str], value) if not _exclusive(question, i)]
        return [*kept, position.id], position.text
    if question.type == "multi":  # scoring: count
        chosen = [i for i in cast(list[str], value) if not _exclusive(question, i)]
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


class _Evaluator:
    """Scores hypothetical answer changes in exact integer arithmetic.

    With S a power of ten that makes every level and question weight whole, stage k's score is
    ``num[k] / den[k]`` and the overall score is ``overall / (ΣW × M)`` with ``M = lcm(den)``.
    A change of one answer adds fixed integers to one ``num[k]`` and to ``overall``.
    """

    def __init__(self, questionnaire: Questionnaire, base: Tally) -> None:
        scale = base.scale
        places = [_places(stage.weight) for stage in questionnaire.stages]
        stage_scale = 10 ** max(places)
        self.scale = scale
        self.stage_ids = [stage.id for stage in questionnaire.stages if stage.id in base.sums]
        self.position = {stage_id: k for k, stage_id in enumerate(self.stage_ids)}
        weights = {stage.id: int(stage.weight * stage_scale) for stage in questionnaire.stages}
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

    def gaps(self, rung: Decimal) -> tuple[list[int], int]:
        """What each stage and the overall numerator must still gain, times 100 (≤ 0: none)."""
        needed = int(rung * 100)
        stages = [(needed - 25) * d - 100 * n for n, d in zip(self.nums, self.dens, strict=True)]
        return stages, needed * self.total_weight * self.lcm - 100 * self.overall


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
        self.ladders = _ladders(questionnaire)
        self.applicable = frozenset(question.id for question in base.applicable)
        self._moves: dict[tuple[bool, bool], dict[str, list[_Move]]] = {}
        self.current: dict[str, int] = {}
        for qid, level in base.levels.items():
            ladder = self.ladders.get(qid)
            if ladder is not None:
                self.current[qid] = _current_position(ladder, base.effective[qid], level)

    def moves(self, *, limited: bool, dependent: bool) -> dict[str, list[_Move]]:
        """Candidate moves per question, cheapest first (``limited``: within limits only)."""
        key = (limited, dependent)
        cached = self._moves.get(key)
        if cached is not None:
            return cached
        evaluator = self.evaluator
        multipliers = evaluator.multipliers
        position = evaluator.position
        levels = self.base.levels
        cap = self.cap
        found: dict[str, list[_Move]] = {}
        for qid, frm in self.current.items():
            ladder = self.ladders[qid]
            if ladder.dependent and not dependent:
                continue
            question = ladder.question
            level = levels[qid]
            k = position[question.stage_id]
            here = ladder.points(level)
            efforts = ladder.efforts
            last = len(ladder.levels) - 1
            if limited:
                last = min(last, frm + MAX_POSITIONS)
            moves: list[_Move] = []
            for to in range(frm + 1, last + 1):
                target_level = ladder.levels[to]
                if target_level <= level:
                    continue
                within = to - frm <= MAX_POSITIONS and target_level <= cap
                if limited and not within:
                    continue
                if ladder.dependent and not self._keeps_applicability(
                    qid, _target_value(ladder, self.base.effective[qid], to)[0]
                ):
                    continue
                d_num = ladder.scaled[to] - here
                requires: tuple[tuple[str, Decimal], ...] = ()
                if ladder.any_requires:
                    requires = tuple(r for p in ladder.requires[frm + 1 : to + 1] for r in p)
                moves.append(
                    _Move(
                        question,
                        k,
                        frm,
                        to,
                        target_level,
                        efforts[to + 1] - efforts[frm + 1],
                        d_num,
                        multipliers[k] * d_num,
                        within,
                        ladder,
                        requires,
                    )  # fmt: skip
                )
            if moves:
                found[qid] = moves
        self._moves[key] = found
        return found

    def _keeps_applicability(self, qid: str, value: AnswerValue) -> bool:
        readers = _readers(self.questionnaire).get(qid, ())
        effective = dict(self.base.effective)
        effective[qid] = value
        facts = Facts(self.profile or {}, effective)
        # Only answered readers matter: an unanswered question coming into play scores nothing.
        return all(
            evaluate(cast(Condition, reader.applies_if), facts) == (reader.id in self.applicable)
            for reader in readers
            if self.answers.get(reader.id) is not None
        )

    def solve(self, moves: dict[str, list[_Move]]) -> tuple[list[_Move], bool] | None:
        """The least-effort set of moves (one per question at most) reaching the rung."""
        if not moves:
            return None
        levels = self.base.levels
        # A requirement already met by the current answers needs nothing; one on an
        # unanswered, n/a or non-applicable question can never be met.
        candidates: dict[str, list[_Move]] = {}
        demanded: dict[str, set[Decimal]] = {}
        if not any(m.requires for options in moves.values() for m in options):
            candidates = moves
        for qid, options in moves.items() if candidates is not moves else ():
            kept = []
            for move in options:
                unmet = [(p, m) for p, m in move.requires if levels.get(p, Decimal(0)) < m]
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
        ceiling = sum(max(m.effort for m in options) for options in candidates.values())
        # a lower bound on the effort: the overall gap over the best overall gain per effort
        _, overall_gap = self.evaluator.gaps(self.rung)
        floor = _effort_floor(candidates.values(), overall_gap)
        bound = ceiling if floor is None else max(2, math.ceil(1.25 * floor))
        while True:
            bound = min(bound, ceiling)
            best = self._search(candidates, enumerated, bound)
            if best is not None:
                return best, optimal
            if bound >= ceiling:
                return None
            bound *= 2

    def _served(self, qid: str) -> int:
        return self.ladders[qid].served

    def _search(
        self, candidates: dict[str, list[_Move]], enumerated: list[str], bound: int
    ) -> list[_Move] | None:
        """The least-effort plan with effort ≤ ``bound``, enumerating prerequisite questions.

        A question's moves are ordered by target and each climbs through the positions of the
        ones below it, so the moves whose prerequisites are met are always a prefix; a stage's
        programme is computed once per distinct set of prefixes and reused (its table for effort
        ≤ ``bound`` answers every smaller limit too).
        """
        levels = self.base.levels
        multipliers = self.evaluator.multipliers
        stage_gaps, overall_gap = self.evaluator.gaps(self.rung)
        rate = max(100 * m.d_overall / m.effort for ms in candidates.values() for m in ms)
        free = [(qid, options) for qid, options in candidates.items() if qid not in enumerated]
        # every free move, prerequisites or not: a bound for any set of prefixes
        bounds = _rates(options for _, options in free)
        # group 0 pools the stages already at their bar; each short stage is a group of its own
        members: list[list[int]] = [[k for k, gap in enumerate(stage_gaps) if gap <= 0]]
        members += [[k] for k, gap in enumerate(stage_gaps) if gap > 0]
        group_of = {k: g for g, ks in enumerate(members) for k in ks}
        width = bound + 1
        cache: dict[tuple[int, tuple[tuple[int, int], ...]], _Table] = {}
        best: tuple[int, list[_Move]] | None = None
        choices: list[list[_Move | None]] = [[None, *candidates[p]] for p in enumerated]
        for fixed in product(*choices):
            chosen = [move for move in fixed if move is not None]
            final = levels
            if chosen:
                final = dict(levels)
                final.update((move.question.id, move.level) for move in chosen)
                if any(final.get(p, _ZERO) < m for move in chosen for p, m in move.requires):
                    continue
            spent = sum(move.effort for move in chosen)
            limit = (bound if best is None else best[0] - 1) - spent
            gaps = list(stage_gaps)
            gap = overall_gap
            for move in chosen:
                gaps[move.stage] -= 100 * move.d_num
                gap -= 100 * move.d_overall
            if limit < 0 or (gap > 0 and gap > rate * limit):
                continue  # even the best gain per effort cannot close the gap within the limit
            floor = _fill(bounds, gap)
            if floor is None or floor > limit:
                continue
            groups: list[list[list[_Move]]] = [[] for _ in range(len(members))]
            prefixes: list[list[tuple[int, int]]] = [[] for _ in range(len(members))]
            for _, options in free:
                count = len(options)
                if enumerated:
                    count = 0
                    for move in options:
                        if any(final.get(p, _ZERO) < v for p, v in move.requires):
                            break
                        count += 1
                if count:
                    g = group_of[options[0].stage]
                    groups[g].append(options[:count])
                    prefixes[g].append((id(options), count))
            tables = []
            for g in range(len(members)):
                key = (g, tuple(prefixes[g]))
                table = cache.get(key)
                if table is None:
                    table = cache[key] = _table(groups[g], width, overall=g == 0)
                tables.append(table)
            needs = [
                (tables[g], gaps[members[g][0]], multipliers[members[g][0]])
                for g in range(1, len(members))
            ]
            found = _combine(tables[0], needs, gap, limit)
            if found is not None:
                best = (spent + sum(m.effort for m in found), chosen + found)
        return None if best is None else best[1]


_ZERO = Decimal(0)


def _effort_floor(groups: Iterable[list[_Move]], gap: int) -> float | None:
    """A lower bound on the effort that closes ``gap`` (overall units × 100), or None if even
    every move cannot: each question gains at most its largest move and at most its best gain per
    effort, so a fractional knapsack over (best rate, largest gain) bounds every plan."""
    return _fill(_rates(groups), gap)


def _rates(groups: Iterable[list[_Move]]) -> list[tuple[float, int]]:
    """Per question: its best overall gain per effort and its largest gain, best rate first."""
    items = []
    for options in groups:
        top = max(100 * m.d_overall for m in options)
        if top > 0:
            items.append((max(100 * m.d_overall / m.effort for m in options), top))
    items.sort(reverse=True)
    return items


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


_NONE = -(10**30)  # "impossible" in the programmes' integer gains (far below any real sum)


@dataclass(slots=True)
class _Table:
    """A multiple-choice knapsack over effort: ``bests[i][e]`` is the most gain from the first
    i questions' moves with effort ≤ e (``bests[-1]`` for all of them)."""

    items: list[list[_Move]]
    bests: list[list[int]]
    overall: bool  # gains in overall units (d_overall), else in stage units (d_num)

    def gain(self, move: _Move) -> int:
        return move.d_overall if self.overall else move.d_num


def _table(items: list[list[_Move]], width: int, *, overall: bool) -> _Table:
    """At most one move per question; each row is built with C-level list operations."""
    best = [0] * width
    bests = [best]
    for options in items:
        rows = [best]
        for move in options:
            cost = move.effort
            if cost >= width:
                continue
            gain = move.d_overall if overall else move.d_num
            rows.append([_NONE] * cost + [value + gain for value in best[: width - cost]])
        best = list(map(max, *rows)) if len(rows) > 1 else best
        bests.append(best)
    return _Table(items, bests, overall)


def _combine(
    pool: _Table, needs: list[tuple[_Table, int, int]], overall_gap: int, limit: int
) -> list[_Move] | None:
    """Least effort ≤ ``limit``: the short stages at their bars and the overall gap closed.

    ``pool`` holds the stages that are not short (gains in overall units); each of ``needs`` is
    a short stage's table, its gap (×100) and its multiplier into overall units. Stage by stage
    the best overall gain for each effort is a max-plus convolution.
    """
    width = limit + 1
    total = pool.bests[-1][:width]
    splits: list[list[int]] = []
    for table, need, multiplier in needs:
        best = table.bests[-1]
        stage = [multiplier * v if 100 * v >= need else _NONE for v in best[:width]]
        new = []
        split = []
        for e in range(width):
            sums = list(map(operator.add, total[e::-1], stage[: e + 1]))
            top = max(sums)
            new.append(top)
            split.append(sums.index(top))
        total = new
        splits.append(split)
    effort = next(
        (e for e in range(width) if total[e] > _NONE // 2 and 100 * total[e] >= overall_gap), None
    )
    if effort is None:
        return None
    picked: list[_Move] = []
    left = effort
    for (table, _, _), split in zip(reversed(needs), reversed(splits), strict=True):
        spent = split[left]
        left -= spent
        picked += _rebuild(table, spent)
    picked += _rebuild(pool, left)
    return picked


def _rebuild(table: _Table, budget: int) -> list[_Move]:
    """The moves behind ``table.bests[-1][budget]``, found row by row from the last."""
    picked: list[_Move] = []
    for i in range(len(table.items), 0, -1):
        value, before = table.bests[i][budget], table.bests[i - 1]
        if value == before[budget]:
            continue
        for move in table.items[i - 1]:
            cost = move.effort
            if cost <= budget and before[budget - cost] + table.gain(move) == value:
                picked.append(move)
                budget -= cost
                break
    return picked


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
        return Roadmap(rung, None, result.held_back_by, None, (), None)
    next_rung = rung + RUNG_STEP
    planner = _Planner(questionnaire, answers, profile, base, next_rung)
    binding = {reason.stage_id for reason in result.held_back_by if reason.kind == "stage"}
    plan = _plan(planner, binding)
    in_plan = {step.question_id for step in plan.steps} if plan else set()
    ideas = _ideas(planner, binding, in_plan)
    why = _why_not_higher(questionnaire, planner, next_rung)
    return Roadmap(rung, next_rung, result.held_back_by, plan, ideas, why)


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
    answers = dict(planner.answers)
    effective = planner.base.effective
    answers.update((move.question.id, move.value(effective[move.question.id])) for move in chosen)
    tally = walk(planner.questionnaire, answers, planner.profile)
    if frozenset(tally.effective) != frozenset(planner.base.effective):
        return None
    overall = overall_of(planner.questionnaire, tally.stages)
    if overall is None or rung_of(overall, tally.stages) < planner.rung:
        return None
    return overall, tally.stages


def _step(planner: _Planner, move: _Move, binding: set[str | None], after: tuple[str, ...]) -> Step:
    question = move.question
    evaluator = planner.evaluator
    current = planner.base.effective[question.id]
    _, text = _target_value(move.ladder, current, move.to)
    return Step(
        question_id=question.id,
        stage_id=question.stage_id,
        question=question.text,
        current=current,
        current_level=planner.base.levels[question.id],
        current_text=describe_answer(question, current),
        target=move.value(current),
        target_level=move.level,
        target_text=text,
        gain=to_exact_decimal(Fraction(move.d_overall, evaluator.total_weight * evaluator.lcm)),
        lifts_binding_stage=question.stage_id in binding and move.d_num > 0,
        stage_gain=to_exact_decimal(Fraction(move.d_num, evaluator.dens[move.stage])),
        effort=move.effort,
        positions=move.to - move.frm,
        after=after,
        within_limits=move.within_limits,
    )


def _order(planner: _Planner, chosen: list[_Move], binding: set[str | None]) -> tuple[Step, ...]:
    """Prerequisites first; then binding-stage steps, gain per effort, served order."""
    levels = planner.base.levels
    in_plan = {move.question.id: move for move in chosen}
    needs = {
        move.question.id: tuple(
            sorted(
                {p for p, m in move.requires if p in in_plan and levels.get(p, Decimal(0)) < m},
                key=planner._served,
            )
        )
        for move in chosen
    }

    def key(move: _Move) -> tuple[bool, Fraction, int]:
        lifts = move.question.stage_id in binding and move.d_num > 0
        return (not lifts, -Fraction(move.d_overall, move.effort), move.ladder.served)

    waiting = sorted(chosen, key=key)
    done: set[str] = set()
    steps: list[Step] = []
    while waiting:
        ready = next(m for m in waiting if set(needs[m.question.id]) <= done)
        waiting.remove(ready)
        done.add(ready.question.id)
        steps.append(_step(planner, ready, binding, needs[ready.question.id]))
    return tuple(steps)


def _ideas(planner: _Planner, binding: set[str | None], in_plan: set[str]) -> tuple[Step, ...]:
    """Single-position moves outside the plan whose prerequisites are met, best first."""
    levels = planner.base.levels
    found: list[tuple[tuple[Fraction, int], _Move]] = []
    for qid, options in planner.moves(limited=True, dependent=False).items():
        if qid in in_plan:
            continue
        move = options[0]
        if any(levels.get(p, Decimal(0)) < m for p, m in move.requires):
            continue
        found.append(((-Fraction(move.d_overall, move.effort), move.ladder.served), move))
    found.sort(key=lambda item: item[0])
    return tuple(_step(planner, move, binding, ()) for _, move in found[:MAX_IDEAS])


def _why_not_higher(
    questionnaire: Questionnaire, planner: _Planner, rung: Decimal
) -> WhyNotHigher | None:
    base = planner.base
    if not base.stages or base.overall is None:
        return None
    bar = Fraction(rung - RUNG_STEP)
    order = {stage.id: i for i, stage in enumerate(questionnaire.stages)}
    stage_id = min(base.stages, key=lambda s: (base.stages[s] - bar, order[s]))
    score = base.stages[stage_id]
    holders: list[tuple[Decimal, int, Question]] = []
    for i, question in enumerate(questionnaire.stage(stage_id).questions):
        level = base.levels.get(question.id)
        if level is not None and level < rung:
            holders.append((-(question.weight * (rung - level)), i, question))
    holders.sort(key=lambda item: (item[0], item[1]))
    return WhyNotHigher(
        rung=rung,
        overall=to_exact_decimal(base.overall),
        stage_id=stage_id,
        stage_title=questionnaire.stage(stage_id).title,
        stage_score=to_exact_decimal(score),
        stage_needed=rung - RUNG_STEP,
        stage_short=score < bar,
        holders=tuple(
            Holder(
                question_id=question.id,
                question=question.text,
                weight=question.weight,
                level=base.levels[question.id],
                answer_text=describe_answer(question, base.effective[question.id]),
            )
            for _, _, question in holders[:_HOLDERS]
        ),
    )
