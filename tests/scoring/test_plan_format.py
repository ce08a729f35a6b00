"""The plan format (issue 14): ``effort``, ``requires`` and the unscored ``kpis`` block."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from app.questionnaires.cli import cli
from scoring import QuestionnaireLoadError, load_questionnaire, parse_questionnaire, score
from scoring.models import AnswerValue, Band, Requirement

from .test_loader import T, base, issues_of

ROOT = Path(__file__).resolve().parents[2]

#: The published v1 hashes; the format extension must not change how v1 content is hashed.
V1_HASHES = {
    "quick-check.yaml": "12bf0b4911fc36f716c0b882a63f4c624e6eb120a8d0bc6cbb582c002c1286e5",
    "smart-manufacturing-maturity.yaml": (
        "6f08f57cf66411db6fec0f1bb7cd59483794bedb786fb18b750cd5866bd277b4"
    ),
}

KPI = {
    "id": "oee",
    "text": T,
    "unit": {"zh": "%", "en": "%"},
    "min": 0,
    "max": 100,
    "better": "higher",
    "refs": ["MIIT-2024:设备综合效率"],
}


def planned() -> dict[str, Any]:
    """base() with efforts and requirements: q1's high option needs n1 ≥ 3.50."""
    raw = base()
    q1 = raw["stages"][0]["questions"][1]
    q1["options"][1].update(effort=3, requires=[{"question": "n1", "min_level": 3.5}])
    n1 = raw["stages"][1]["questions"][0]
    n1["bands"][1]["effort"] = 2
    raw["kpis"] = [KPI]
    return raw


def load(raw: dict[str, Any]) -> Any:
    return parse_questionnaire(yaml.safe_dump(raw, allow_unicode=True), "demo.yaml")


def test_effort_requires_and_kpis_are_read() -> None:
    questionnaire = load(planned())
    high = questionnaire.question("q1").option("high")
    assert high.effort == 3
    assert high.requires == (Requirement("n1", Decimal("3.5")),)
    assert questionnaire.question("q1").option("low").effort == 1  # the default
    assert questionnaire.question("n1").bands[1] == Band(Decimal(50), Decimal("3.5"), 2, ())
    (kpi,) = questionnaire.kpis
    assert (kpi.id, kpi.unit.en, kpi.min, kpi.max, kpi.better) == ("oee", "%", 0, 100, "higher")


@pytest.mark.parametrize(
    ("better", "before", "after", "trend"),
    [
        ("higher", "60", "72.5", "better"),
        ("higher", "60", "59.9", "worse"),
        ("lower", "45", "30", "better"),
        ("lower", "0.8", "0.81", "worse"),
        ("lower", "45", "45.0", "same"),
    ],
)
def test_kpi_trend_follows_better(better: str, before: str, after: str, trend: str) -> None:
    (kpi,) = load(planned() | {"kpis": [KPI | {"better": better}]}).kpis
    assert kpi.trend(Decimal(before), Decimal(after)) == trend


def test_kpis_and_plans_never_change_scores() -> None:
    answers: dict[str, AnswerValue] = {"mode": "a", "q1": "high", "n1": 60, "m1": ["x"]}
    plain = score(load(base()), answers, with_roadmap=False)
    extended = score(load(planned()), answers, with_roadmap=False)
    assert plain == extended


@pytest.mark.parametrize("name", sorted(V1_HASHES))
def test_v1_files_load_unchanged(name: str) -> None:
    questionnaire = load_questionnaire(ROOT / "questionnaires" / name)
    assert questionnaire.content_hash == V1_HASHES[name]
    assert questionnaire.kpis == ()
    assert all(
        p.effort == 1 and p.requires == () for q in questionnaire.questions for p in q.positions()
    )


def test_positions_are_ordered_by_level_without_exclusive_options() -> None:
    raw = base()
    raw["stages"][0]["questions"][1]["options"] = [
        {"id": "mid", "text": T, "level": 3.25},
        {"id": "low", "text": T, "level": 2.75},
        {"id": "top", "text": T, "level": 3.5},
    ]
    questionnaire = load(raw)
    assert [o.id for o in questionnaire.question("q1").positions()] == ["low", "mid", "top"]
    assert questionnaire.question("m1").positions() == questionnaire.question("m1").bands


def with_requires(target: str, level: float, on: str = "q1") -> dict[str, Any]:
    raw = planned()
    where = {"q1": raw["stages"][0]["questions"][1]["options"][1], "n1": None}[on]
    if where is None:
        where = raw["stages"][1]["questions"][0]["bands"][1]
    where["requires"] = [{"question": target, "min_level": level}]
    return raw


@pytest.mark.parametrize(
    ("raw", "path", "fragment"),
    [
        (with_requires("nope", 3.0), "options[1].requires[0].question", "no question 'nope'"),
        (with_requires("mode", 3.0), "options[1].requires[0].question", "not scored"),
        (with_requires("n1", 3.75), "options[1].requires[0].min_level", "above the highest"),
        (with_requires("n1", 4.5), "options[1].requires[0].min_level", "outside"),
        (with_requires("q1", 3.0), "options[1].requires[0]", "cycle: q1 → q1"),
    ],
)
def test_bad_requirements(raw: dict[str, Any], path: str, fragment: str) -> None:
    issues = issues_of(raw)
    assert any(issue.path.endswith(path) and fragment in issue.message for issue in issues), issues


def test_a_cycle_through_two_questions_is_named() -> None:
    raw = planned()  # q1.high needs n1 ≥ 3.5 …
    raw["stages"][1]["questions"][0]["bands"][1]["requires"] = [
        {"question": "q1", "min_level": 3.5}
    ]  # … and n1's top band needs q1 ≥ 3.5
    messages = [issue.message for issue in issues_of(raw)]
    assert any("cycle: n1 → q1 → n1" in m or "cycle: q1 → n1 → q1" in m for m in messages)


def _option(raw: dict[str, Any], stage: int, question: int, option: int) -> dict[str, Any]:
    return raw["stages"][stage]["questions"][question]["options"][option]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("where", "value", "fragment"),
    [
        ((0, 1, 1, "effort"), 0, "from 1 to 5"),
        ((0, 1, 1, "effort"), 6, "from 1 to 5"),
        ((0, 1, 1, "effort"), True, "from 1 to 5"),
        ((0, 1, 1, "effort"), 2.5, "from 1 to 5"),
        ((0, 0, 0, "effort"), 2, "is not used here"),  # a profiling question
        ((1, 1, 2, "effort"), 2, "is not used here"),  # an option under scoring: count
        ((0, 1, 1, "requires"), [], "must not be empty"),
        ((0, 1, 1, "requires"), [{"question": "n1"}], "missing key 'min_level'"),
    ],
)
def test_bad_plan_keys(where: tuple[int, int, int, str], value: Any, fragment: str) -> None:
    raw = planned()
    stage, question, option, key = where
    _option(raw, stage, question, option)[key] = value
    messages = [issue.message for issue in issues_of(raw)]
    assert any(fragment in m for m in messages), messages


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("better", "more", "must be higher or lower"),
        ("max", 0, "must be greater than min"),
        ("id", "q1", "already a question id"),
        ("unit", "%", "must be a mapping"),
    ],
)
def test_bad_kpis(key: str, value: Any, fragment: str) -> None:
    raw = planned()
    raw["kpis"] = [KPI | {key: value}]
    messages = [issue.message for issue in issues_of(raw)]
    assert any(fragment in m for m in messages), messages


def test_duplicate_kpi_ids() -> None:
    raw = planned()
    raw["kpis"] = [KPI, KPI]
    assert any("duplicate KPI id 'oee'" in issue.message for issue in issues_of(raw))


def test_validate_command_checks_plans(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(planned(), allow_unicode=True), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(with_requires("nope", 3.0), allow_unicode=True), "utf-8")
    runner = CliRunner()
    ok = runner.invoke(cli, ["questionnaire", "validate", str(good), str(ROOT / "questionnaires")])
    assert ok.exit_code == 0, ok.output
    assert "1 KPIs" in ok.output
    failed = runner.invoke(cli, ["questionnaire", "validate", str(bad)])
    assert failed.exit_code == 1
    assert "options[1].requires[0].question: no question 'nope'" in failed.output
    with pytest.raises(QuestionnaireLoadError):
        load_questionnaire(bad)
