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


def test_audit_lists_what_needs_a_maintainer() -> None:
    outcome = runner.invoke(
        subsidies_app, ["audit", str(ROOT / "subsidies"), "--as-of", "2026-12-01"]
    )
    assert outcome.exit_code == 0, outcome.output
    lines = outcome.stdout.splitlines()
    assert "sh-techtrans-2026: expired on 2026-02-04" in lines
    assert (
        "jinshan-iiot-diagnosis-workshop: validity unknown (status: unconfirmed): find dated "
        "sources or remove it" in lines
    )
    assert (
        "sh-ai-compute-voucher: last confirmed 2023-05-17, over 12 months before 2026-12-01"
        in lines
    )
    assert "cn-rd-super-deduction: no official source URL" in lines
    assert lines[-1] == (
        "35 programmes audited as of 2026-12-01: 3 expired, 19 unconfirmed for over 12 months, "
        "9 of unknown validity, 28 without an official URL"
    )


def test_audit_defaults_to_the_served_catalogue_today() -> None:
    outcome = runner.invoke(subsidies_app, ["audit"])
    assert outcome.exit_code == 0, outcome.output
    assert "35 programmes audited as of " in outcome.stdout.splitlines()[-1]


def test_audit_of_files_that_do_not_load_exits_1() -> None:
    outcome = runner.invoke(subsidies_app, ["audit", str(DATA / "bad")])
    assert outcome.exit_code == 1
    assert "wrong-name.yaml: id: id 'demo-other-id' must equal the file name" in outcome.stderr
    bad_date = runner.invoke(subsidies_app, ["audit", "--as-of", "2026-02-30"])
    assert bad_date.exit_code == 2
