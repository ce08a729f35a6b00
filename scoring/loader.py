"""Load and validate questionnaire YAML (design §4), collecting every problem.

Errors name the file, the path inside it (``stages[1].questions[3].options[0].level``) and
what is wrong. The content hash is the SHA-256 of the parsed document written as canonical
JSON (sorted keys, no whitespace, UTF-8), so comments, layout and key order do not change it
but any change of content does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from scoring._raw import (
    ID_PATTERN,
    SLUG_PATTERN,
    Reader,
    canonical_hash,
    describe,
    index_path,
    key_path,
    parse_yaml,
)
from scoring.conditions import (
    OPS,
    Condition,
    Leaf,
    parse_condition,
    path_checker,
)
from scoring.errors import ConditionError, LoadIssue, QuestionnaireLoadError
from scoring.ladder import MAX_LEVEL, MIN_LEVEL
from scoring.models import (
    MAX_EFFORT,
    NA,
    Band,
    Better,
    Kpi,
    Option,
    Question,
    Questionnaire,
    QuestionType,
    Requirement,
    Stage,
)

__all__ = ["load_questionnaire", "load_questionnaire_dir", "parse_questionnaire"]

_QUESTION_TYPES: tuple[QuestionType, ...] = ("single", "multi", "number")
_TOP_KEYS = ("id", "version", "title", "stages")
_STAGE_KEYS = ("id", "title", "questions")
_QUESTION_KEYS = ("id", "text", "type")
_QUESTION_OPTIONAL = (
    "help", "weight", "required", "allow_na", "applies_if", "options", "scoring", "bands",
    "unit", "min", "max", "refs",
)  # fmt: skip
_PLAN_KEYS = ("effort", "requires")
_KPI_KEYS = ("id", "text", "unit", "min", "max", "better")
_ORDERING_OPS = frozenset({"lt", "lte", "gt", "gte"})
assert _ORDERING_OPS <= set(OPS)


@dataclass
class _Context:
    reader: Reader
    positions: dict[str, int] = field(default_factory=dict)  # question id → served position
    question_paths: dict[str, str] = field(default_factory=dict)
    parsed: dict[str, Question] = field(default_factory=dict)
    position: int = 0
    #: (path of the ``requires`` entry, the question it sits on, the requirement)
    requirements: list[tuple[str, str, Requirement]] = field(default_factory=list)


def parse_questionnaire(text: str, source: str) -> Questionnaire:
    """Parse questionnaire YAML ``text``; ``source`` names it in errors (usually the file path).

    Raises ``QuestionnaireLoadError`` listing every problem found.
    """
    reader = Reader(source)
    raw, parsed = parse_yaml(text, reader)
    if not parsed:
        raise QuestionnaireLoadError(reader.issues)
    questionnaire = _questionnaire(raw, reader)
    if reader.issues or questionnaire is None:
        raise QuestionnaireLoadError(reader.issues)
    return questionnaire


def load_questionnaire(path: str | Path) -> Questionnaire:
    """Load and validate one questionnaire file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionnaireLoadError([LoadIssue(str(path), "", f"cannot read: {exc}")]) from exc
    return parse_questionnaire(text, str(path))


def load_questionnaire_dir(directory: str | Path) -> list[Questionnaire]:
    """Load every ``*.yaml``/``*.yml`` in ``directory`` (sorted by name).

    Raises one ``QuestionnaireLoadError`` with the problems of every file, including two files
    claiming the same (id, version).
    """
    issues: list[LoadIssue] = []
    loaded: list[Questionnaire] = []
    seen: dict[tuple[str, int], str] = {}
    files = sorted([*Path(directory).glob("*.yaml"), *Path(directory).glob("*.yml")])
    for file in files:
        try:
            questionnaire = load_questionnaire(file)
        except QuestionnaireLoadError as exc:
            issues.extend(exc.issues)
            continue
        key = (questionnaire.id, questionnaire.version)
        if key in seen:
            issues.append(
                LoadIssue(str(file), "id", f"{key[0]} v{key[1]} is also defined in {seen[key]}")
            )
        else:
            seen[key] = str(file)
            loaded.append(questionnaire)
    if issues:
        raise QuestionnaireLoadError(issues)
    return loaded


def _get(
    data: dict[str, Any], key: str, path: str, read: Callable[[object, str], Any], default: Any
) -> Any:
    return read(data[key], key_path(path, key)) if key in data else default


def _questionnaire(raw: object, reader: Reader) -> Questionnaire | None:
    data = reader.mapping(raw, "", required=_TOP_KEYS, optional=("description", "kpis"))
    if data is None:
        return None
    qid = _get(data, "id", "", lambda v, p: reader.string(v, p, pattern=SLUG_PATTERN), None)
    version = data.get("version")
    if "version" in data and (
        isinstance(version, bool) or not isinstance(version, int) or version < 1
    ):
        reader.error("version", f"must be a whole number ≥ 1, got {describe(version)}")
        version = None
    title = _get(data, "title", "", reader.text, None)
    description = _get(data, "description", "", reader.text, None)
    stages_raw = _get(data, "stages", "", reader.sequence, None) or []
    context = _Context(reader)
    _index_questions(stages_raw, context)
    stages: list[Stage | None] = []
    stage_paths: dict[str, str] = {}
    for i, stage_raw in enumerate(stages_raw):
        stages.append(_stage(stage_raw, index_path("stages", i), context, stage_paths))
    _check_requirements(context)
    kpis = _kpis(data["kpis"], context) if "kpis" in data else ()
    if reader.issues or qid is None or version is None or title is None or None in stages:
        return None
    return Questionnaire(
        id=qid,
        version=int(version),
        title=title,
        description=description,
        stages=tuple(cast(list[Stage], stages)),
        kpis=kpis,
        content_hash=canonical_hash(raw),
    )


def _index_questions(stages_raw: list[Any], context: _Context) -> None:
    """Record the served position of every question id, so applies_if can tell 'later' apart."""
    position = 0
    for stage_raw in stages_raw:
        questions = stage_raw.get("questions") if isinstance(stage_raw, dict) else None
        for question_raw in questions if isinstance(questions, list) else []:
            qid = question_raw.get("id") if isinstance(question_raw, dict) else None
            if isinstance(qid, str) and qid not in context.positions:
                context.positions[qid] = position
            position += 1


def _stage(raw: object, path: str, context: _Context, seen: dict[str, str]) -> Stage | None:
    reader = context.reader
    before = len(reader.issues)
    data = reader.mapping(raw, path, required=_STAGE_KEYS, optional=("weight", "description"))
    if data is None:
        return None
    sid = _get(data, "id", path, lambda v, p: reader.string(v, p, pattern=ID_PATTERN), None)
    if sid is not None:
        if sid in seen:
            reader.error(key_path(path, "id"), f"duplicate stage id {sid!r} (first at {seen[sid]})")
        seen.setdefault(sid, key_path(path, "id"))
    title = _get(data, "title", path, reader.text, None)
    description = _get(data, "description", path, reader.text, None)
    weight = _weight(data, path, reader, allow_zero=False)
    questions_raw = _get(data, "questions", path, reader.sequence, None) or []
    questions = [
        _question(item, index_path(key_path(path, "questions"), i), context, sid or "")
        for i, item in enumerate(questions_raw)
    ]
    if len(reader.issues) != before:
        return None
    return Stage(
        id=sid,
        title=title,
        description=description,
        weight=weight,
        questions=tuple(cast(list[Question], questions)),
    )


def _weight(data: dict[str, Any], path: str, reader: Reader, *, allow_zero: bool) -> Decimal:
    weight = _get(data, "weight", path, reader.number, Decimal(1))
    if weight is None:
        return Decimal(1)
    if weight < 0 or (weight == 0 and not allow_zero):
        bound = "≥ 0" if allow_zero else "> 0"
        reader.error(key_path(path, "weight"), f"must be {bound}, got {weight}")
    return cast(Decimal, weight)


def _level(raw: object, path: str, reader: Reader) -> Decimal | None:
    level = reader.number(raw, path)
    if level is not None and not MIN_LEVEL <= level <= MAX_LEVEL:
        reader.error(path, f"level {level} is outside [{MIN_LEVEL}, {MAX_LEVEL}]")
        return None
    return level


def _question(raw: object, path: str, context: _Context, stage_id: str) -> Question | None:
    reader = context.reader
    position = context.position
    context.position += 1
    before = len(reader.issues)
    data = reader.mapping(raw, path, required=_QUESTION_KEYS, optional=_QUESTION_OPTIONAL)
    if data is None:
        return None
    qid = _get(data, "id", path, lambda v, p: reader.string(v, p, pattern=ID_PATTERN), None)
    if qid is not None:
        first = context.question_paths.setdefault(qid, key_path(path, "id"))
        if first != key_path(path, "id"):
            reader.error(key_path(path, "id"), f"duplicate question id {qid!r} (first at {first})")
    qtype = data.get("type")
    if "type" in data and qtype not in _QUESTION_TYPES:
        reader.error(key_path(path, "type"), f"must be one of single, multi, number; got {qtype!r}")
        qtype = None
    weight = _weight(data, path, reader, allow_zero=True)
    fields: dict[str, Any] = {
        "text": _get(data, "text", path, reader.text, None),
        "help": _get(data, "help", path, reader.text, None),
        "required": _get(data, "required", path, reader.boolean, True),
        "allow_na": _get(data, "allow_na", path, reader.boolean, False),
        "refs": _refs(data, path, reader),
    }
    if qtype == "number":
        fields.update(_number_parts(data, path, reader, scored=weight > 0))
    elif qtype is not None:
        fields.update(_choice_parts(data, path, reader, qtype, scored=weight > 0))
    if "applies_if" in data:
        fields["applies_if"] = _applies_if(data["applies_if"], path, context, qid, position)
    if len(reader.issues) != before or qid is None or qtype is None:
        return None
    question = Question(id=qid, type=qtype, weight=weight, stage_id=stage_id, **fields)
    context.parsed[qid] = question
    _note_requirements(question, path, context)
    return question


def _refs(data: dict[str, Any], path: str, reader: Reader) -> tuple[str, ...]:
    items = _get(data, "refs", path, lambda v, p: reader.sequence(v, p), None) or []
    refs = [
        reader.string(item, index_path(key_path(path, "refs"), i)) for i, item in enumerate(items)
    ]
    return tuple(ref for ref in refs if ref is not None)


def _not_here(
    data: dict[str, Any], path: str, reader: Reader, keys: tuple[str, ...], why: str
) -> None:
    for key in keys:
        if key in data:
            reader.error(key_path(path, key), f"{key!r} is not used here: {why}")


def _number_parts(
    data: dict[str, Any], path: str, reader: Reader, *, scored: bool
) -> dict[str, Any]:
    _not_here(
        data, path, reader, ("options", "scoring"), "number questions take min, max and bands"
    )
    low = _get(data, "min", path, reader.number, None)
    high = _get(data, "max", path, reader.number, None)
    for key in ("min", "max"):
        if key not in data:
            reader.error(path, f"missing key {key!r}: a number question needs bounds (min and max)")
    if low is not None and high is not None and low >= high:
        reader.error(key_path(path, "max"), f"max ({high}) must be greater than min ({low})")
    bands: tuple[Band, ...] = ()
    if "bands" in data:
        bands = _bands(data["bands"], key_path(path, "bands"), reader, planned=scored)
        if bands and low is not None and bands[0].min > low:
            reader.error(
                key_path(path, "bands[0].min"),
                f"the first band starts at {bands[0].min}, above min ({low}): "
                "values in between would have no level",
            )
        if bands and high is not None and bands[-1].min > high:
            reader.error(
                key_path(path, f"bands[{len(bands) - 1}].min"),
                f"band starts at {bands[-1].min}, above max ({high}): it can never be reached",
            )
    elif scored:
        reader.error(path, "missing key 'bands': a scored number question needs bands")
    return {
        "min": low,
        "max": high,
        "bands": bands,
        "unit": _get(data, "unit", path, reader.text, None),
    }


def _bands(raw: object, path: str, reader: Reader, *, planned: bool) -> tuple[Band, ...]:
    items = reader.sequence(raw, path)
    bands: list[Band] = []
    for i, item in enumerate(items or []):
        band_path = index_path(path, i)
        data = reader.mapping(item, band_path, required=("min", "level"), optional=_PLAN_KEYS)
        if data is None or "min" not in data or "level" not in data:
            continue
        plan = _plan_parts(data, band_path, reader, planned=planned)
        low = reader.number(data["min"], key_path(band_path, "min"))
        level = _level(data["level"], key_path(band_path, "level"), reader)
        if low is None or level is None:
            continue
        if bands and low <= bands[-1].min:
            reader.error(
                key_path(band_path, "min"),
                f"bands must ascend by min: {low} does not come after {bands[-1].min}",
            )
            continue
        bands.append(Band(low, level, **plan))
    return tuple(bands)


def _choice_parts(
    data: dict[str, Any], path: str, reader: Reader, qtype: str, *, scored: bool
) -> dict[str, Any]:
    _not_here(data, path, reader, ("unit", "min", "max"), "only number questions take them")
    scoring = None
    if qtype == "single":
        _not_here(data, path, reader, ("scoring",), "only multi questions take a scoring rule")
    else:
        scoring = data.get("scoring", "max")
        if scoring not in ("max", "count"):
            reader.error(key_path(path, "scoring"), f"must be max or count, got {scoring!r}")
            scoring = None
    counting = scoring == "count"
    if not counting:
        why = "bands belong to number questions and multi questions with scoring: count"
        _not_here(data, path, reader, ("bands",), why)
    options = _options(
        data, path, reader, qtype, need_level=scored and not counting, counting=counting
    )
    bands: tuple[Band, ...] = ()
    if counting:
        for i, option in enumerate(options):
            if option.level is not None:
                reader.error(
                    key_path(path, f"options[{i}].level"),
                    "scoring: count uses bands over how many are chosen, not option levels",
                )
        if "bands" not in data:
            reader.error(
                path, "missing key 'bands': a multi question with scoring: count needs bands"
            )
        else:
            bands = _count_bands(
                data["bands"], key_path(path, "bands"), reader, options, planned=scored
            )
    return {"options": options, "scoring": scoring, "bands": bands}


def _count_bands(
    raw: object, path: str, reader: Reader, options: tuple[Option, ...], *, planned: bool
) -> tuple[Band, ...]:
    bands = _bands(raw, path, reader, planned=planned)
    countable = sum(1 for option in options if not option.exclusive)
    for i, band in enumerate(bands):
        if band.min != int(band.min):
            reader.error(
                index_path(path, i) + ".min",
                f"a count band starts at a whole number, got {band.min}",
            )
    if bands and bands[0].min != 0:
        reader.error(f"{path}[0].min", "the first count band must start at 0")
    if bands and options and bands[-1].min > countable:
        reader.error(
            index_path(path, len(bands) - 1) + ".min",
            f"needs {bands[-1].min} options chosen but only {countable} can be",
        )
    return bands


def _options(
    data: dict[str, Any], path: str, reader: Reader, qtype: str, *, need_level: bool, counting: bool
) -> tuple[Option, ...]:
    if "options" not in data:
        reader.error(path, f"missing key 'options': a {qtype} question needs options")
        return ()
    items = reader.sequence(data["options"], key_path(path, "options")) or []
    if qtype == "single" and len(items) == 1:
        reader.error(key_path(path, "options"), "a single question needs at least two options")
    options: list[Option] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        option_path = index_path(key_path(path, "options"), i)
        option_data = reader.mapping(
            item, option_path, required=("id", "text"), optional=("level", "exclusive", *_PLAN_KEYS)
        )
        if option_data is None:
            continue
        oid = _get(
            option_data,
            "id",
            option_path,
            lambda v, p: reader.string(v, p, pattern=ID_PATTERN),
            None,
        )
        if oid is not None and oid in seen:
            reader.error(key_path(option_path, "id"), f"duplicate option id {oid!r}")
        text = _get(option_data, "text", option_path, reader.text, None)
        level = _get(option_data, "level", option_path, lambda v, p: _level(v, p, reader), None)
        if need_level and "level" not in option_data:
            reader.error(option_path, "missing key 'level'")
        exclusive = _get(option_data, "exclusive", option_path, reader.boolean, False)
        if "exclusive" in option_data and qtype != "multi":
            reader.error(
                key_path(option_path, "exclusive"), "only multi questions have exclusive options"
            )
        if counting:
            _not_here(
                option_data,
                option_path,
                reader,
                _PLAN_KEYS,
                "under scoring: count they go on bands",
            )
            plan: dict[str, Any] = {}
        else:
            planned = need_level and not exclusive
            plan = _plan_parts(option_data, option_path, reader, planned=planned)
        if oid is None or text is None:
            continue
        seen.add(oid)
        options.append(Option(id=oid, text=text, level=level, exclusive=bool(exclusive), **plan))
    return tuple(options)


def _applies_if(
    raw: object, path: str, context: _Context, qid: str | None, position: int
) -> Condition | None:
    base = path_checker(allow_result=False)
    here = key_path(path, "applies_if")

    def known(field_path: str) -> str | None:
        head, _, rest = field_path.partition(".")
        if head == "answers":
            if rest == qid:
                return "applies_if cannot depend on the question's own answer"
            if rest not in context.positions:
                return f"no question {rest!r}"
            if context.positions[rest] > position:
                return (
                    f"question {rest!r} comes later; applies_if may only name an earlier question"
                )
            return None
        if head == "result":
            return "result.* cannot be used in applies_if: the result depends on the answers"
        return base(field_path)

    def check_leaf(leaf: Leaf) -> str | None:
        head, _, rest = leaf.field.partition(".")
        target = context.parsed.get(rest) if head == "answers" else None
        if target is None:
            return None
        return _check_answer_leaf(leaf, target)

    try:
        return parse_condition(
            raw, here, known, source=context.reader.source, check_leaf=check_leaf
        )
    except ConditionError as exc:
        context.reader.issues.extend(exc.issues)
        return None


def _check_answer_leaf(leaf: Leaf, target: Question) -> str | None:
    value = leaf.value
    values = cast(tuple[object, ...], value if isinstance(value, tuple) else (value,))
    if target.type == "number":
        if leaf.op == "contains":
            return f"contains needs a multi question; {target.id!r} is a number question"
        if any(not isinstance(value, Decimal) and value != NA for value in values):
            return f"{target.id!r} is a number question: compare it with numbers"
        return None
    if leaf.op in _ORDERING_OPS:
        return f"{leaf.op} needs a number question; {target.id!r} is a {target.type} question"
    if leaf.op == "contains" and target.type != "multi":
        return f"contains needs a multi question; {target.id!r} is a single question"
    unknown = [
        value for value in values
        if not isinstance(value, str) or (target.option(value) is None and value != NA)
    ]  # fmt: skip
    if unknown:
        choices = ", ".join(option.id for option in target.options)
        return f"{', '.join(map(repr, unknown))} is not an option of {target.id!r} ({choices})"
    return None


# --- plans: effort, requires, kpis -------------------------------------------------------------


def _plan_parts(
    data: dict[str, Any], path: str, reader: Reader, *, planned: bool
) -> dict[str, Any]:
    """``effort`` and ``requires`` of an option or band (only where a firm can climb to it)."""
    if not planned:
        why = "only a scored, non-exclusive option or band can be planned for"
        _not_here(data, path, reader, _PLAN_KEYS, why)
        return {}
    parts: dict[str, Any] = {}
    if "effort" in data:
        effort = data["effort"]
        if isinstance(effort, bool) or not isinstance(effort, int) or not 1 <= effort <= MAX_EFFORT:
            reader.error(
                key_path(path, "effort"),
                f"must be a whole number from 1 to {MAX_EFFORT}, got {describe(effort)}",
            )
        else:
            parts["effort"] = effort
    if "requires" in data:
        parts["requires"] = _requires(data["requires"], key_path(path, "requires"), reader)
    return parts


def _requires(raw: object, path: str, reader: Reader) -> tuple[Requirement, ...]:
    found: list[Requirement] = []
    for i, item in enumerate(reader.sequence(raw, path) or []):
        item_path = index_path(path, i)
        data = reader.mapping(item, item_path, required=("question", "min_level"))
        if data is None or "question" not in data or "min_level" not in data:
            continue
        target = reader.string(
            data["question"], key_path(item_path, "question"), pattern=ID_PATTERN
        )
        level = _level(data["min_level"], key_path(item_path, "min_level"), reader)
        if target is not None and level is not None:
            found.append(Requirement(target, level))
    return tuple(found)


def _note_requirements(question: Question, path: str, context: _Context) -> None:
    """Queue each requirement for checking once every question is parsed."""
    if question.type == "number" or question.scoring == "count":
        where = [(f"bands[{i}]", band.requires) for i, band in enumerate(question.bands)]
    else:
        where = [(f"options[{i}]", option.requires) for i, option in enumerate(question.options)]
    for place, requirements in where:
        for j, requirement in enumerate(requirements):
            item_path = index_path(key_path(key_path(path, place), "requires"), j)
            context.requirements.append((item_path, question.id, requirement))


def _top_level(question: Question) -> Decimal | None:
    levels = [p.level for p in question.positions() if p.level is not None]
    return max(levels) if levels else None


def _check_requirements(context: _Context) -> None:
    """Each ``requires`` names a scored question that can reach the level; no cycles.

    The graph has an edge from a question to every question one of its options or bands
    requires; a cycle (a question requiring itself included) would make a plan impossible.
    """
    reader = context.reader
    edges: dict[str, set[str]] = {}
    for path, owner, requirement in context.requirements:
        target = requirement.question
        where = key_path(path, "question")
        if target not in context.positions:
            reader.error(where, f"no question {target!r}")
            continue
        question = context.parsed.get(target)
        if question is None:
            continue  # its own problems are reported already
        top = _top_level(question)
        if not question.scored or top is None:
            reader.error(where, f"question {target!r} is not scored: it has no level to require")
            continue
        if requirement.min_level > top:
            reader.error(
                key_path(path, "min_level"),
                f"{requirement.min_level} is above the highest level of {target!r} ({top})",
            )
            continue
        edges.setdefault(owner, set()).add(target)
    cycle = _find_cycle(edges)
    if cycle:
        first = next(p for p, owner, _ in context.requirements if owner == cycle[0])
        reader.error(first, f"requires form a cycle: {' → '.join(cycle)}")


def _find_cycle(edges: dict[str, set[str]]) -> list[str]:
    """One cycle in the graph as ``[a, b, …, a]``, or [] (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    for start in sorted(edges):
        if start in state:
            continue
        path = [start]
        stack = [iter(sorted(edges.get(start, ())))]
        state[start] = 1
        while stack:
            node = next(stack[-1], None)
            if node is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(node) == 1:
                return [*path[path.index(node) :], node]
            elif node not in state:
                state[node] = 1
                path.append(node)
                stack.append(iter(sorted(edges.get(node, ()))))
    return []


def _kpis(raw: object, context: _Context) -> tuple[Kpi, ...]:
    """The unscored baseline KPI block: ids unique and apart from question ids, min < max."""
    reader = context.reader
    kpis: list[Kpi] = []
    seen: set[str] = set()
    for i, item in enumerate(reader.sequence(raw, "kpis") or []):
        path = index_path("kpis", i)
        data = reader.mapping(item, path, required=_KPI_KEYS, optional=("refs",))
        if data is None:
            continue
        before = len(reader.issues)
        kid = _get(data, "id", path, lambda v, p: reader.string(v, p, pattern=ID_PATTERN), None)
        if kid is not None and kid in seen:
            reader.error(key_path(path, "id"), f"duplicate KPI id {kid!r}")
        elif kid is not None and kid in context.positions:
            reader.error(key_path(path, "id"), f"{kid!r} is already a question id")
        low = _get(data, "min", path, reader.number, None)
        high = _get(data, "max", path, reader.number, None)
        if low is not None and high is not None and low >= high:
            reader.error(key_path(path, "max"), f"max ({high}) must be greater than min ({low})")
        better = cast(Better, data.get("better"))
        if "better" in data and better not in ("higher", "lower"):
            reader.error(key_path(path, "better"), f"must be higher or lower, got {better!r}")
        text = _get(data, "text", path, reader.text, None)
        unit = _get(data, "unit", path, reader.text, None)
        refs = _refs(data, path, reader)
        if len(reader.issues) != before or None in (kid, text, unit, low, high):
            continue
        seen.add(kid)
        kpis.append(Kpi(id=kid, text=text, unit=unit, min=low, max=high, better=better, refs=refs))
    return tuple(kpis)
