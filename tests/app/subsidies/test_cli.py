"""``zhizao subsidies validate``."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from app.subsidies.cli import subsidies_app

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "scoring" / "data" / "subsidies"
runner = CliRunner()


def test_validate_the_real_catalogue() -> None:
    outcome = runner.invoke(subsidies_app, ["validate", str(ROOT / "subsidies")])
    assert outcome.exit_code == 0, outcome.output
    assert outcome.stdout.startswith("ok: ") and "programmes" in outcome.stdout


def test_validate_one_file() -> None:
    outcome = runner.invoke(
        subsidies_app, ["validate", str(DATA / "good" / "demo-fixed-award.yaml")]
    )
    assert outcome.exit_code == 0
    assert outcome.stdout == "ok: 1 programme\n"


def test_validate_lists_every_error_and_exits_1() -> None:
    outcome = runner.invoke(subsidies_app, ["validate", str(DATA / "bad"), str(DATA / "good")])
    assert outcome.exit_code == 1
    lines = outcome.stderr.splitlines()
    assert any("many-problems.yaml: colour: unknown key 'colour'" in line for line in lines)
    assert any(
        "many-problems.yaml: eligibility.field: unknown profile field" in line for line in lines
    )
    assert any("not-yaml.yaml: not valid YAML" in line for line in lines)
    assert any(
        "wrong-name.yaml: id: id 'demo-other-id' must equal the file name" in line for line in lines
    )
    assert lines[-1].endswith("problems found")


def test_validate_missing_path(tmp_path: Path) -> None:
    outcome = runner.invoke(subsidies_app, ["validate", str(tmp_path / "nope.yaml")])
    assert outcome.exit_code == 1
    assert "nope.yaml: no such file or directory" in outcome.stderr
    both = runner.invoke(
        subsidies_app, ["validate", str(tmp_path / "nope.yaml"), str(DATA / "bad")]
    )
    assert both.exit_code == 1
    assert both.stderr.splitlines()[-1].endswith("problems found")


def test_no_arguments_shows_help() -> None:
    outcome = runner.invoke(subsidies_app, [])
    assert "validate" in outcome.output
