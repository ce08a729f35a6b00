"""Roadmap v2 (issue 14): a least-effort plan that the engine proves reaches the next rung."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from pathlib import Path
from typing import cast

import pytest

from scoring import (
    Questionnaire,
    Text,
    applicable_questions,
    describe_answer,
    load_questionnaire,
    parse_questionnaire,
    roadmap,
    score,
    validate_answers,
)
from scoring.roadmap import LIMITS_NOTE
from tests.answers import complete_answers

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "worked-example"
QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"


def test_worked_example_plan(worked: Questionnaire) -> None:
    answers = json.loads((EXAMPLE / "answers.json").read_text(encoding="utf-8"))
    result = score(worked, answers)
    plan = result.roadmap
    assert plan is not None and plan.next_rung == Decimal("3.50")
    # data_collection = 3.00 < 3.25: capture (count 1 → 3.00) must reach 3 chosen (3.50);
    # two positions, effort 1 + 1, and O = (3.5 + 3.75 + 2 × 3.5) / 4 = 3.5625.
    [step] = plan.steps
    assert (step.question_id, step.target, step.target_level) == (
        "capture", ["output", "status", "quality"], Decimal("3.5")
    )  # fmt: skip
    assert (step.effort, step.positions, step.gain) == (2, 2, Decimal("0.25"))
    assert step.stage_gain == Decimal("0.5") and step.lifts_binding_stage
    assert plan.plan is not None and plan.plan.within_limits and plan.plan.optimal
    assert plan.plan.overall == Decimal("3.5625")
    assert plan.plan.stages["data_collection"] == Decimal("3.5")
    again = score(worked, {**answers, "capture": step.target}, with_roadmap=False)
    assert again.rung == Decimal("3.50") and again.overall == plan.plan.overall
    # the other idea, labelled apart: equipment_rate 65 → 80 (3.50 → 3.75)
    [idea] = plan.ideas
    assert (idea.question_id, idea.target, idea.effort) == ("equipment_rate", Decimal(80), 1)
    assert idea.target_text == Text("≥ 80%", "≥ 80 %")
    assert roadmap(worked, answers, None, result) == plan


def test_why_not_higher_names_the_stage_and_the_questions(worked: Questionnaire) -> None:
    answers = json.loads((EXAMPLE / "answers.json").read_text(encoding="utf-8"))
    why = score(worked, answers).roadmap.why_not_higher  # type: ignore[union-attr]
    assert why is not None and why.stage_id == "data_collection" and why.stage_short
    assert (why.stage_score, why.stage_needed) == (Decimal(3), Decimal("3.25"))
    assert [h.question_id for h in why.holders] == ["capture"]  # analytics is n/a
    assert why.text("zh") == (
        "「数据采集」使您停在3.50集成级之下：该阶段3.00，这一级需要3.25。"
        "拉低「数据采集」的题目：哪些数据是自动采集的（不靠人抄）？3.00（产量）。"
    )
    assert why.text("en").startswith(
        "Data collection holds you below 3.50 Integrated: it scores 3.00, the rung needs 3.25."
    )


def test_why_not_higher_when_only_the_overall_falls_short(golden: Questionnaire) -> None:
    why = score(golden, {"q1": "l300", "q2": "l325", "q3": "l300"}).roadmap.why_not_higher  # type: ignore[union-attr]
    # O = (3 + 3.25 + 6) / 4 = 3.0625 < 3.25; every stage ≥ 3.00: the lowest, s1 (first), drags
    assert why is not None and not why.stage_short and why.stage_id == "s1"
    assert why.text("en").startswith(
        "The overall index is 3.06, 3.25 Standardised needs 3.25; One pulls it down most at 3.00."
    )


def test_top_rung_and_nothing_scorable_have_no_next_rung(golden: Questionnaire) -> None:
    top = score(golden, {"q1": "l400", "q2": "l400", "q3": "l400"}).roadmap
    assert top is not None and top.next_rung is None and top.plan is None and top.steps == ()
    assert top.why_not_higher is None
    empty = score(golden, {}).roadmap
    assert empty is not None and empty.next_rung is None
    assert empty.to_dict("en") == {
        "version": 2, "current_rung": 2.75, "next_rung": None, "steps": [], "plan": None,
        "ideas": [], "why_not_higher": None,
    }  # fmt: skip


def test_least_effort_not_fewest_changes_on_golden(golden: Questionnaire) -> None:
    # O = 3.00; 3.25 needs +0.25 overall. q3 (stage weight 2) two positions up is effort 2;
    # q1 and q2 one each would be effort 2 too but only +0.125: q3 → 3.50 is the plan.
    plan = score(golden, {"q1": "l300", "q2": "l300", "q3": "l300"}).roadmap
    assert plan is not None and [(s.question_id, s.target) for s in plan.steps] == [("q3", "l350")]
    assert plan.plan is not None and plan.plan.effort == 2


def test_a_short_stage_is_lifted_first(golden: Questionnaire) -> None:
    # O = 3.25 but s1 = 2.75 < 3.00: one position of q1 is the whole plan.
    plan = score(golden, {"q1": "l275", "q2": "l375", "q3": "l325"}).roadmap
    assert plan is not None and [s.question_id for s in plan.steps] == ["q1"]
    assert plan.steps[0].lifts_binding_stage and plan.steps[0].target == "l300"


def test_a_change_that_brings_in_an_answered_question_is_not_planned(
    golden: Questionnaire,
) -> None:
    # q6 is answered but does not apply while q3 < 3.50; raising q3 would bring it in.
    answers = {"q1": "l325", "q2": "l325", "q3": "l325", "q6": ["z"]}
    plan = score(golden, answers).roadmap
    assert plan is not None and "q3" not in {s.question_id for s in plan.steps}
    assert [(s.question_id, s.target) for s in plan.steps] == [("q1", "l375"), ("q2", "l375")]
    after = {**answers, "q1": "l375", "q2": "l375"}
    assert score(golden, after, with_roadmap=False).rung == Decimal("3.50")


def test_targets_for_multi_and_number(golden: Questionnaire) -> None:
    answers = {"q1": "l300", "q3": "l350", "q4": 15, "q5": ["none"], "q6": ["none"]}
    plan = score(golden, answers).roadmap
    assert plan is not None
    moved = {step.question_id: step for step in (*plan.steps, *plan.ideas)}
    assert moved["q5"].target == ["a"]  # the exclusive "none" is dropped; one more chosen
    assert moved["q6"].target == ["x"]
    assert moved["q4"].target == Decimal(20)
    assert moved["q4"].target_text == Text("20–40%（不含40）", "20 to under 40 %")
    assert moved["q4"].to_dict("en")["target"] == 20
    assert moved["q6"].to_dict("zh")["current_text"] == "无"


def test_unreachable_next_rung_has_no_plan(golden: Questionnaire) -> None:
    # s3 = q5 alone at its top band (3.75): 4.00 needs O ≥ 4.00, out of reach by any answer.
    plan = score(golden, {"q4": "n/a", "q5": ["a", "b", "c", "d"]}).roadmap
    assert plan is not None and plan.next_rung == Decimal("4.00") and plan.plan is None
    assert plan.to_dict("en")["steps"] == [] and plan.why_not_higher is not None


def test_describe_answer(golden: Questionnaire) -> None:
    assert describe_answer(golden.question("q4"), "n/a") == Text("不适用", "not applicable")
    assert describe_answer(golden.question("q4"), Decimal("12.50")) == Text("12.50%", "12.50 %")
    assert describe_answer(golden.question("q5"), ["a", "b"]) == Text("甲、乙", "A; B")


# --- small hand-made questionnaires: effort, requires, limits ---------------------------------

PLANNED = """
id: planned
version: 1
title: {zh: 计划, en: Plan}
stages:
  - id: net
    title: {zh: 网络, en: Network}
    questions:
      - id: network
        text: {zh: 网络, en: Network}
        type: single
        options:
          - {id: none, text: {zh: 无, en: None}, level: 2.75}
          - {id: lan, text: {zh: 局域网, en: LAN}, level: 3.0, effort: 1}
          - {id: plant, text: {zh: 全厂网, en: Plant network}, level: 3.25, effort: 2}
  - id: col
    title: {zh: 采集, en: Collection}
    weight: 3
    questions:
      - id: collect
        text: {zh: 采集, en: Collection}
        type: single
        options:
          - {id: paper, text: {zh: 纸, en: Paper}, level: 2.75}
          - {id: auto, text: {zh: 自动, en: Automatic}, level: 3.0, effort: 1,
             requires: [{question: network, min_level: 3.25}]}
          - {id: real, text: {zh: 实时, en: Real time}, level: 3.25, effort: 1}
      - id: manual
        text: {zh: 人工, en: Manual}
        type: single
        options:
          - {id: a, text: {zh: 甲, en: A}, level: 2.75}
          - {id: b, text: {zh: 乙, en: B}, level: 3.0, effort: 5}
          - {id: c, text: {zh: 丙, en: C}, level: 3.25, effort: 5}
"""


def test_requires_put_the_prerequisite_first() -> None:
    planned = parse_questionnaire(PLANNED, "planned.yaml")
    # net = 2.75, col = 2.75 (weight 3): 3.00 needs Δnet + 3·Δcol ≥ 1.00. network → plant is
    # +0.50 for effort 1 + 2; collect → real is +0.75 for effort 2 but needs the plant network
    # (auto, on the way, requires it); manual → c is +0.75 for effort 10. Least: plant + real = 5,
    # with the network first.
    answers = {"network": "none", "collect": "paper", "manual": "a"}
    plan = score(planned, answers).roadmap
    assert plan is not None and plan.plan is not None and plan.plan.optimal
    assert [(s.question_id, s.target, s.after) for s in plan.steps] == [
        ("network", "plant", ()),
        ("collect", "real", ("network",)),
    ]
    assert plan.plan.effort == 5 == brute_force(planned, answers, Decimal("3.00"))
    assert [s.effort for s in plan.steps] == [3, 2]


def test_a_met_prerequisite_needs_no_step() -> None:
    planned = parse_questionnaire(PLANNED, "planned.yaml")
    # The plant network is there: net 3.25, col 2.75, O = 2.875. collect → real (+0.75 in
    # 3·Δcol, effort 2) alone reaches 3.00; collect → auto (effort 1) is not enough.
    answers = {"network": "plant", "collect": "paper", "manual": "a"}
    plan = score(planned, answers).roadmap
    assert plan is not None and plan.plan is not None
    assert [(s.question_id, s.target, s.after) for s in plan.steps] == [("collect", "real", ())]
    assert plan.plan.effort == 2 == brute_force(planned, answers, Decimal("3.00"))


@pytest.mark.parametrize(
    "answers",
    [
        dict(zip(("network", "collect", "manual"), combo, strict=True))
        for combo in itertools.product(("none", "lan"), ("paper", "auto"), ("a", "b"))
    ],
)
def test_least_effort_matches_brute_force(answers: dict[str, str]) -> None:
    planned = parse_questionnaire(PLANNED, "planned.yaml")
    result = score(planned, answers)
    plan = result.roadmap
    assert plan is not None
    if plan.next_rung is None or plan.plan is None:
        return
    assert plan.plan.within_limits
    assert plan.plan.effort == brute_force(planned, answers, plan.next_rung)
    changed = {s.question_id: s.target for s in plan.steps}
    assert score(planned, {**answers, **changed}).rung >= plan.next_rung


def brute_force(questionnaire: Questionnaire, answers: dict[str, str], rung: Decimal) -> int:
    """The least effort over every combination of targets meeting every requirement."""
    levels = {
        q.id: {o.id: (o.level, i) for i, o in enumerate(q.options)} for q in questionnaire.questions
    }
    best = None
    choices = [[o.id for o in q.options] for q in questionnaire.questions]
    for combo in itertools.product(*choices):
        chosen = dict(zip([q.id for q in questionnaire.questions], combo, strict=True))
        effort = 0
        ok = True
        for question in questionnaire.questions:
            frm = levels[question.id][answers[question.id]][1]
            to = levels[question.id][chosen[question.id]][1]
            climbed = question.options[frm + 1 : to + 1]
            needs = [r for option in climbed for r in option.requires]
            if to < frm or any(
                cast(Decimal, levels[r.question][chosen[r.question]][0]) < r.min_level
                for r in needs
            ):
                ok = False
                break
            effort += sum(option.effort for option in climbed)
        if ok and score(questionnaire, chosen, with_roadmap=False).rung >= rung:
            best = effort if best is None else min(best, effort)
    assert best is not None
    return best


SHARED = """
id: shared
version: 1
title: {zh: 共用, en: Shared}
stages:
  - id: s
    title: {zh: 一, en: One}
    questions:
      - id: f
        text: {zh: 底, en: Floor}
        type: single
        weight: 0.4
        options:
          - {id: f0, text: {zh: 低, en: Low}, level: 2.75}
          - {id: f1, text: {zh: 高, en: High}, level: 3.25}
      - id: e1
        text: {zh: 前一, en: Prerequisite 1}
        type: single
        weight: 0.1
        options:
          - {id: none, text: {zh: 无, en: None}, level: 2.75}
          - {id: done, text: {zh: 有, en: Done}, level: 3.0, effort: 1}
      - id: e2
        text: {zh: 前二, en: Prerequisite 2}
        type: single
        weight: 0.1
        options:
          - {id: none, text: {zh: 无, en: None}, level: 2.75}
          - {id: done, text: {zh: 有, en: Done}, level: 3.0, effort: 2}
      - id: a
        text: {zh: 甲, en: A}
        type: single
        options:
          - {id: low, text: {zh: 低, en: Low}, level: 2.75}
          - {id: mid, text: {zh: 中, en: Mid}, level: 3.0, effort: 5,
             requires: [{question: e1, min_level: 3.0}]}
          - {id: high, text: {zh: 高, en: High}, level: 3.25, effort: 5}
      - id: b
        text: {zh: 乙, en: B}
        type: single
        options:
          - {id: low, text: {zh: 低, en: Low}, level: 2.75}
          - {id: mid, text: {zh: 中, en: Mid}, level: 3.0, effort: 5,
             requires: [{question: e2, min_level: 3.0}]}
          - {id: high, text: {zh: 高, en: High}, level: 3.25, effort: 5}
"""


def test_a_table_is_not_shared_by_different_questions() -> None:
    shared = parse_questionnaire(SHARED, "shared.yaml")
    # Need +0.45 on a 2.6-weight stage: a or b to high (+0.50, effort 10) after its own
    # prerequisite (e1 for a, effort 1; e2 for b, effort 2). The search tries "e2 moved" before
    # "e1 moved"; both leave one question with two usable moves, and the table built for b
    # was once reused for a, planning b → high with only e1 met (effort 11, b's prerequisite
    # unmet). The least valid plan is e1 then a, effort 11.
    answers = {"f": "f1", "e1": "none", "e2": "none", "a": "low", "b": "low"}
    plan = score(shared, answers).roadmap
    assert plan is not None and plan.plan is not None
    assert [(s.question_id, s.target, s.after) for s in plan.steps] == [
        ("e1", "done", ()),
        ("a", "high", ("e1",)),
    ]
    assert plan.plan.effort == 11 == brute_force(shared, answers, Decimal("3.00"))


LIMITS = """
id: limits
version: 1
title: {zh: 限, en: Limits}
stages:
  - id: s
    title: {zh: 一, en: One}
    questions:
      - id: q
        text: {zh: 问, en: Q}
        type: single
        options:
          - {id: l275, text: {zh: a, en: a}, level: 2.75}
          - {id: l300, text: {zh: b, en: b}, level: 3.0}
          - {id: l400, text: {zh: c, en: c}, level: 4.0}
      - id: r
        text: {zh: 问二, en: R}
        type: single
        options:
          - {id: l275, text: {zh: a, en: a}, level: 2.75}
          - {id: l300, text: {zh: b, en: b}, level: 3.0}
          - {id: l400, text: {zh: c, en: c}, level: 4.0}
"""


def test_a_plan_beyond_the_limits_says_so() -> None:
    limits = parse_questionnaire(LIMITS, "limits.yaml")
    # At 3.00 (both 3.00), 3.25 needs a 4.00 somewhere: 4.00 > 3.25 + 0.25, so no plan keeps
    # within the limits; the plan goes beyond and says so.
    plan = score(limits, {"q": "l300", "r": "l300"}).roadmap
    assert plan is not None and plan.plan is not None
    assert not plan.plan.within_limits and plan.plan.limits_note == LIMITS_NOTE
    [step] = plan.steps
    assert step.target == "l400" and not step.within_limits
    assert plan.plan.to_dict("zh")["limits_note"] == LIMITS_NOTE.zh
    # From 2.75 both can reach 3.00 within limits: the plan keeps within them.
    plan = score(limits, {"q": "l275", "r": "l275"}).roadmap
    assert plan is not None and plan.plan is not None and plan.plan.within_limits
    assert plan.plan.limits_note is None and plan.plan.effort == 2


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_roadmap_json_shape(worked: Questionnaire, lang: str) -> None:
    answers = json.loads((EXAMPLE / "answers.json").read_text(encoding="utf-8"))
    data = score(worked, answers).to_dict(lang)["roadmap"]
    assert isinstance(data, dict)
    assert set(data) == {
        "version", "current_rung", "next_rung", "steps", "plan", "ideas", "why_not_higher"
    }  # fmt: skip
    assert data["plan"]["within_limits"] is True and data["plan"]["effort"] == 2
    assert data["steps"][0]["after"] == [] and data["steps"][0]["positions"] == 2
    assert data["why_not_higher"]["holders"][0]["question_id"] == "capture"


NOT_NETWORKED = json.loads(
    '{"dig_production_mode":"discrete","dig_equipment_rate":70,"dig_erp":"erp_optimised","dig_planning":"self_adjusting","dig_work_orders":"optimised","dig_design":"mbd","dig_inventory":"auto_replenish","dig_traceability":"chain","dig_software":"own_apps","dig_security":"chain","dig_plan":"new_business","dig_mechanism":"improvement","aut_machine_control":"flexible","aut_material_handling":["fleet_optimised"],"aut_loading":"lights_out","aut_inspection":"vision","aut_changeover":"automatic","aut_packaging":"linked_labels","aut_maintenance":"system_plan","aut_safety":"central","aut_skills":"standards","dat_network":"deterministic","dat_networked":0,"dat_interfaces":"shared_models","dat_recording":"real_time","dat_areas":["office","equipment","purchasing","finance","planning","design","production","service","quality","energy","warehouse","sales"],"dat_oee":"drives_actions","dat_energy":"optimised","dat_analysis":"closed_loop","dat_governance":"data_products","dat_talent":"talent_pipeline","cld_remote":"app_reports","cld_platform_apps":"single_function","cld_compute":"retrained","cld_collaboration":"joint_planning","cld_sales":"crm","cld_service":"traced","cld_backup":"tested_dr"}'
)  # fmt: skip


def _unanswered_after_the_plan(
    questionnaire: Questionnaire, answers: dict[str, object]
) -> tuple[object, list[str]]:
    """The plan of ``answers`` and the required questions left unanswered once it is done."""
    result = score(questionnaire, answers, {})
    plan = result.roadmap.plan if result.roadmap else None
    if plan is None:
        return None, []
    done = dict(answers) | {step.question_id: step.target for step in plan.steps}
    issues = validate_answers(questionnaire, done, {}, partial=False)
    return plan, [issue.question_id for issue in issues if issue.code == "required"]


def test_a_plan_brings_no_unanswered_required_question_into_play() -> None:
    """Networking the first machines ("dat_networked" 0 → 10 %) made dat_integration and
    cld_equipment_platform apply: the plan promised rung 3.75 scoring them as nothing, the firm
    could not submit without them, and at their lowest it stayed on 3.50 (roadmap audit)."""
    full = load_questionnaire(QUESTIONNAIRES / "smart-manufacturing-maturity.v2.yaml")
    plan, unanswered = _unanswered_after_the_plan(full, NOT_NETWORKED)
    assert unanswered == []
    assert plan is None or all(step.question_id != "dat_networked" for step in plan.steps)
    for position in (0.2, 0.4, 0.6, 0.8):
        answers = complete_answers(full, {}, position) | {"dat_networked": 0}
        answers = {
            q.id: answers[q.id] for q in applicable_questions(full, answers, {}) if q.id in answers
        }
        assert _unanswered_after_the_plan(full, answers)[1] == [], position
