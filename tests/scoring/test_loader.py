"""Questionnaire loader: every error names file, path and problem; all errors are collected."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from scoring import (
    All,
    Leaf,
    LoadIssue,
    QuestionnaireLoadError,
    load_questionnaire,
    load_questionnaire_dir,
    parse_questionnaire,
)

T = {"zh": "中", "en": "en"}


def base() -> dict[str, Any]:
    return {
        "id": "demo",
        "version": 1,
        "title": T,
        "stages": [
            {
                "id": "s1",
                "title": T,
                "questions": [
                    {
                        "id": "mode",
                        "text": T,
                        "type": "single",
                        "weight": 0,
                        "options": [{"id": "a", "text": T}, {"id": "b", "text": T}],
                    },
                    {
                        "id": "q1",
                        "text": T,
                        "type": "single",
                        "options": [
                            {"id": "low", "text": T, "level": 2.75},
                            {"id": "high", "text": T, "level": 3.5},
                        ],
                        "refs": ["CMMM:装备"],
                    },
                ],
            },
            {
                "id": "s2",
                "title": T,
                "weight": 2,
                "questions": [
                    {
                        "id": "n1",
                        "text": T,
                        "type": "number",
                        "min": 0,
                        "max": 100,
                        "unit": T,
                        "bands": [{"min": 0, "level": 2.75}, {"min": 50, "level": 3.5}],
                    },
                    {
                        "id": "m1",
                        "text": T,
                        "type": "multi",
                        "scoring": "count",
                        "options": [
                            {"id": "x", "text": T},
                            {"id": "y", "text": T},
                            {"id": "none", "text": T, "exclusive": True},
                        ],
                        "bands": [{"min": 0, "level": 2.75}, {"min": 2, "level": 3.25}],
                        "applies_if": {"field": "answers.mode", "op": "eq", "value": "a"},
                    },
                ],
            },
        ],
    }


def issues_of(raw: Any) -> list[LoadIssue]:
    with pytest.raises(QuestionnaireLoadError) as caught:
        parse_questionnaire(yaml.safe_dump(raw, allow_unicode=True), "demo.yaml")
    assert all(issue.file == "demo.yaml" for issue in caught.value.issues)
    return caught.value.issues


def test_valid_base_loads() -> None:
    questionnaire = parse_questionnaire(yaml.safe_dump(base()), "demo.yaml")
    assert [q.id for q in questionnaire.questions] == ["mode", "q1", "n1", "m1"]
    assert questionnaire.question("m1").stage_id == "s2"
    assert questionnaire.stage("s2").weight == Decimal(2)
    assert questionnaire.question("q1").option("high") is not None
    assert questionnaire.question("m1").applies_if == Leaf("answers.mode", "eq", "a")
    assert questionnaire.question("n1").min == Decimal(0)
    assert len(questionnaire.content_hash) == 64


def test_hash_ignores_layout_but_not_content() -> None:
    raw = base()
    one = parse_questionnaire(yaml.safe_dump(raw), "a.yaml")
    two = parse_questionnaire(
        "# comment\n" + yaml.safe_dump(raw, default_flow_style=True), "b.yaml"
    )
    assert one.content_hash == two.content_hash
    raw["stages"][0]["questions"][1]["options"][1]["level"] = 3.75
    assert parse_questionnaire(yaml.safe_dump(raw), "c.yaml").content_hash != one.content_hash


def mutate(path: str, value: Any, *, delete: bool = False) -> dict[str, Any]:
    """base() with the value at a dotted path (list indexes as numbers) replaced or deleted."""
    raw = base()
    node: Any = raw
    parts = [int(p) if p.isdigit() else p for p in path.split(".")]
    for part in parts[:-1]:
        node = node[part]
    if delete:
        del node[parts[-1]]
    else:
        node[parts[-1]] = value
    return raw


S1Q1 = "stages.0.questions.1"
S2N1 = "stages.1.questions.0"
S2M1 = "stages.1.questions.1"

ERRORS = [
    # (mutation path, new value or DELETE, expected path, expected message fragment)
    ("id", "Bad Id", "id", "not a valid id"),
    ("id", True, "id", "YAML reads unquoted yes/no"),
    ("version", 0, "version", "whole number"),
    ("version", 1.5, "version", "whole number"),
    ("version", True, "version", "whole number"),
    ("title", "plain", "title", "must be a mapping"),
    ("title", {"zh": "中"}, "title", "missing key 'en'"),
    ("title", {"zh": "", "en": "x"}, "title.zh", "must not be empty"),
    ("colour", "red", "colour", "unknown key 'colour'"),
    ("stages", [], "stages", "must not be empty"),
    ("stages", "x", "stages", "must be a list"),
    ("stages.0", "x", "stages[0]", "must be a mapping"),
    ("stages.0.weight", 0, "stages[0].weight", "must be > 0"),
    ("stages.0.weight", "heavy", "stages[0].weight", "must be a number"),
    ("stages.1.id", "s1", "stages[1].id", "duplicate stage id 's1'"),
    ("stages.0.questions", [], "stages[0].questions", "must not be empty"),
    (f"{S1Q1}.id", "mode", "stages[0].questions[1].id", "duplicate question id 'mode'"),
    (f"{S1Q1}.type", "rating", "stages[0].questions[1].type", "must be one of single"),
    (f"{S1Q1}.weight", -1, "stages[0].questions[1].weight", "must be ≥ 0"),
    (f"{S1Q1}.required", "yes", "stages[0].questions[1].required", "true or false"),
    (f"{S1Q1}.refs", "CMMM", "stages[0].questions[1].refs", "must be a list"),
    (f"{S1Q1}.refs", [3], "stages[0].questions[1].refs[0]", "must be a string"),
    (f"{S1Q1}.unit", T, "stages[0].questions[1].unit", "only number questions"),
    (f"{S1Q1}.scoring", "max", "stages[0].questions[1].scoring", "only multi questions"),
    (f"{S1Q1}.bands", [], "stages[0].questions[1].bands", "bands belong to number"),
    (
        f"{S1Q1}.options",
        [{"id": "low", "text": T, "level": 3}],
        "stages[0].questions[1].options",
        "at least two options",
    ),
    (
        f"{S1Q1}.options.1.level",
        4.25,
        "stages[0].questions[1].options[1].level",
        "outside [2.75, 4.00]",
    ),
    (
        f"{S1Q1}.options.1.level",
        2.5,
        "stages[0].questions[1].options[1].level",
        "outside [2.75, 4.00]",
    ),
    (f"{S1Q1}.options.1.id", "low", "stages[0].questions[1].options[1].id", "duplicate option id"),
    (
        f"{S1Q1}.options.1.exclusive",
        True,
        "stages[0].questions[1].options[1].exclusive",
        "only multi questions have exclusive",
    ),
    (f"{S1Q1}.options.1", "x", "stages[0].questions[1].options[1]", "must be a mapping"),
    (f"{S1Q1}.options.1.text", None, "stages[0].questions[1].options[1].text", "must be a mapping"),
    (f"{S2N1}.max", 0, "stages[1].questions[0].max", "must be greater than min"),
    (f"{S2N1}.options", [], "stages[1].questions[0].options", "number questions take"),
    (
        f"{S2N1}.bands",
        [{"min": 50, "level": 3}, {"min": 10, "level": 3.5}],
        "stages[1].questions[0].bands[1].min",
        "bands must ascend",
    ),
    (f"{S2N1}.bands", [{"min": 5, "level": 3}], "stages[1].questions[0].bands[0].min", "above min"),
    (
        f"{S2N1}.bands",
        [{"min": 0, "level": 3}, {"min": 150, "level": 3.5}],
        "stages[1].questions[0].bands[1].min",
        "can never be reached",
    ),
    (f"{S2N1}.bands", [{"min": 0}], "stages[1].questions[0].bands[0]", "missing key 'level'"),
    (f"{S2N1}.bands", [{"min": 0, "level": 5}], "stages[1].questions[0].bands[0].level", "outside"),
    (
        f"{S2N1}.bands",
        [{"min": "zero", "level": 3}],
        "stages[1].questions[0].bands[0].min",
        "must be a number",
    ),
    (f"{S2M1}.scoring", "sum", "stages[1].questions[1].scoring", "must be max or count"),
    (
        f"{S2M1}.options.0.level",
        3,
        "stages[1].questions[1].options[0].level",
        "scoring: count uses bands",
    ),
    (
        f"{S2M1}.bands",
        [{"min": 1, "level": 3}],
        "stages[1].questions[1].bands[0].min",
        "must start at 0",
    ),
    (
        f"{S2M1}.bands",
        [{"min": 0, "level": 3}, {"min": 1.5, "level": 3.5}],
        "stages[1].questions[1].bands[1].min",
        "whole number",
    ),
    (
        f"{S2M1}.bands",
        [{"min": 0, "level": 3}, {"min": 3, "level": 3.5}],
        "stages[1].questions[1].bands[1].min",
        "only 2 can be",
    ),
    (
        f"{S2M1}.applies_if",
        {"field": "answers.q9", "op": "eq", "value": "a"},
        "stages[1].questions[1].applies_if.field",
        "no question 'q9'",
    ),
    (
        f"{S2M1}.applies_if",
        {"field": "answers.m1", "op": "eq", "value": "x"},
        "stages[1].questions[1].applies_if.field",
        "own answer",
    ),
    (
        f"{S2M1}.applies_if",
        {"field": "result.overall", "op": "gte", "value": 3},
        "stages[1].questions[1].applies_if.field",
        "cannot be used in applies_if",
    ),
    (
        f"{S2M1}.applies_if",
        {"field": "answers.mode", "op": "eq", "value": "c"},
        "stages[1].questions[1].applies_if.value",
        "'c' is not an option of 'mode'",
    ),
    (
        f"{S2M1}.applies_if",
        {"field": "answers.mode", "op": "gt", "value": 1},
        "stages[1].questions[1].applies_if.value",
        "gt needs a number question",
    ),
    (
        f"{S2M1}.applies_if",
        {"field": "answers.mode", "op": "contains", "value": "a"},
        "stages[1].questions[1].applies_if.value",
        "contains needs a multi question",
    ),
    (
        f"{S2M1}.applies_if",
        {"field": "answers.n1", "op": "eq", "value": "a"},
        "stages[1].questions[1].applies_if.value",
        "compare it with numbers",
    ),
    (
        f"{S2M1}.applies_if",
        {"field": "answers.n1", "op": "contains", "value": 1},
        "stages[1].questions[1].applies_if.value",
        "contains needs a multi question",
    ),
    (
        f"{S2M1}.applies_if",
        {"field": "profile.colour", "op": "eq", "value": "red"},
        "stages[1].questions[1].applies_if.field",
        "unknown profile field",
    ),
    (
        f"{S2M1}.applies_if",
        {"field": "answers.mode", "op": "like", "value": "a"},
        "stages[1].questions[1].applies_if.op",
        "unknown op 'like'",
    ),
]


@pytest.mark.parametrize(("where", "value", "path", "fragment"), ERRORS)
def test_precise_errors(where: str, value: Any, path: str, fragment: str) -> None:
    issues = issues_of(mutate(where, value))
    assert any(issue.path == path and fragment in issue.message for issue in issues), issues


MISSING = [
    ("id", "", "missing key 'id'"),
    ("stages.0.title", "stages[0]", "missing key 'title'"),
    (f"{S1Q1}.options", "stages[0].questions[1]", "missing key 'options'"),
    (f"{S1Q1}.options.1.level", "stages[0].questions[1].options[1]", "missing key 'level'"),
    (f"{S2N1}.min", "stages[1].questions[0]", "missing key 'min'"),
    (f"{S2N1}.bands", "stages[1].questions[0]", "needs bands"),
    (f"{S2M1}.bands", "stages[1].questions[1]", "scoring: count needs bands"),
]


@pytest.mark.parametrize(("where", "path", "fragment"), MISSING)
def test_missing_keys(where: str, path: str, fragment: str) -> None:
    issues = issues_of(mutate(where, None, delete=True))
    assert any(issue.path == path and fragment in issue.message for issue in issues), issues


def test_applies_if_naming_a_later_question() -> None:
    raw = base()
    raw["stages"][0]["questions"][1]["applies_if"] = {"field": "answers.n1", "op": "gt", "value": 0}
    [issue] = issues_of(raw)
    assert issue.path == "stages[0].questions[1].applies_if.field"
    assert "comes later" in issue.message


def test_applies_if_on_a_broken_earlier_question_skips_the_value_check() -> None:
    raw = mutate("stages.0.questions.0.type", "rating")
    raw["stages"][1]["questions"][1]["applies_if"]["value"] = "whatever"
    [issue] = issues_of(raw)
    assert issue.path == "stages[0].questions[0].type"


def test_every_error_is_collected() -> None:
    raw = base()
    raw["version"] = "one"
    raw["stages"][0]["questions"][1]["options"][1]["level"] = 9
    raw["stages"][1]["questions"][0]["max"] = -1
    issues = issues_of(raw)
    assert [issue.path for issue in issues] == [
        "version",
        "stages[0].questions[1].options[1].level",
        "stages[1].questions[0].max",
        "stages[1].questions[0].bands[1].min",  # 50 is above the new max
    ]
    text = str(QuestionnaireLoadError(issues))
    assert text.startswith("4 problems found")
    assert "demo.yaml: stages[1].questions[0].max: max (-1) must be greater than min (0)" in text


def test_unscored_questions_need_no_levels_or_bands() -> None:
    raw = base()
    raw["stages"][1]["questions"][0]["weight"] = 0
    del raw["stages"][1]["questions"][0]["bands"]
    questionnaire = parse_questionnaire(yaml.safe_dump(raw), "demo.yaml")
    assert not questionnaire.question("n1").scored


def test_multi_defaults_to_max_scoring() -> None:
    raw = base()
    raw["stages"][1]["questions"][1] = {
        "id": "m1", "text": T, "type": "multi",
        "options": [{"id": "x", "text": T, "level": 3}, {"id": "y", "text": T, "level": 3.5}],
    }  # fmt: skip
    assert parse_questionnaire(yaml.safe_dump(raw), "d.yaml").question("m1").scoring == "max"


def test_condition_tree_and_option_values() -> None:
    raw = base()
    raw["stages"][1]["questions"][1]["applies_if"] = {
        "all": [
            {"field": "answers.mode", "op": "in", "value": ["a", "b"]},
            {"field": "answers.n1", "op": "gte", "value": 10},
            {"field": "answers.n1", "op": "ne", "value": "n/a"},
            {"field": "profile.size_class", "op": "eq", "value": "small"},
        ]
    }
    questionnaire = parse_questionnaire(yaml.safe_dump(raw), "d.yaml")
    assert isinstance(questionnaire.question("m1").applies_if, All)


def test_yaml_syntax_error() -> None:
    with pytest.raises(QuestionnaireLoadError) as caught:
        parse_questionnaire("id: [unclosed", "broken.yaml")
    [issue] = caught.value.issues
    assert issue.file == "broken.yaml" and issue.path == ""
    assert "not valid YAML" in issue.message


def test_duplicate_yaml_keys_are_errors() -> None:
    text = yaml.safe_dump(base()) + "id: again\n"
    with pytest.raises(QuestionnaireLoadError) as caught:
        parse_questionnaire(text, "dup.yaml")
    assert any("duplicate key 'id'" in issue.message for issue in caught.value.issues)


def test_a_date_shaped_value_that_is_no_calendar_date_is_reported_not_raised() -> None:
    # PyYAML raises ValueError for 2026-02-30; the one strict loader reports it by path.
    raw = base()
    del raw["title"]
    text = "title: 2026-02-30\n" + yaml.safe_dump(raw, allow_unicode=True)
    with pytest.raises(QuestionnaireLoadError) as caught:
        parse_questionnaire(text, "date.yaml")
    assert LoadIssue("date.yaml", "title", "must be a mapping, got a string ('2026-02-30')") in (
        caught.value.issues
    )


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(QuestionnaireLoadError) as caught:
        parse_questionnaire("- 1\n- 2\n", "list.yaml")
    assert caught.value.issues == [LoadIssue("list.yaml", "", "must be a mapping, got a list")]


def test_questions_that_are_not_mappings_are_reported(tmp_path: Path) -> None:
    raw = base()
    raw["stages"][0]["questions"].append("loose text")
    raw["stages"].append("loose stage")
    issues = issues_of(raw)
    assert {issue.path for issue in issues} == {"stages[0].questions[2]", "stages[2]"}


def test_load_file_and_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(base(), allow_unicode=True), encoding="utf-8")
    assert load_questionnaire(path).id == "demo"
    with pytest.raises(QuestionnaireLoadError) as caught:
        load_questionnaire(tmp_path / "missing.yaml")
    assert caught.value.issues[0].message.startswith("cannot read")


def test_load_dir_collects_every_file_and_duplicate_versions(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(base()), encoding="utf-8")
    (tmp_path / "b.yml").write_text(yaml.safe_dump(base()), encoding="utf-8")
    broken = copy.deepcopy(base())
    broken["version"] = -3
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(broken), encoding="utf-8")
    with pytest.raises(QuestionnaireLoadError) as caught:
        load_questionnaire_dir(tmp_path)
    found = {(Path(issue.file).name, issue.path) for issue in caught.value.issues}
    assert found == {("b.yml", "id"), ("c.yaml", "version")}


def test_load_dir_of_the_repository() -> None:
    root = Path(__file__).resolve().parents[2] / "questionnaires"
    ids = {questionnaire.id for questionnaire in load_questionnaire_dir(root)}
    assert {"smart-manufacturing-maturity", "quick-check"} <= ids


def test_other_yaml_types_are_named() -> None:
    issues = issues_of(mutate("version", "PLACEHOLDER"))
    assert issues  # a string version
    text = yaml.safe_dump(base()).replace("version: 1", "version: 2024-01-01")
    with pytest.raises(QuestionnaireLoadError) as caught:
        parse_questionnaire(text, "d.yaml")
    assert caught.value.issues[0].message == "must be a whole number ≥ 1, got date"


def test_invalid_stage_and_question_ids() -> None:
    raw = mutate("stages.0.id", "Stage One")
    raw["stages"][0]["questions"][1]["id"] = "Q-1"
    paths = {issue.path for issue in issues_of(raw)}
    assert paths == {"stages[0].id", "stages[0].questions[1].id"}
