"""Roadmap: ranked steps to the next rung and the fewest-changes what-if."""

from __future__ import annotations

import importlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

from scoring import Questionnaire, Text, describe_answer, roadmap, score

roadmap_module = importlib.import_module("scoring.roadmap")  # the package re-exports roadmap()

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "worked-example"


def test_worked_example_roadmap(worked: Questionnaire) -> None:
    answers = json.loads((EXAMPLE / "answers.json").read_text(encoding="utf-8"))
    result = score(worked, answers)
    plan = result.roadmap
    assert plan is not None and plan.next_rung == Decimal("3.50")
    # capture lifts the binding stage (data_collection), so it ranks first.
    first, second = plan.steps
    assert (first.question_id, first.target, first.target_level) == (
        "capture", ["output", "status"], Decimal("3.25")
    )  # fmt: skip
    assert first.lifts_binding_stage and first.gain == Decimal("0.125")
    assert second.question_id == "equipment_rate" and second.target == Decimal(80)
    assert second.gain == Decimal(1) / Decimal(48)  # (3.75 − 3.5) / 3 stage weight / 4
    assert not second.lifts_binding_stage
    assert second.target_text == Text("≥ 80%", "≥ 80 %")
    what_if = plan.what_if
    assert what_if is not None and what_if.exact
    [change] = what_if.changes
    assert change.question_id == "capture"
    assert change.target == ["output", "status", "quality"]
    assert what_if.overall == Decimal("3.5625")
    assert what_if.stages["data_collection"] == Decimal("3.5")
    again = score(worked, {**answers, "capture": change.target}, with_roadmap=False)
    assert again.rung == Decimal("3.50")
    assert roadmap(worked, answers, None, result) == plan


def test_top_rung_and_nothing_scorable_have_no_next_rung(golden: Questionnaire) -> None:
    top = score(golden, {"q1": "l400", "q2": "l400", "q3": "l400"}).roadmap
    assert top is not None and top.next_rung is None and top.steps == () and top.what_if is None
    empty = score(golden, {}).roadmap
    assert empty is not None and empty.next_rung is None
    assert empty.to_dict("en") == {
        "current_rung": 2.75, "next_rung": None, "steps": [], "what_if": None
    }  # fmt: skip


def test_lowering_and_exactness_on_golden(golden: Questionnaire) -> None:
    answers = {"q1": "l300", "q2": "l300", "q3": "l300"}
    plan = score(golden, answers).roadmap
    assert plan is not None and plan.what_if is not None
    # One change reaches 3.25: q3 to 3.50 gives O = (3 + 3 + 7)/4 = 3.25; it is lowered from 4.00.
    [change] = plan.what_if.changes
    assert (change.question_id, change.target) == ("q3", "l350")
    assert plan.what_if.exact
    # Steps: q3 (stage weight 2) gains twice as much as q1 or q2.
    assert [step.question_id for step in plan.steps] == ["q3", "q1", "q2"]
    assert plan.steps[0].gain == Decimal("0.125")


def test_change_that_alters_applicability_is_scored_in_full(golden: Questionnaire) -> None:
    # q6 is answered but does not apply while q3 < 3.50; raising q3 to 3.50 brings it in.
    answers = {"q1": "l325", "q2": "l325", "q3": "l325", "q6": ["z"]}
    result = score(golden, answers)
    assert result.overall == Decimal("3.25")
    assert result.roadmap is not None
    step = next(s for s in result.roadmap.steps if s.question_id == "q3")
    # In full: S3 = (3.5 + 4.0)/2 = 3.75, O = (3.25 + 3.25 + 7.5)/4 = 3.5 → gain 0.25.
    assert step.target == "l350" and step.gain == Decimal("0.25")
    what_if = result.roadmap.what_if
    assert what_if is not None
    assert "q3" not in {c.question_id for c in what_if.changes}  # not used by the search


def test_binding_stage_steps_rank_first(golden: Questionnaire) -> None:
    # O = 3.25 but S1 = 2.75 holds the rung at 3.00; only S1's question lifts the binding stage.
    plan = score(golden, {"q1": "l275", "q2": "l375", "q3": "l325"}).roadmap
    assert plan is not None
    assert plan.steps[0].question_id == "q1" and plan.steps[0].lifts_binding_stage
    assert not any(step.lifts_binding_stage for step in plan.steps[1:])
    assert plan.what_if is not None and [c.question_id for c in plan.what_if.changes] == ["q1"]


def test_targets_for_multi_and_number(golden: Questionnaire) -> None:
    answers = {"q1": "l300", "q3": "l350", "q4": 15, "q5": ["none"], "q6": ["none"]}
    plan = score(golden, answers).roadmap
    assert plan is not None
    steps = {step.question_id: step for step in plan.steps}
    assert steps["q5"].target == ["a"]  # the exclusive "none" is dropped; one more chosen
    assert steps["q6"].target == ["x"]
    assert steps["q4"].target == Decimal(20)
    assert steps["q4"].target_text == Text("20–40%（不含 40）", "20 to under 40 %")
    assert steps["q4"].to_dict("en")["target"] == 20
    assert steps["q6"].to_dict("zh")["current_text"] == "无"


def test_unreachable_next_rung_has_no_what_if(golden: Questionnaire) -> None:
    # S3's only question is already at the top and S1 cannot be changed to lift it: with q1 at
    # 4.00, 3.75 needs O ≥ 3.75 and every stage ≥ 3.50; S3 = q4 alone caps nothing reachable.
    plan = score(golden, {"q4": "n/a", "q5": ["a", "b", "c", "d"]}).roadmap
    assert plan is not None and plan.next_rung == Decimal("4.00")
    assert plan.what_if is None  # the count band tops out at 3.75


def test_search_budget_marks_inexact(full: Questionnaire, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {"dig_production_mode": "discrete"}
    for question in full.questions[1:]:
        if question.type == "single":
            answers[question.id] = question.options[0].id
        elif question.type == "number":
            answers[question.id] = question.min  # type: ignore[assignment]
        else:
            answers[question.id] = [next(o.id for o in question.options if o.exclusive)]
    monkeypatch.setattr(roadmap_module, "EXACT_SEARCH_BUDGET", 10)
    result = score(full, answers)
    assert result.rung == Decimal("2.75")
    plan = result.roadmap
    assert plan is not None and plan.what_if is not None and not plan.what_if.exact
    changed = {change.question_id: change.target for change in plan.what_if.changes}
    assert score(full, {**answers, **changed}, with_roadmap=False).rung >= Decimal("3.00")


def test_describe_answer(golden: Questionnaire) -> None:
    assert describe_answer(golden.question("q4"), "n/a") == Text("不适用", "not applicable")
    assert describe_answer(golden.question("q4"), Decimal("12.50")) == Text("12.50%", "12.50 %")
    assert describe_answer(golden.question("q5"), ["a", "b"]) == Text("甲、乙", "A; B")


def test_step_that_would_lower_the_score_is_left_out(golden: Questionnaire) -> None:
    # Raising q3 to 3.50 brings in the stale q6 = none (2.75): S3 = (3.5 + 2.75)/2 < 3.25.
    plan = score(golden, {"q1": "l325", "q2": "l325", "q3": "l325", "q6": ["none"]}).roadmap
    assert plan is not None
    assert "q3" not in {step.question_id for step in plan.steps}


def test_exact_search_improves_on_greedy(
    golden: Questionnaire, monkeypatch: pytest.MonkeyPatch
) -> None:
    def wasteful(evaluator: object, best: list[object], rung: object) -> list[object]:
        return list(best)  # every candidate: a valid but far from minimal set

    monkeypatch.setattr(roadmap_module, "_greedy", wasteful)
    plan = score(golden, {"q1": "l300", "q2": "l300", "q3": "l300"}).roadmap
    assert plan is not None and plan.what_if is not None
    assert [change.question_id for change in plan.what_if.changes] == ["q3"]
    assert plan.what_if.exact
    # With a stage short (S1 = 2.75 < 3.00), only a change in that stage can do it alone.
    plan = score(golden, {"q1": "l275", "q2": "l375", "q3": "l325"}).roadmap
    assert plan is not None and plan.what_if is not None
    assert [change.question_id for change in plan.what_if.changes] == ["q1"]
    # Two stages short need at least two changes: sizes below that are skipped outright.
    plan = score(golden, {"q1": "l275", "q2": "l275", "q3": "l400", "q4": 80}).roadmap
    assert plan is not None and plan.what_if is not None
    assert [change.question_id for change in plan.what_if.changes] == ["q1", "q2"]


TWO_GATES = """
id: gates
version: 1
title: {zh: 门, en: Gates}
stages:
  - id: s
    title: {zh: 一, en: One}
    questions:
      - id: a
        text: {zh: 甲, en: A}
        type: single
        options: &lohi
          - {id: lo, text: {zh: 低, en: Low}, level: 2.75}
          - {id: hi, text: {zh: 高, en: High}, level: 3.25}
      - id: b
        text: {zh: 乙, en: B}
        type: single
        options: *lohi
      - id: d
        text: {zh: 丁, en: D}
        type: single
        options: *lohi
      - id: c
        text: {zh: 丙, en: C}
        type: single
        applies_if:
          all:
            - {field: answers.a, op: eq, value: hi}
            - {field: answers.b, op: eq, value: hi}
        options: *lohi
"""


def test_changes_that_together_alter_applicability_are_not_combined() -> None:
    from scoring import parse_questionnaire

    gates = parse_questionnaire(TWO_GATES, "gates.yaml")
    # Two of a, b, d must rise to reach 3.00: (3.25 + 3.25 + 2.75)/3 = 3.083. a and b together
    # would bring in the stale answer c = lo, so the what-if pairs one of them with d.
    result = score(gates, {"a": "lo", "b": "lo", "d": "lo", "c": "lo"})
    assert result.rung == Decimal("2.75")
    plan = result.roadmap
    assert plan is not None and plan.what_if is not None
    assert [change.question_id for change in plan.what_if.changes] == ["a", "d"]
    assert plan.what_if.exact
    assert score(gates, {"a": "hi", "b": "lo", "d": "hi", "c": "lo"}).rung == Decimal("3.00")


def test_exact_search_skips_sets_that_alter_applicability(monkeypatch: pytest.MonkeyPatch) -> None:
    from scoring import parse_questionnaire

    monkeypatch.setattr(roadmap_module, "_greedy", lambda evaluator, best, rung: list(best))
    gates = parse_questionnaire(TWO_GATES, "gates.yaml")
    plan = score(gates, {"a": "lo", "b": "lo", "d": "lo", "c": "lo"}).roadmap
    assert plan is not None and plan.what_if is not None
    assert [change.question_id for change in plan.what_if.changes] == ["a", "d"]
