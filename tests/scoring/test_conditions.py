"""Conditions (design §6): parsing, evaluation, failing leaves."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from scoring import (
    All,
    ConditionError,
    Facts,
    Leaf,
    Not,
    evaluate,
    failing_leaves,
    iter_leaves,
    parse_condition,
    path_checker,
)
from scoring import (
    Any as AnyOf,
)
from scoring.models import Text

CHECK = path_checker(questions={"q1", "q2", "multi", "num"}, stages={"digitization"})


@dataclass
class Result:
    overall: Decimal | None = Decimal("3.3")
    rung: Decimal = Decimal("3.25")
    stages: dict[str, Decimal] = field(default_factory=lambda: {"digitization": Decimal("3.1")})


FACTS = Facts(
    profile={"size_class": "small", "employees": 120, "above_designated_size": True},
    answers={"q1": "yes", "multi": ["a", "b"], "num": Decimal("40.5"), "q2": "n/a"},
    result=Result(),
)


def leaf(path: str, op: str, value: Any) -> Leaf:
    return parse_condition({"field": path, "op": op, "value": value}, "c", CHECK)  # type: ignore[return-value]


EVALUATIONS = [
    ("profile.size_class", "eq", "small", True),
    ("profile.size_class", "ne", "small", False),
    ("profile.size_class", "in", ["micro", "small"], True),
    ("profile.size_class", "not_in", ["micro", "small"], False),
    ("profile.employees", "gte", 120, True),
    ("profile.employees", "gt", 120, False),
    ("profile.employees", "lt", 200.5, True),
    ("profile.employees", "lte", 119, False),
    ("profile.employees", "eq", 120.0, True),  # numbers compare as Decimal
    ("profile.above_designated_size", "eq", True, True),
    ("profile.above_designated_size", "eq", 1, False),  # booleans are not numbers
    ("profile.district_code", "eq", "310117", False),  # no value → false
    ("profile.district_code", "ne", "310117", False),  # no value → false, whatever the op
    ("profile.district_code", "not_in", ["310117"], False),
    ("profile.size_class", "gt", 3, False),  # ordering on a non-number → false
    ("answers.q1", "eq", "yes", True),
    ("answers.q2", "eq", "n/a", True),
    ("answers.multi", "contains", "a", True),
    ("answers.multi", "contains", "c", False),
    ("answers.q1", "contains", "y", False),  # contains needs a list
    ("answers.multi", "in", ["b", "z"], True),
    ("answers.multi", "not_in", ["b", "z"], False),
    ("answers.multi", "eq", ["b", "a"], True),
    ("answers.num", "gte", 40.5, True),
    ("answers.num", "lt", 40.5, False),
    ("result.overall", "gte", 3.25, True),
    ("result.rung", "eq", 3.25, True),
    ("result.stages.digitization", "lt", 3.25, True),
]


@pytest.mark.parametrize(("path", "op", "value", "expected"), EVALUATIONS)
def test_evaluate(path: str, op: str, value: Any, expected: bool) -> None:
    assert evaluate(leaf(path, op, value), FACTS) is expected


def test_result_paths_without_a_result_are_false() -> None:
    assert not evaluate(leaf("result.overall", "gte", 0), Facts())
    assert not evaluate(leaf("result.overall", "gte", 0), Facts(result=Result(overall=None)))


def test_tree_evaluation_and_failing_leaves() -> None:
    small = leaf("profile.size_class", "eq", "small")
    big = leaf("profile.employees", "gte", 500)
    rung = leaf("result.rung", "gte", 3.5)
    stage = leaf("result.stages.digitization", "gte", 3.25)
    assert evaluate(All((small, AnyOf((big, rung)))), FACTS) is False
    assert failing_leaves(All((small, AnyOf((big, rung)))), FACTS) == [big]
    assert failing_leaves(All((small, big, AnyOf((All((rung, stage)), big)))), FACTS) == [big, big]
    assert failing_leaves(All((small,)), FACTS) == []
    # Under a not the polarity turns: the listed leaf is true and must become false.
    assert evaluate(Not(small), FACTS) is False
    assert failing_leaves(Not(small), FACTS) == [small]
    assert failing_leaves(Not(AnyOf((small, big))), FACTS) == [small]
    assert failing_leaves(Not(All((small, big))), FACTS) == []
    assert failing_leaves(Not(All((small, Not(big)))), FACTS) == [small]
    assert list(iter_leaves(All((small, Not(AnyOf((big, rung))))))) == [small, big, rung]


def test_parse_tree_with_why() -> None:
    raw = {
        "all": [
            {"any": [{"field": "profile.size_class", "op": "in", "value": ["small", "micro"]}]},
            {"not": {"field": "result.rung", "op": "lt", "value": 3.25,
                     "why": {"zh": "需达到 3.25", "en": "needs 3.25"}}},
        ]
    }  # fmt: skip
    parsed = parse_condition(raw, "eligibility", CHECK)
    assert isinstance(parsed, All)
    inner = parsed.conditions[1]
    assert isinstance(inner, Not) and isinstance(inner.condition, Leaf)
    assert inner.condition.why == Text("需达到 3.25", "needs 3.25")
    assert inner.condition.value == Decimal("3.25")


PARSE_ERRORS = [
    ("just text", "c", "a condition must be a mapping"),
    ({"all": []}, "c.all", "must not be empty"),
    ({"all": "x"}, "c.all", "must be a list"),
    (
        {"all": [{"field": "profile.size_class", "op": "eq", "value": "s"}], "extra": 1},
        "c.extra",
        "unknown key",
    ),
    ({"all": [{"bogus": 1}]}, "c.all[0]", "a condition is {all"),
    (
        {"not": {"field": "profile.size_class", "op": "eq", "value": "s"}, "any": []},
        "c.not",
        "unknown key",
    ),
    ({"field": "profile.size_class", "op": "eq", "value": []}, "c.value", "must not be empty"),
    ({"not": "x"}, "c.not", "a condition must be a mapping"),
    ({"field": "profile.size_class", "op": "eq"}, "c", "missing key 'value'"),
    ({"field": "profile.size_class", "op": "eq", "value": "s", "note": 1}, "c.note", "unknown key"),
    ({"field": 3, "op": "eq", "value": "s"}, "c.field", "must be a string"),
    ({"field": "weather.today", "op": "eq", "value": "s"}, "c.field", "unknown path"),
    ({"field": "answers.q9", "op": "eq", "value": "s"}, "c.field", "no question 'q9'"),
    ({"field": "result.stages.cloud", "op": "gte", "value": 3}, "c.field", "unknown result path"),
    ({"field": "result.total", "op": "gte", "value": 3}, "c.field", "unknown result path"),
    ({"field": "profile.size_class", "op": "like", "value": "s"}, "c.op", "unknown op"),
    ({"field": "profile.size_class", "op": "in", "value": "s"}, "c.value", "must be a list"),
    (
        {"field": "profile.size_class", "op": "in", "value": [["x"]]},
        "c.value[0]",
        "must be a string, number or boolean",
    ),
    ({"field": "profile.employees", "op": "gt", "value": "many"}, "c.value", "must be a number"),
    (
        {"field": "profile.size_class", "op": "eq", "value": {"a": 1}},
        "c.value",
        "must be a string, number or boolean",
    ),
    (
        {"field": "profile.size_class", "op": "eq", "value": "s", "why": "because"},
        "c.why",
        "must be a mapping",
    ),
]


@pytest.mark.parametrize(("raw", "path", "fragment"), PARSE_ERRORS)
def test_parse_errors(raw: Any, path: str, fragment: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(raw, "c", CHECK, source="s.yaml")
    issues = caught.value.issues
    assert any(i.path == path and fragment in i.message and i.file == "s.yaml" for i in issues), (
        issues
    )


def test_path_checker_without_results() -> None:
    check = path_checker(allow_result=False, profile_fields={"employees"})
    assert check("profile.employees") is None
    assert check("result.overall") == "result.* paths are not available here"
    assert "unknown profile field" in (check("profile.size_class") or "")


def test_check_leaf_hook() -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(
            {"field": "profile.size_class", "op": "eq", "value": "huge"},
            "c",
            CHECK,
            check_leaf=lambda leaf: None if leaf.value in ("small", "micro") else "unknown size",
        )
    assert caught.value.issues[0].message == "unknown size"
    assert caught.value.issues[0].path == "c.value"


def test_not_with_extra_keys() -> None:
    raw = {"not": {"field": "profile.size_class", "op": "eq", "value": "s"}, "extra": 1}
    with pytest.raises(ConditionError) as caught:
        parse_condition(raw, "c", CHECK)
    assert [issue.path for issue in caught.value.issues] == ["c.extra"]
