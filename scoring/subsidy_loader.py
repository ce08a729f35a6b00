"""Load and validate subsidy programme YAML (format 2, docs/subsidies.md), collecting every problem.

One programme a file; the file name (without ``.yaml``) must equal the programme id. Errors
name the file, the path inside it (``eligibility.all[2].value``, ``benefit.rate.confidence``)
and what is wrong: unknown or missing keys, bad enums, a region that does not fit the level,
dates that are no calendar dates or a validity that does not say when the programme ends, a
source without 文号 or title, numeric parameters without their own confidence, scope values that
are not size classes / divisions / districts, stacking rules without their source, and
conditions with unknown paths or values of the wrong type. ``load_subsidies`` also checks what
spans files: duplicate ids and stacking references to programmes that are not loaded.

``answers.<question_id>`` leaves and ``funds.questions`` are checked against ``questions`` when
given (else any well-formed id is accepted); ``result.stages.<stage_id>`` and ``funds.stages``
against ``stages``. Format 1 files (before issue 15) are not read: the stored matches made from
them are JSON and render without the catalogue.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from scoring._raw import ID_PATTERN, SLUG_PATTERN, Reader, canonical_hash, describe, parse_yaml
from scoring.conditions import (
    PROFILE_FIELDS,
    Condition,
    Leaf,
    PathCheck,
    parse_condition,
    path_checker,
)
from scoring.errors import ConditionError, LoadError, LoadIssue
from scoring.facts import FACT_NAMES, FACTS_BY_NAME
from scoring.ladder import MAX_LEVEL, MIN_LEVEL
from scoring.models import Text
from scoring.subsidies import (
    CONFIDENCES,
    KINDS,
    LEVELS,
    NATIONAL_REGION,
    RECOMMENDATIONS,
    SHANGHAI_DISTRICTS,
    SHANGHAI_REGION,
    SIZE_CLASSES,
    STAGE_NAMES,
    UNKNOWN,
    Benefit,
    Confidence,
    ConfirmItem,
    Funding,
    Kind,
    Level,
    Param,
    Programme,
    Scope,
    Source,
    Stacking,
    Validity,
    ValidityStatus,
)

__all__ = [
    "FORMAT",
    "STANDARD_STAGES",
    "SubsidyLoadError",
    "load_programme",
    "load_subsidies",
    "parse_programme",
]

#: The programme file format this loader reads.
FORMAT = 2
#: Stage ids ``result.stages.<id>`` and ``funds.stages`` may name by default.
STANDARD_STAGES: tuple[str, ...] = tuple(STAGE_NAMES)
INDUSTRY_CODES: tuple[str, ...] = tuple(str(code) for code in range(13, 44))
#: Ids the matcher gives its own to-confirm notes.
RESERVED_CONFIRM_IDS = frozenset(
    {"in_force", "still_in_force", "application_window", "unverified_source"}
)
#: A tax deduction may exceed 100 % (the 120 % R&D super-deduction); other rates are shares.
MAX_TAX_RATE = Decimal(5)

_TOP_REQUIRED = (
    "format", "id", "name", "issuer", "level", "region", "kind", "summary", "benefit", "source",
    "confidence",
)  # fmt: skip
_TOP_OPTIONAL = (
    "valid_from", "valid_until", "status", "last_confirmed", "scope", "eligibility",
    "to_confirm", "stacking", "funds", "recommendations", "notes",
)  # fmt: skip
_BENEFIT_KEYS = ("rate", "basis", "years", "cap_cny", "amount_cny", "note")
_SOURCE_KEYS = ("title", "number", "description", "url", "also")
_SCOPE_KEYS = (
    "size_classes", "above_designated_size", "industries", "industries_excluded", "districts",
    "listed", "min_age_years", "max_age_years", "source",
)  # fmt: skip
_STATUSES = ("ongoing", "annual", "unconfirmed")
#: Why only a rate may carry ``up_to`` (a ceiling), per other parameter.
_NOT_A_CEILING = {
    "cap_cny": "only a rate can be a ceiling (up_to): a cap_cny is one already",
    "amount_cny": "only a rate can be a ceiling (up_to): for an amount of at most X give cap_cny",
    "years": "only a rate can be a ceiling (up_to): years counts the years it is paid",
}
_ORDERING = frozenset({"lt", "lte", "gt", "gte"})


class SubsidyLoadError(LoadError):
    """A subsidy programme file (or a set of them) failed validation; ``issues`` lists all."""


def parse_programme(
    text: str,
    source: str,
    *,
    questions: Collection[str] | None = None,
    stages: Collection[str] = STANDARD_STAGES,
) -> Programme:
    """Parse one programme from YAML ``text``; ``source`` names it in errors.

    Raises ``SubsidyLoadError`` listing every problem found.
    """
    reader = Reader(source)
    raw, parsed = parse_yaml(text, reader)
    if not parsed:
        raise SubsidyLoadError(reader.issues)
    programme = _programme(raw, reader, _Context(questions, stages))
    if reader.issues or programme is None:
        raise SubsidyLoadError(reader.issues)
    return programme


def load_programme(
    path: str | Path,
    *,
    questions: Collection[str] | None = None,
    stages: Collection[str] = STANDARD_STAGES,
) -> Programme:
    """Load and validate one programme file; its id must equal the file name's stem."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SubsidyLoadError([LoadIssue(str(path), "", f"cannot read: {exc}")]) from exc
    programme = parse_programme(text, str(path), questions=questions, stages=stages)
    if programme.id != file.stem:
        raise SubsidyLoadError(
            [
                LoadIssue(
                    str(path), "id", f"id {programme.id!r} must equal the file name {file.stem!r}"
                )
            ]
        )
    return programme


def _files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        item = Path(path)
        if item.is_dir():
            files.extend(sorted([*item.glob("*.yaml"), *item.glob("*.yml")]))
        else:
            files.append(item)
    return files


def load_subsidies(
    paths: str | Path | Iterable[str | Path],
    *,
    questions: Collection[str] | None = None,
    stages: Collection[str] = STANDARD_STAGES,
) -> list[Programme]:
    """Load programme files and directories (every ``*.yaml``/``*.yml`` in a directory).

    Raises one ``SubsidyLoadError`` with the problems of every file, including two files
    with the same id and a ``stacking.excludes`` naming a programme that was not loaded.
    Returns the programmes sorted by id.
    """
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    issues: list[LoadIssue] = []
    loaded: dict[str, Programme] = {}
    seen: dict[str, str] = {}
    for file in _files(items):
        try:
            programme = load_programme(file, questions=questions, stages=stages)
        except SubsidyLoadError as exc:
            issues.extend(exc.issues)
            continue
        if programme.id in seen:
            issues.append(
                LoadIssue(
                    str(file), "id", f"{programme.id!r} is also defined in {seen[programme.id]}"
                )
            )
            continue
        seen[programme.id] = str(file)
        loaded[programme.id] = programme
    for pid, programme in loaded.items():
        excludes = () if programme.stacking is None else programme.stacking.excludes
        for i, other in enumerate(excludes):
            if other not in loaded:
                issues.append(
                    LoadIssue(
                        seen[pid],
                        f"stacking.excludes[{i}]",
                        f"no programme {other!r} among the files loaded",
                    )
                )
    if issues:
        raise SubsidyLoadError(issues)
    return [loaded[key] for key in sorted(loaded)]


# --- paths and leaves -----------------------------------------------------------------------


class _Context:
    """What a file is checked against: the question and stage ids that exist."""

    def __init__(self, questions: Collection[str] | None, stages: Collection[str]) -> None:
        self.questions = questions
        self.stages = stages
        base = path_checker(
            questions=questions or (), stages=stages, profile_fields=PROFILE_FIELDS | FACT_NAMES
        )

        def known(path: str) -> str | None:
            head, _, rest = path.partition(".")
            if head == "answers" and questions is None:
                return None if ID_PATTERN.match(rest) else f"{rest!r} is not a valid question id"
            return base(path)

        def declared(path: str) -> str | None:
            if not path.startswith("profile."):
                return "an unless condition reads declared facts: use profile.<field>"
            return base(path)

        self.known: PathCheck = known
        self.declared: PathCheck = declared


def _is_number(value: object) -> bool:
    return isinstance(value, Decimal)


def _check_leaf(leaf: Leaf) -> str | None:
    """Does the leaf's value fit its path? (Types, enums and level ranges.)"""
    values = cast(tuple[object, ...], leaf.value if leaf.op in ("in", "not_in") else (leaf.value,))
    head, _, rest = leaf.field.partition(".")
    if head == "result":
        if leaf.op not in ("gte", "gt"):
            return "a result.* condition states a level to reach: use gte or gt"
        level = cast(Decimal, leaf.value)
        if not MIN_LEVEL <= level <= MAX_LEVEL:
            return f"{leaf.field} is a level: compare it with numbers in [{MIN_LEVEL}, {MAX_LEVEL}]"
        return None
    if head != "profile":
        return None  # answers.*: checked against a questionnaire by its own loader
    return _check_profile_leaf(leaf, rest, values)


def _check_profile_leaf(leaf: Leaf, name: str, values: tuple[object, ...]) -> str | None:
    if leaf.op == "contains":
        return f"contains needs a list; profile.{name} is a single value"
    numeric = name in ("employees", "annual_revenue_cny") or (
        name in FACTS_BY_NAME and FACTS_BY_NAME[name].type in ("money", "integer", "percent")
    )
    if numeric:
        if not all(_is_number(value) for value in values):
            return f"profile.{name} is a number: compare it with numbers"
        return None
    if leaf.op in _ORDERING:
        return f"{leaf.op} needs a number; profile.{name} is not one"
    if name == "above_designated_size" or (
        name in FACTS_BY_NAME and FACTS_BY_NAME[name].type == "boolean"
    ):
        if not all(isinstance(value, bool) for value in values):
            return f"profile.{name} is true or false"
        return None
    allowed: Collection[str]
    if name == "district_code":
        allowed = SHANGHAI_DISTRICTS
    elif name == "size_class":
        allowed = SIZE_CLASSES
    elif name == "industry_code":
        allowed = INDUSTRY_CODES
    else:
        allowed = [choice.id for choice in FACTS_BY_NAME[name].choices]
    unknown = [value for value in values if value not in allowed]
    if unknown:
        return (
            f"{', '.join(map(repr, unknown))} is not a valid value of profile.{name}; "
            f"use {', '.join(allowed)}"
        )
    return None


# --- the document ---------------------------------------------------------------------------


def _programme(raw: object, reader: Reader, context: _Context) -> Programme | None:
    before = len(reader.issues)
    data = reader.mapping(raw, "", required=_TOP_REQUIRED, optional=_TOP_OPTIONAL)
    if data is None:
        return None
    _format(data, reader)
    pid = reader.string(data["id"], "id", pattern=SLUG_PATTERN) if "id" in data else None
    texts = {
        key: reader.text(data[key], key) for key in ("name", "issuer", "summary") if key in data
    }
    level = _enum(data, "level", LEVELS, reader)
    kind = _enum(data, "kind", KINDS, reader)
    confidence = _enum(data, "confidence", CONFIDENCES, reader)
    region = _region(data, level, reader)
    benefit = (
        _benefit(data["benefit"], cast(Kind | None, kind), reader) if "benefit" in data else None
    )
    validity = _validity(data, reader)
    source = (
        _source(data["source"], "source", reader, unconfirmed=_unconfirmed(data))
        if "source" in data
        else None
    )
    scope = _scope(data["scope"], reader) if "scope" in data else Scope()
    eligibility = _condition(data, "eligibility", reader, context.known, _check_leaf)
    to_confirm = _to_confirm(data, reader, context)
    stacking = _stacking(data["stacking"], pid, reader) if "stacking" in data else None
    funds = _funds(data["funds"], reader, context) if "funds" in data else Funding()
    recommendations = _recommendations(data, reader)
    notes = reader.text(data["notes"], "notes") if "notes" in data else None
    if len(reader.issues) != before:
        return None
    return Programme(
        id=cast(str, pid),
        name=cast(Text, texts["name"]),
        issuer=cast(Text, texts["issuer"]),
        summary=cast(Text, texts["summary"]),
        level=cast(Level, level),
        region=cast(str, region),
        kind=cast(Kind, kind),
        confidence=cast(Confidence, confidence),
        benefit=cast(Benefit, benefit),
        source=cast(Source, source),
        validity=cast(Validity, validity),
        scope=scope,
        eligibility=eligibility,
        to_confirm=to_confirm,
        stacking=stacking,
        funds=funds,
        recommendations=recommendations,
        notes=notes,
        content_hash=canonical_hash(raw),
    )


def _format(data: dict[str, Any], reader: Reader) -> None:
    if "format" in data and (isinstance(data["format"], bool) or data["format"] != FORMAT):
        reader.error(
            "format",
            f"this loader reads format {FORMAT} (see docs/subsidies.md), "
            f"got {describe(data['format'])}",
        )


def _enum(data: dict[str, Any], key: str, allowed: tuple[str, ...], reader: Reader) -> str | None:
    if key not in data:
        return None
    value = data[key]
    if value not in allowed:
        reader.error(key, f"must be one of {', '.join(allowed)}; got {describe(value)}")
        return None
    return cast(str, value)


def _region(data: dict[str, Any], level: str | None, reader: Reader) -> str | None:
    if "region" not in data:
        return None
    region = data["region"]
    if not isinstance(region, str):
        reader.error(
            "region", f'must be a quoted GB/T 2260 code such as "310117", got {describe(region)}'
        )
        return None
    expected = {
        "national": ((NATIONAL_REGION,), f'"{NATIONAL_REGION}" (the whole country)'),
        "municipal": ((SHANGHAI_REGION,), f'"{SHANGHAI_REGION}" (Shanghai)'),
        "district": (tuple(SHANGHAI_DISTRICTS), 'a Shanghai district code such as "310117"'),
    }
    if level in expected:
        codes, what = expected[level]
        if region not in codes:
            reader.error("region", f"a {level} programme's region is {what}, got {region!r}")
            return None
    return region


def _date(data: dict[str, Any], key: str, reader: Reader) -> date | None:
    if key not in data:
        return None
    value = data[key]
    if isinstance(value, datetime):
        reader.error(key, f"must be a date (YYYY-MM-DD) without a time, got {value.isoformat()}")
        return None
    if isinstance(value, date):
        return value
    reader.error(
        key,
        "must be a real calendar date written YYYY-MM-DD (leave the key out when unknown), "
        f"got {describe(value)}",
    )
    return None


def _unconfirmed(data: dict[str, Any]) -> bool:
    return data.get("status") == "unconfirmed"


def _validity(data: dict[str, Any], reader: Reader) -> Validity | None:
    """``valid_until`` (dated), ``status: ongoing``, ``status: annual`` or ``status:
    unconfirmed``; a ``last_confirmed`` date except for an unconfirmed programme."""
    before = len(reader.issues)
    status = data.get("status")
    if "status" in data and status not in _STATUSES:
        reader.error(
            "status",
            f"must be ongoing, annual or unconfirmed (leave it out for a dated programme), "
            f"got {describe(status)}",
        )
        return None
    valid_from = _date(data, "valid_from", reader)
    valid_until = _date(data, "valid_until", reader)
    last_confirmed = _date(data, "last_confirmed", reader)
    if status is None and "valid_until" not in data:
        reader.error(
            "",
            "say when the programme ends: valid_until, or status: ongoing with last_confirmed "
            "(no end date in the source), or status: annual with last_confirmed (no end date, "
            "and each year's notice opens the application window), or status: unconfirmed "
            "(validity cannot be established)",
        )
    if status is not None and "valid_until" in data:
        reader.error("valid_until", f"a programme with status {status} has no valid_until")
    if status != "unconfirmed" and "last_confirmed" not in data:
        reader.error(
            "",
            "missing key 'last_confirmed': the newest date a cited source shows it in force",
        )
    if valid_from is not None and valid_until is not None and valid_until < valid_from:
        reader.error("valid_until", f"{valid_until} is before valid_from ({valid_from})")
    if len(reader.issues) != before:
        return None
    return Validity(
        status=cast(ValidityStatus, status or "dated"),
        valid_from=valid_from,
        valid_until=valid_until,
        last_confirmed=last_confirmed,
    )


def _unique(
    data: dict[str, Any],
    key: str,
    path: str,
    reader: Reader,
    problem: Callable[[object], str | None],
) -> tuple[str, ...]:
    """The list ``data[key]`` (empty when absent): each item checked by ``problem`` (None when
    it is fine), an item listed twice reported once."""
    if key not in data:
        return ()
    result: list[str] = []
    for i, item in enumerate(reader.sequence(data[key], path) or []):
        message = problem(item)
        if message is not None:
            reader.error(f"{path}[{i}]", message)
        elif item in result:
            reader.error(f"{path}[{i}]", f"{item!r} is listed twice")
        else:
            result.append(cast(str, item))
    return tuple(result)


def _one_of(allowed: Collection[str], what: str) -> Callable[[object], str | None]:
    def problem(item: object) -> str | None:
        return None if item in allowed else f"must be {what}, got {describe(item)}"

    return problem


def _recommendations(data: dict[str, Any], reader: Reader) -> tuple[str, ...]:
    return _unique(
        data,
        "recommendations",
        "recommendations",
        reader,
        _one_of(RECOMMENDATIONS, "one of R1 … R10"),
    )


def _condition(
    data: dict[str, Any],
    key: str,
    reader: Reader,
    known: PathCheck,
    check_leaf: Any = None,
    path: str | None = None,
) -> Condition | None:
    if key not in data:
        return None
    try:
        return parse_condition(
            data[key], path or key, known, source=reader.source, check_leaf=check_leaf
        )
    except ConditionError as exc:
        reader.issues.extend(exc.issues)
        return None


def _source(
    raw: object, path: str, reader: Reader, *, unconfirmed: bool, nested: bool = False
) -> Source | None:
    before = len(reader.issues)
    optional = _SOURCE_KEYS if not nested else _SOURCE_KEYS[:-1]
    data = reader.mapping(raw, path, required=("issued_by", "year"), optional=optional)
    if data is None:
        return None
    issued_by = (
        reader.string(data["issued_by"], f"{path}.issued_by") if "issued_by" in data else None
    )
    title = reader.string(data["title"], f"{path}.title") if "title" in data else None
    number = reader.string(data["number"], f"{path}.number") if "number" in data else None
    if title is not None and title.startswith("《"):
        reader.error(f"{path}.title", "write the title without 《》: they are added when citing")
    description = (
        reader.string(data["description"], f"{path}.description") if "description" in data else None
    )
    if "title" in data or "number" in data:
        if "description" in data:
            reader.error(f"{path}.description", "a document with a number or title needs none")
    elif "description" not in data:
        reader.error(path, "give the document's number (文号) or its exact title, or both")
    elif "url" not in data and not unconfirmed:
        reader.error(
            f"{path}.description",
            "a document known only by a description needs its official url, or the "
            "programme's status is unconfirmed",
        )
    year = data.get("year")
    if year is None and "year" in data and not unconfirmed:
        reader.error(
            f"{path}.year", "the year is required unless the programme's status is unconfirmed"
        )
    elif year is not None and (
        isinstance(year, bool) or not isinstance(year, int) or not 1949 <= year <= 2100
    ):
        reader.error(f"{path}.year", f"must be a year such as 2024, got {describe(year)}")
    url = reader.string(data["url"], f"{path}.url") if "url" in data else None
    if url is not None and not url.startswith(("https://", "http://")):
        reader.error(f"{path}.url", f"must start with https:// or http://, got {url!r}")
    also: list[Source] = []
    if "also" in data:
        items = reader.sequence(data["also"], f"{path}.also") or []
        for i, item in enumerate(items):
            entry = _source(item, f"{path}.also[{i}]", reader, unconfirmed=True, nested=True)
            if entry is not None:
                also.append(entry)
    if len(reader.issues) != before:
        return None
    return Source(
        issued_by=cast(str, issued_by),
        title=title,
        number=number,
        description=description,
        year=cast(int | None, year),
        url=url,
        also=tuple(also),
    )


def _param(
    data: dict[str, Any], key: str, reader: Reader, *, unknown_ok: bool
) -> Param | str | None | bool:
    """A ``{value, confidence}`` parameter (a rate may add ``up_to: true``: the source gives it
    as a ceiling), UNKNOWN (when allowed) or None (absent); False when invalid."""
    if key not in data:
        return None
    raw = data[key]
    path = f"benefit.{key}"
    if unknown_ok and raw == UNKNOWN:
        return UNKNOWN
    if not isinstance(raw, dict):
        hint = " (or unknown)" if unknown_ok else ""
        reader.error(
            path,
            "give the value with its own confidence: {value: …, confidence: verified | "
            f"secondary | unverified}}{hint}; got {describe(raw)}",
        )
        return False
    entry = reader.mapping(raw, path, required=("value", "confidence"), optional=("up_to",))
    if entry is None or "value" not in entry or "confidence" not in entry:
        return False
    up_to = False
    if "up_to" in entry:
        if key in _NOT_A_CEILING:
            reader.error(f"{path}.up_to", _NOT_A_CEILING[key])
            return False
        flag = reader.boolean(entry["up_to"], f"{path}.up_to")
        if flag is None:
            return False
        up_to = flag
    value = entry["value"]
    number = None if isinstance(value, str) else reader.number(value, f"{path}.value")
    if isinstance(value, str):
        reader.error(f"{path}.value", f"must be a number, got {describe(value)}")
    confidence = entry["confidence"]
    if confidence not in CONFIDENCES:
        reader.error(
            f"{path}.confidence",
            f"must be one of {', '.join(CONFIDENCES)}; got {describe(confidence)}",
        )
        return False
    if number is None:
        return False
    if number <= 0:
        reader.error(f"{path}.value", f"must be > 0, got {number}")
        return False
    return Param(number, cast(Confidence, confidence), up_to)


def _benefit(raw: object, kind: Kind | None, reader: Reader) -> Benefit | None:
    before = len(reader.issues)
    data = reader.mapping(raw, "benefit", required=(), optional=_BENEFIT_KEYS)
    if data is None:
        return None
    rate = _param(data, "rate", reader, unknown_ok=True)
    if isinstance(rate, Param):
        limit = MAX_TAX_RATE if kind == "tax_deduction" else Decimal(1)
        if rate.value > limit:
            reader.error(
                "benefit.rate.value",
                f"is a share between 0 and 1 (10% is 0.10), got {rate.value}"
                if limit == 1
                else f"must be at most {limit}, got {rate.value}",
            )
    cap = _param(data, "cap_cny", reader, unknown_ok=True)
    amount = _param(data, "amount_cny", reader, unknown_ok=False)
    years = _param(data, "years", reader, unknown_ok=False)
    if isinstance(years, Param) and years.value != years.value.to_integral_value():
        reader.error("benefit.years.value", f"must be a whole number, got {years.value}")
    basis = data.get("basis")
    if "basis" in data:
        fact = FACTS_BY_NAME.get(basis) if isinstance(basis, str) else None
        if fact is None or fact.type != "money":
            money = ", ".join(name for name, f in FACTS_BY_NAME.items() if f.type == "money")
            reader.error(
                "benefit.basis", f"must name a money fact ({money}); got {describe(basis)}"
            )
    if isinstance(rate, Param) and "basis" not in data:
        reader.error("benefit", "a rate needs a basis: the money fact it is a share of")
    if "basis" in data and "rate" not in data:
        reader.error("benefit.basis", "a basis is only used with a rate")
    if "years" in data and not isinstance(rate, Param):
        reader.error("benefit.years", "years multiplies a numeric rate")
    if "amount_cny" in data and ("rate" in data or "cap_cny" in data):
        reader.error(
            "benefit.amount_cny", "a fixed amount stands alone: drop rate, basis and cap_cny"
        )
    note = reader.text(data["note"], "benefit.note") if "note" in data else None
    if len(reader.issues) != before:
        return None
    return Benefit(
        rate=cast(Any, rate),
        basis=cast(str | None, basis),
        years=cast(Param | None, years),
        cap_cny=cast(Any, cap),
        amount_cny=cast(Param | None, amount),
        note=note,
    )


def _codes(
    data: dict[str, Any], key: str, allowed: Collection[str], reader: Reader, what: str
) -> tuple[str, ...]:
    return _unique(data, key, f"scope.{key}", reader, _one_of(allowed, what))


def _age(data: dict[str, Any], key: str, reader: Reader) -> int | None:
    if key not in data:
        return None
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        reader.error(f"scope.{key}", f"must be a whole number of years ≥ 0, got {describe(value)}")
        return None
    return value


def _flag(data: dict[str, Any], key: str, reader: Reader) -> bool | None:
    return reader.boolean(data[key], f"scope.{key}") if key in data else None


def _scope(raw: object, reader: Reader) -> Scope:
    data = reader.mapping(raw, "scope", required=(), optional=_SCOPE_KEYS)
    if data is None:
        return Scope()
    if not data:
        reader.error("scope", f"must name at least one of {', '.join(_SCOPE_KEYS[:-1])}")
    sizes = _codes(data, "size_classes", SIZE_CLASSES, reader, "micro, small, medium or large")
    division = 'a GB/T 4754 manufacturing division "13" … "43" (quoted)'
    industries = _codes(data, "industries", INDUSTRY_CODES, reader, division)
    excluded = _codes(data, "industries_excluded", INDUSTRY_CODES, reader, division)
    districts = _codes(data, "districts", SHANGHAI_DISTRICTS, reader, "a Shanghai district code")
    if set(industries) & set(excluded):
        reader.error("scope.industries_excluded", "names a division also in scope.industries")
    min_age, max_age = _age(data, "min_age_years", reader), _age(data, "max_age_years", reader)
    if min_age is not None and max_age is not None and max_age < min_age:
        reader.error("scope.max_age_years", f"{max_age} is below min_age_years ({min_age})")
    source = reader.string(data["source"], "scope.source") if "source" in data else None
    return Scope(
        size_classes=sizes,
        above_designated_size=_flag(data, "above_designated_size", reader),
        industries=industries,
        industries_excluded=excluded,
        districts=districts,
        listed=_flag(data, "listed", reader),
        min_age_years=min_age,
        max_age_years=max_age,
        source=source,
    )


def _to_confirm(data: dict[str, Any], reader: Reader, context: _Context) -> tuple[ConfirmItem, ...]:
    if "to_confirm" not in data:
        return ()
    items = reader.sequence(data["to_confirm"], "to_confirm") or []
    result: list[ConfirmItem] = []
    ids: set[str] = set()
    for i, raw in enumerate(items):
        path = f"to_confirm[{i}]"
        entry = reader.mapping(raw, path, required=("id", "text"), optional=("unless",))
        if entry is None:
            continue
        item_id = (
            reader.string(entry["id"], f"{path}.id", pattern=ID_PATTERN) if "id" in entry else None
        )
        if item_id in RESERVED_CONFIRM_IDS:
            reader.error(f"{path}.id", f"{item_id!r} is reserved for the matcher's own notes")
        elif item_id is not None and item_id in ids:
            reader.error(f"{path}.id", f"{item_id!r} is used twice")
        text = reader.text(entry["text"], f"{path}.text") if "text" in entry else None
        unless = _condition(
            entry, "unless", reader, context.declared, _check_leaf, path=f"{path}.unless"
        )
        if item_id is not None and text is not None:
            ids.add(item_id)
            result.append(ConfirmItem(item_id, text, unless))
    return tuple(result)


def _stacking(raw: object, pid: str | None, reader: Reader) -> Stacking | None:
    before = len(reader.issues)
    data = reader.mapping(
        raw, "stacking", required=("rule", "source"), optional=("group", "excludes")
    )
    if data is None:
        return None
    rule = reader.text(data["rule"], "stacking.rule") if "rule" in data else None
    source = reader.string(data["source"], "stacking.source") if "source" in data else None
    group = (
        reader.string(data["group"], "stacking.group", pattern=SLUG_PATTERN)
        if "group" in data
        else None
    )

    def problem(item: object) -> str | None:
        if not isinstance(item, str) or not SLUG_PATTERN.match(item):
            return f"must be a programme id, got {describe(item)}"
        return "a programme cannot exclude itself" if item == pid else None

    excludes = _unique(data, "excludes", "stacking.excludes", reader, problem)
    if "group" not in data and "excludes" not in data:
        reader.error("stacking", "name a group or an excludes list")
    if len(reader.issues) != before:
        return None
    return Stacking(rule=cast(Text, rule), source=cast(str, source), group=group, excludes=excludes)


def _funds(raw: object, reader: Reader, context: _Context) -> Funding:
    data = reader.mapping(raw, "funds", required=(), optional=("stages", "questions"))
    if data is None:
        return Funding()
    if not data:
        reader.error("funds", "name the stages (and optionally questions) the programme pays for")
    known = context.questions

    def question(item: object) -> str | None:
        valid = isinstance(item, str) and (
            item in known if known is not None else bool(ID_PATTERN.match(item))
        )
        return None if valid else f"no question {describe(item)}"

    stages = _unique(
        data, "stages", "funds.stages", reader,
        _one_of(context.stages, f"a stage id ({', '.join(context.stages)})"),
    )  # fmt: skip
    questions = _unique(data, "questions", "funds.questions", reader, question)
    return Funding(stages, questions)
