"""The questionnaire author CLI: ``questionnaire validate`` and ``score`` (no DB, no settings)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import typer
from typer.testing import CliRunner

from app.questionnaires.cli import questionnaire_app, score_command

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "docs" / "examples" / "worked-example"
runner = CliRunner()

score_app = typer.Typer()
score_app.command()(score_command)


def test_validate_shipped_questionnaires() -> None:
    paths = sorted(str(p) for p in (ROOT / "questionnaires").glob("*.yaml"))
    result = runner.invoke(questionnaire_app, ["validate", *paths])
    assert result.exit_code == 0, result.output
    assert "ok  smart-manufacturing-maturity v1: 4 stages, 42 questions" in result.output
    assert "ok  quick-check v1" in result.output


def test_validate_a_directory() -> None:
    result = runner.invoke(questionnaire_app, ["validate", str(ROOT / "questionnaires")])
    assert result.exit_code == 0, result.output


def test_validate_broken_reference_names_file_and_path(tmp_path: Path) -> None:
    source = (ROOT / "questionnaires" / "smart-manufacturing-maturity.yaml").read_text("utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        source.replace(
            "field: answers.dat_networked, op: gt", "field: answers.dat_netwrked, op: gt", 1
        ),
        encoding="utf-8",
    )
    result = runner.invoke(questionnaire_app, ["validate", str(broken)])
    assert result.exit_code == 1
    assert (
        f"{broken}: stages[2].questions[4].applies_if.field: no question 'dat_netwrked'"
        in result.output
    )
    assert "1 problem found" in result.output


def test_validate_reports_every_file_and_duplicates(tmp_path: Path) -> None:
    copy = tmp_path / "copy.yaml"
    shutil.copy(ROOT / "questionnaires" / "quick-check.yaml", copy)
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\n", encoding="utf-8")
    quick = str(ROOT / "questionnaires" / "quick-check.yaml")
    result = runner.invoke(questionnaire_app, ["validate", quick, str(copy), str(bad)])
    assert result.exit_code == 1
    assert f"{copy}: id: quick-check v1 is also defined in {quick}" in result.output
    assert f"{bad}: missing key 'version'" in result.output
    assert "4 problems found" in result.output


def test_group_shows_help_without_a_command() -> None:
    result = runner.invoke(questionnaire_app, [])
    assert "validate" in result.output


def worked_args(*extra: str) -> list[str]:
    return [
        "--questionnaire", str(EXAMPLE / "questionnaire.yaml"),
        "--answers", str(EXAMPLE / "answers.json"),
        *extra,
    ]  # fmt: skip


def test_score_prints_the_numbers_worked_out_by_hand() -> None:
    """The numbers docs/questionnaire-format.md derives by hand, exactly."""
    result = runner.invoke(score_app, worked_args("--profile", str(EXAMPLE / "profile.json")))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["stages"] == {"digitization": 3.5, "automation": 3.75, "data_collection": 3.0}
    assert out["overall"] == 3.31
    assert out["rung"] == 3.25
    assert out["rung_name"] == "规范级"
    assert out["held_back_by"] == [
        {"kind": "overall", "stage_id": None, "rung": 3.5, "needed": 3.5, "actual": 3.31},
        {
            "kind": "stage",
            "stage_id": "data_collection",
            "rung": 3.5,
            "needed": 3.25,
            "actual": 3.0,
        },
    ]
    roadmap = out["roadmap"]
    assert roadmap["next_rung"] == 3.5
    assert [(s["question_id"], s["gain"], s["lifts_binding_stage"]) for s in roadmap["steps"]] == [
        ("capture", 0.25, True),
    ]
    assert roadmap["steps"][0]["target"] == ["output", "status", "quality"]
    assert (roadmap["plan"]["overall"], roadmap["plan"]["optimal"]) == (3.56, True)
    assert [idea["question_id"] for idea in roadmap["ideas"]] == ["equipment_rate"]
    assert out["crosswalk"]["cmmm"] == "L2规范级" and out["crosswalk"]["indicative"] is True


def test_score_in_english() -> None:
    result = runner.invoke(score_app, worked_args("--lang", "en"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rung_name"] == "Standardised"


def test_score_rejects_unknown_language() -> None:
    result = runner.invoke(score_app, worked_args("--lang", "fr"))
    assert result.exit_code == 2
    assert "must be one of zh, en" in result.output


def test_score_reports_invalid_answers(tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"erp": "mainframe", "equipment_rate": True}), encoding="utf-8")
    args = ["-q", str(EXAMPLE / "questionnaire.yaml"), "-a", str(answers)]
    result = runner.invoke(score_app, args)
    assert result.exit_code == 1
    assert f"{answers}: erp: 'mainframe' is not an option of this question [unknown_option]" in (
        result.output
    )
    assert "equipment_rate: expected a number, got bool [not_a_number]" in result.output


def test_score_reports_unreadable_inputs(tmp_path: Path) -> None:
    not_json = tmp_path / "answers.json"
    not_json.write_text("{oops", encoding="utf-8")
    result = runner.invoke(
        score_app, ["-q", str(EXAMPLE / "questionnaire.yaml"), "-a", str(not_json)]
    )
    assert result.exit_code == 1 and "cannot read answers" in result.output

    a_list = tmp_path / "list.json"
    a_list.write_text("[]", encoding="utf-8")
    args = ["-q", str(EXAMPLE / "questionnaire.yaml"), "-a", str(EXAMPLE / "answers.json"),
            "-p", str(a_list)]  # fmt: skip
    result = runner.invoke(score_app, args)
    assert result.exit_code == 1 and "profile must be a JSON object" in result.output

    bad_yaml = tmp_path / "q.yaml"
    bad_yaml.write_text("id: [", encoding="utf-8")
    result = runner.invoke(score_app, ["-q", str(bad_yaml), "-a", str(EXAMPLE / "answers.json")])
    assert result.exit_code == 1 and "not valid YAML" in result.output
