"""Questionnaire v2 (issue #12) meets its content rules: a reachable ladder in every stage,
capability options, no location gate, the missing dimensions, refs, effort and KPIs."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from scoring import Question, Questionnaire, load_questionnaire, score

ROOT = Path(__file__).resolve().parents[2]
FULL = load_questionnaire(ROOT / "questionnaires" / "smart-manufacturing-maturity.v2.yaml")
QUICK = load_questionnaire(ROOT / "questionnaires" / "quick-check.v2.yaml")
BOTH = pytest.mark.parametrize("questionnaire", [FULL, QUICK], ids=["full", "quick"])
STAGES = ["digitization", "automation", "data_collection", "cloud_adoption"]
KPIS = {"oee", "first_pass_yield", "on_time_delivery", "energy_per_output", "inventory_days"}


def extreme(question: Question, best: bool) -> Any:
    """The highest (or lowest) scoring answer to ``question``."""
    if question.type == "number":
        return question.max if best else question.min
    if question.type == "multi" and question.scoring == "count":
        plain = [o.id for o in question.options if not o.exclusive]
        return plain if best else [o.id for o in question.options if o.exclusive]
    ranked = sorted(question.options, key=lambda o: o.level or Decimal(0))
    chosen = ranked[-1] if best else ranked[0]
    return chosen.id if question.type == "single" else [chosen.id]


def extreme_answers(questionnaire: Questionnaire, mode: str, best: bool) -> dict[str, Any]:
    return {
        q.id: mode if not q.scored else extreme(q, best)
        for q in questionnaire.questions
        if q.scored or q.id in ("dig_production_mode", "qc_mode")
    }


def test_v2_versions_and_stages() -> None:
    assert (FULL.id, FULL.version) == ("smart-manufacturing-maturity", 2)
    assert (QUICK.id, QUICK.version) == ("quick-check", 2)
    for questionnaire in (FULL, QUICK):
        assert [stage.id for stage in questionnaire.stages] == STAGES


@BOTH
@pytest.mark.parametrize("mode", ["discrete", "process", "mixed"])
def test_all_best_scores_4_and_all_worst_2_75_in_every_stage(
    questionnaire: Questionnaire, mode: str
) -> None:
    best = score(questionnaire, extreme_answers(questionnaire, mode, best=True))
    worst = score(questionnaire, extreme_answers(questionnaire, mode, best=False))
    assert best.overall == Decimal("4.00") and best.rung == Decimal("4.00")
    assert set(best.stages.values()) == {Decimal(4)}
    assert worst.overall == Decimal("2.75") and worst.rung == Decimal("2.75")
    assert set(worst.stages.values()) == {Decimal("2.75")}


@BOTH
def test_every_scored_question_spans_the_ladder(questionnaire: Questionnaire) -> None:
    for question in questionnaire.questions:
        if not question.scored:
            continue
        if question.options and question.scoring != "count":
            levels = [o.level for o in question.options]
            assert min(levels) == Decimal("2.75") and max(levels) == Decimal(4), question.id
        else:
            bands = [b.level for b in question.bands]
            assert bands[0] == Decimal("2.75") and bands[-1] == Decimal(4), question.id


@BOTH
def test_single_options_climb_one_rung_at_a_time(questionnaire: Questionnaire) -> None:
    """No leap: each single question offers every rung, so a plan can move one step."""
    ladder = [Decimal("2.75") + Decimal("0.25") * i for i in range(6)]
    for question in questionnaire.questions:
        if question.scored and question.type == "single":
            assert [o.level for o in question.options] == ladder, question.id


@BOTH
def test_every_climb_has_an_effort(questionnaire: Questionnaire) -> None:
    for question in questionnaire.questions:
        if not question.scored:
            continue
        steps = (
            question.bands[1:]
            if question.type == "number" or question.bands
            else [o for o in question.options if o.level is not None and o.level > Decimal("2.75")]
        )
        for step in steps:
            assert step.effort is not None and 1 <= step.effort <= 5, question.id


def test_counts_only_where_breadth_is_the_capability() -> None:
    counted = [q.id for q in (*FULL.questions, *QUICK.questions) if q.scoring == "count"]
    assert counted == ["dat_areas"]
    areas = FULL.question("dat_areas")
    # One system per function (about five areas) is the digitized rung, not more.
    five = score(FULL, {"dat_areas": [o.id for o in areas.options[:5]]})
    assert five.stages["data_collection"] == Decimal("3.25")


def test_rate_bands_do_not_over_rate_foundations() -> None:
    """Most equipment digital or networked (60 %) is the connected rung, not the top."""
    for questionnaire, question_id, stage in [
        (FULL, "dig_equipment_rate", "digitization"),
        (FULL, "dat_networked", "data_collection"),
        (QUICK, "qc_networked", "data_collection"),
    ]:
        assert score(questionnaire, {question_id: 60}).stages[stage] == Decimal("3.5")
        assert score(questionnaire, {question_id: 80}).stages[stage] == Decimal("3.75")


def test_location_is_not_maturity() -> None:
    """Nothing asks where systems run; remote access counts on own servers too."""
    for questionnaire in (FULL, QUICK):
        ids = {q.id for q in questionnaire.questions}
        assert not ids & {"cld_business_systems", "qc_business_systems", "cld_cloud_share"}
    for option in FULL.question("cld_remote").options:
        assert "云上" not in option.text.zh, option.id
    remote_help = FULL.question("cld_remote").help
    assert remote_help is not None and "VPN" in remote_help.zh


DOUBLE_BARRELLED = {
    ("aut_machine_control", "self_optimising"): "上下游",
    ("dat_network", "deterministic"): "标识解析",
}


def test_double_barrelled_options_are_split() -> None:
    ids = {q.id for q in FULL.questions}
    assert "aut_safety_energy" not in ids and {"aut_safety", "dat_energy"} <= ids
    for (question_id, option_id), phrase in DOUBLE_BARRELLED.items():
        option = FULL.question(question_id).option(option_id)
        assert option is not None and phrase not in option.text.zh


def test_quick_check_has_mixed_mode() -> None:
    mode = QUICK.question("qc_mode")
    assert [o.id for o in mode.options] == ["discrete", "process", "mixed"]
    mixed = score(QUICK, {"qc_mode": "mixed", "qc_loading": "manual", "qc_process_control": "dcs"})
    assert mixed.stages["automation"] == Decimal("3.0")


@BOTH
def test_no_select_all_hint_in_question_text(questionnaire: Questionnaire) -> None:
    for question in questionnaire.questions:
        assert not re.search(r"可多选|choose all|select all", question.text.zh + question.text.en)


def test_missing_dimensions_are_asked() -> None:
    refs = {ref for q in FULL.questions for ref in q.refs}
    for needed in [
        "CMMM:人员技能", "CMMM:组织战略", "MIIT-2024:管理机制", "CMMM:能源管理",
        "CMMM:计划与调度", "CMMM:销售", "CMMM:客户服务", "CMMM:产品服务",
        "Seed:工业软件依赖进口", "Seed:设备数据端口受制于外方", "Seed:复合型人才短缺",
    ]:  # fmt: skip
        assert needed in refs, needed


@BOTH
def test_every_question_names_cmmm_and_miit(questionnaire: Questionnaire) -> None:
    for question in questionnaire.questions:
        assert any(r.startswith("CMMM:") for r in question.refs), question.id
        # MIIT-2024 has no master-data item (a gap stated in docs/questionnaire-coverage.md).
        if question.id != "dat_governance":
            assert any(r.startswith("MIIT-2024:") for r in question.refs), question.id


@BOTH
def test_kpi_baseline_block(questionnaire: Questionnaire) -> None:
    assert {k.id for k in questionnaire.kpis} == KPIS
    better = {k.id: k.better for k in questionnaire.kpis}
    assert better["energy_per_output"] == better["inventory_days"] == "lower"
    assert better["oee"] == better["first_pass_yield"] == better["on_time_delivery"] == "higher"
