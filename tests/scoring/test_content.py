"""The shipped questionnaires meet issue 3's content rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from scoring import Leaf, Questionnaire, iter_leaves, load_questionnaire

ROOT = Path(__file__).resolve().parents[2]
STAGES = ["digitization", "automation", "data_collection", "cloud_adoption"]
FULL = load_questionnaire(ROOT / "questionnaires" / "smart-manufacturing-maturity.yaml")
QUICK = load_questionnaire(ROOT / "questionnaires" / "quick-check.yaml")
REF_PREFIXES = ("CMMM:", "MIIT-2024:", "SIRI:", "acatech:")


def test_full_questionnaire_shape() -> None:
    assert (FULL.id, FULL.version) == ("smart-manufacturing-maturity", 1)
    assert [stage.id for stage in FULL.stages] == STAGES
    for stage in FULL.stages:
        assert 9 <= len(stage.questions) <= 12, stage.id
    assert {q.type for q in FULL.questions} == {"single", "multi", "number"}


def test_quick_check_shape() -> None:
    assert (QUICK.id, QUICK.version) == ("quick-check", 1)
    assert [stage.id for stage in QUICK.stages] == STAGES
    assert len(QUICK.questions) <= 12


@pytest.mark.parametrize("questionnaire", [FULL, QUICK], ids=["full", "quick"])
def test_every_question_is_bilingual_with_refs(questionnaire: Questionnaire) -> None:
    for question in questionnaire.questions:
        assert question.refs, question.id
        assert all(ref.startswith(REF_PREFIXES) for ref in question.refs), question.refs
        assert question.text.zh and question.text.en
        for option in question.options:
            assert option.text.zh and option.text.en
        if question.type == "number":
            assert question.unit is not None and question.min is not None
            assert question.max is not None


def conditions_on(questionnaire: Questionnaire, field: str) -> set[str]:
    return {
        q.id
        for q in questionnaire.questions
        if q.applies_if is not None
        and any(
            isinstance(leaf, Leaf) and leaf.field == field for leaf in iter_leaves(q.applies_if)
        )
    }


def test_adapts_to_production_mode_and_networked_equipment() -> None:
    mode = FULL.questions[0]
    assert mode.id == "dig_production_mode" and not mode.scored
    assert {"dig_design", "aut_loading", "aut_changeover"} <= conditions_on(
        FULL, "answers.dig_production_mode"
    )
    assert {"dig_recipe", "aut_process_control"} <= conditions_on(
        FULL, "answers.dig_production_mode"
    )
    assert {"dat_machine_data", "dat_frequency", "dat_integration", "dat_oee"} <= conditions_on(
        FULL, "answers.dat_networked"
    )
    assert conditions_on(QUICK, "answers.qc_mode") == {"qc_loading", "qc_process_control"}
