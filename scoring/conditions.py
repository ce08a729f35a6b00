"""Conditions (design §6): one grammar for ``applies_if`` and subsidy eligibility.

``{all: [c, ...]}`` · ``{any: [c, ...]}`` · ``{not: c}`` ·
``{field: PATH, op: OP, value: V, why: {zh, en}}`` (``why`` optional).

PATH is ``profile.<field>``, ``answers.<question_id>``, ``result.overall``, ``result.rung`` or
``result.stages.<stage_id>``. Which paths are known depends on where the condition appears, so
``parse_condition`` takes a ``known_paths`` check; unknown paths are load errors. Nothing is ever
executed: a condition is data.

Evaluation rules:

* A leaf whose path has no value (unanswered question, unknown fact, no result yet) is false,
  whatever its op (so ``ne`` and ``not_in`` are false too).
* Numbers compare as ``Decimal`` (``3`` equals ``3.0``); booleans are never numbers.
* A list value (a multi answer) is ``eq`` to a list with the same members in any order; it is
  ``in`` a list when any member is, ``not_in`` when none is; ``contains`` asks whether one of its
  members equals the value. ``contains`` on anything but a list is false.
* ``lt``/``lte``/``gt``/``gte`` are false unless both sides are numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol, cast

from scoring._raw import Reader, describe, index_path, key_path, to_decimal
from scoring.errors import ConditionError
from scoring.models import Answers, Profile, Text

__all__ = [
    "OPS",
    "PROFILE_FIELDS",
    "All",
    "Any",
    "Condition",
    "Facts",
    "Leaf",
    "Not",
    "Op",
    "PathCheck",
    "ResultFacts",
    "evaluate",
    "failing_leaves",
    "iter_leaves",
    "parse_condition",
    "path_checker",
    "value_of",
]

Op = Literal["eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "contains"]
OPS: tuple[Op, ...] = ("eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "contains")
_ORDERING = frozenset({"lt", "lte", "gt", "gte"})

#: Profile fields a condition may name (design §6).
PROFILE_FIELDS = frozenset(
    {
        "district_code",
        "industry_code",
        "size_class",
        "above_designated_size",
        "employees",
        "annual_revenue_cny",
    }
)

#: ``known_paths(path)`` returns None when ``path`` is allowed, else the reason it is not.
PathCheck = Callable[[str], str | None]
#: ``check_leaf(leaf)`` returns None when the leaf's value fits its path, else the reason.
LeafCheck = Callable[["Leaf"], str | None]

_MISSING = object()
_Key = tuple[str, object]


def _key(value: object) -> _Key:
    """A hashable normal form: numbers as Decimal, lists as sets, booleans apart from numbers."""
    if isinstance(value, bool):
        return ("bool", value)
    number = to_decimal(value)
    if number is not None:
        return ("num", number)
    if isinstance(value, list | tuple):
        return ("list", frozenset(_key(item) for item in value))
    return ("str", value) if isinstance(value, str) else ("other", repr(value))


@dataclass(frozen=True, slots=True)
class Leaf:
    """``{field: PATH, op: OP, value: V}``; ``why`` explains it to the user (eligibility)."""

    field: str
    op: Op
    value: object
    why: Text | None = None
    _expected: object = dataclasses.field(
        init=False, repr=False, compare=False, hash=False, default=None
    )

    def __post_init__(self) -> None:
        if self.op in ("in", "not_in"):
            expected: object = frozenset(
                _key(item) for item in cast(Collection[object], self.value)
            )
        elif self.op in _ORDERING:
            expected = to_decimal(self.value)
        else:
            expected = _key(self.value)
        object.__setattr__(self, "_expected", expected)


@dataclass(frozen=True, slots=True)
class All:
    """True when every condition is true (an empty list is not accepted by the parser)."""

    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Any:
    """True when at least one condition is true."""

    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """True when the condition is false."""

    condition: Condition


Condition = All | Any | Not | Leaf


class ResultFacts(Protocol):
    """What conditions read from a score result (``scoring.ScoreResult`` satisfies it)."""

    @property
    def overall(self) -> Decimal | None: ...

    @property
    def rung(self) -> Decimal: ...

    @property
    def stages(self) -> Mapping[str, Decimal]: ...


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything a condition can look at."""

    profile: Profile = dataclasses.field(default_factory=dict)
    answers: Answers = dataclasses.field(default_factory=dict)
    result: ResultFacts | None = None


def value_of(path: str, facts: Facts) -> object | None:
    """The value a condition path reads from ``facts``; None when it has none (design §6)."""
    value = _lookup(path, facts)
    return None if value is _MISSING else value


def _lookup(path: str, facts: Facts) -> object:
    head, _, rest = path.partition(".")
    value: object
    if head == "profile":
        value = facts.profile.get(rest)
    elif head == "answers":
        value = facts.answers.get(rest)
    elif facts.result is None:
        value = None
    elif rest == "overall":
        value = facts.result.overall
    elif rest == "rung":
        value = facts.result.rung
    else:
        value = facts.result.stages.get(rest.removeprefix("stages."))
    return _MISSING if value is None else value


def _leaf_true(leaf: Leaf, facts: Facts) -> bool:
    actual = _lookup(leaf.field, facts)
    if actual is _MISSING:
        return False
    op = leaf.op
    expected = leaf._expected
    if op == "eq" or op == "ne":
        return (_key(actual) == expected) == (op == "eq")
    if op == "in" or op == "not_in":
        members = cast(frozenset[_Key], expected)
        if isinstance(actual, list | tuple):
            hit = any(_key(item) in members for item in actual)
        else:
            hit = _key(actual) in members
        return hit == (op == "in")
    if op == "contains":
        return isinstance(actual, list | tuple) and any(_key(item) == expected for item in actual)
    number = to_decimal(actual)
    if number is None:
        return False
    bound = cast(Decimal, expected)
    if op == "lt":
        return number < bound
    if op == "lte":
        return number <= bound
    if op == "gt":
        return number > bound
    return number >= bound


def evaluate(condition: Condition, facts: Facts) -> bool:
    """Whether ``condition`` holds for ``facts``."""
    if isinstance(condition, Leaf):
        return _leaf_true(condition, facts)
    if isinstance(condition, All):
        return all(evaluate(item, facts) for item in condition.conditions)
    if isinstance(condition, Any):
        return any(evaluate(item, facts) for item in condition.conditions)
    return not evaluate(condition.condition, facts)


def failing_leaves(condition: Condition, facts: Facts) -> list[Leaf]:
    """The fewest leaves whose truth must flip for ``condition`` to hold ([] when it holds).

    For ``all`` that is every failing part; for ``any`` the alternative with the fewest failing
    leaves (the first on a tie). Under a ``not`` the polarity turns: a leaf listed there is
    currently *true* and must become false. This is the to-do list of a "nearly eligible" match.
    """
    return _failing(condition, facts, want=True)


def _failing(condition: Condition, facts: Facts, *, want: bool) -> list[Leaf]:
    if isinstance(condition, Leaf):
        return [] if _leaf_true(condition, facts) == want else [condition]
    if isinstance(condition, Not):
        return _failing(condition.condition, facts, want=not want)
    parts = [_failing(item, facts, want=want) for item in condition.conditions]
    # all(...) true, or any(...) false, needs every part; the other two need the cheapest one.
    if isinstance(condition, All) == want:
        return [leaf for part in parts for leaf in part]
    return min(parts, key=len)


def iter_leaves(condition: Condition) -> Iterator[Leaf]:
    """Every leaf of ``condition``, depth first."""
    if isinstance(condition, Leaf):
        yield condition
    elif isinstance(condition, Not):
        yield from iter_leaves(condition.condition)
    else:
        for item in condition.conditions:
            yield from iter_leaves(item)


def path_checker(
    *,
    questions: Collection[str] = (),
    stages: Collection[str] = (),
    allow_result: bool = True,
    profile_fields: Collection[str] = PROFILE_FIELDS,
) -> PathCheck:
    """A ``known_paths`` check for the standard paths over the given question and stage ids."""

    def check(path: str) -> str | None:
        head, _, rest = path.partition(".")
        if head == "profile":
            if rest in profile_fields:
                return None
            return f"unknown profile field {rest!r}; known: {', '.join(sorted(profile_fields))}"
        if head == "answers":
            return None if rest in questions else f"no question {rest!r}"
        if head == "result":
            if not allow_result:
                return "result.* paths are not available here"
            if rest in ("overall", "rung"):
                return None
            stage = rest.removeprefix("stages.")
            if stage != rest and stage in stages:
                return None
            return (
                f"unknown result path {path!r}; "
                "use result.overall, result.rung or result.stages.<stage_id>"
            )
        return f"unknown path {path!r}; paths start with profile., answers. or result."

    return check


def parse_condition(
    raw: object,
    path: str,
    known_paths: PathCheck,
    *,
    source: str = "<condition>",
    check_leaf: LeafCheck | None = None,
) -> Condition:
    """Parse and validate one condition; raise ``ConditionError`` listing every problem.

    ``path`` is where the condition sits in its file (for messages); ``known_paths`` decides
    which PATHs exist there; ``check_leaf`` may check a leaf's value against its path (for
    example that an ``answers.<id>`` value is one of that question's option ids).
    """
    reader = Reader(source)
    condition = _parse(raw, path, reader, known_paths, check_leaf)
    if reader.issues or condition is None:
        raise ConditionError(reader.issues)
    return condition


def _parse(
    raw: object, path: str, reader: Reader, known: PathCheck, check_leaf: LeafCheck | None
) -> Condition | None:
    if not isinstance(raw, dict):
        reader.error(path, f"a condition must be a mapping, got {describe(raw)}")
        return None
    if "all" in raw or "any" in raw:
        kind = "all" if "all" in raw else "any"
        data = reader.mapping(raw, path, required=(kind,))
        items = reader.sequence(raw[kind], key_path(path, kind))
        if data is None or items is None or len(raw) != 1:
            return None
        parts = [
            _parse(item, index_path(key_path(path, kind), i), reader, known, check_leaf)
            for i, item in enumerate(items)
        ]
        if any(part is None for part in parts):
            return None
        conditions = tuple(cast(list[Condition], parts))
        return All(conditions) if kind == "all" else Any(conditions)
    if "not" in raw:
        if reader.mapping(raw, path, required=("not",)) is None or len(raw) != 1:
            return None
        inner = _parse(raw["not"], key_path(path, "not"), reader, known, check_leaf)
        return None if inner is None else Not(inner)
    return _parse_leaf(raw, path, reader, known, check_leaf)


def _parse_leaf(
    raw: dict[object, object],
    path: str,
    reader: Reader,
    known: PathCheck,
    check_leaf: LeafCheck | None,
) -> Leaf | None:
    before = len(reader.issues)
    data = reader.mapping(raw, path, required=("field", "op", "value"), optional=("why",))
    if data is None or before != len(reader.issues):
        if "field" not in raw and "op" not in raw:
            reader.error(
                path,
                "a condition is {all: [...]}, {any: [...]}, {not: ...} or "
                "{field: PATH, op: OP, value: V}",
            )
        return None
    field_path = reader.string(data["field"], key_path(path, "field"))
    if field_path is not None:
        problem = known(field_path)
        if problem is not None:
            reader.error(key_path(path, "field"), problem)
            field_path = None
    op = data["op"]
    if op not in OPS:
        reader.error(key_path(path, "op"), f"unknown op {op!r}; use one of {', '.join(OPS)}")
        op = None
    value = _leaf_value(data["value"], cast(Op | None, op), key_path(path, "value"), reader)
    why = reader.text(data["why"], key_path(path, "why")) if "why" in data else None
    if field_path is None or op is None or value is _MISSING or ("why" in data and why is None):
        return None
    leaf = Leaf(field_path, cast(Op, op), value, why)
    if check_leaf is not None:
        problem = check_leaf(leaf)
        if problem is not None:
            reader.error(key_path(path, "value"), problem)
            return None
    return leaf


def _scalar(raw: object) -> object:
    """A scalar condition value (string, boolean or number as Decimal), else _MISSING."""
    if isinstance(raw, str | bool):
        return raw
    number = to_decimal(raw)
    return _MISSING if number is None else number


def _leaf_value(raw: object, op: Op | None, path: str, reader: Reader) -> object:
    if op in ("in", "not_in") or (op in ("eq", "ne") and isinstance(raw, list)):
        items = reader.sequence(raw, path)
        if items is None:
            return _MISSING
        values = [_scalar(item) for item in items]
        for i, (item, value) in enumerate(zip(items, values, strict=True)):
            if value is _MISSING:
                message = f"must be a string, number or boolean, got {describe(item)}"
                reader.error(index_path(path, i), message)
        return _MISSING if _MISSING in values else tuple(values)
    if op in _ORDERING:
        number = reader.number(raw, path)
        return _MISSING if number is None else number
    value = _scalar(raw)
    if value is _MISSING:
        reader.error(path, f"must be a string, number or boolean, got {describe(raw)}")
    return value
