"""Load and validate subsidy programme YAML (design §5), collecting every problem.

One programme a file; the file name (without ``.yaml``) must equal the programme id. Errors
name the file, the path inside it (``eligibility.all[2].value``, ``benefit.cap_cny``) and what
is wrong: unknown or missing keys, bad enums (level, kind, confidence), a region that does not
fit the level, bad dates or a window that ends before it starts, benefit parameters that do
not fit together, and conditions with unknown paths or values of the wrong type.

``answers.<question_id>`` leaves are checked against ``questions`` when given (else any
well-formed id is accepted); ``result.stages.<stage_id>`` against ``stages``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
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
    STAGE_NAMES,
    UNKNOWN,
    Benefit,
    Confidence,
    Kind,
    Level,
    Programme,
    Source,
)

__all__ = [
    "STANDARD_STAGES",
    "SubsidyLoadError",
    "load_programme",
    "load_subsidies",
    "parse_programme",
]

#: Stage ids ``result.stages.<id>`` may name by default.
STANDARD_STAGES: tuple[str, ...] = tuple(STAGE_NAMES)
SIZE_CLASSES = ("micro", "small", "medium", "large")

_TOP_REQUIRED = (
    "id", "name", "issuer", "level", "region", "kind", "summary", "benefit", "source",
    "confidence",
)  # fmt: skip
_TOP_OPTIONAL = ("eligibility", "valid_from", "valid_until", "recommendations", "notes")
_BENEFIT_KEYS = ("rate", "basis", "years", "cap_cny", "amount_cny", "note")
_SOURCE_REQUIRED = ("document", "issued_by", "year")
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
    programme = _programme(raw, reader, _known_paths(questions, stages))
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
    with the same id. Returns the programmes sorted by id.
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
    if issues:
        raise SubsidyLoadError(issues)
    return [loaded[key] for key in sorted(loaded)]


# --- paths and leaves -----------------------------------------------------------------------


def _known_paths(questions: Collection[str] | None, stages: Collection[str]) -> PathCheck:
    base = path_checker(
        questions=questions or (), stages=stages, profile_fields=PROFILE_FIELDS | FACT_NAMES
    )

    def known(path: str) -> str | None:
        head, _, rest = path.partition(".")
        if head == "answers" and questions is None:
            return None if ID_PATTERN.match(rest) else f"{rest!r} is not a valid question id"
        return base(path)

    return known


def _is_number(value: object) -> bool:
    return isinstance(value, Decimal)


def _check_leaf(leaf: Leaf) -> str | None:
    """Does the leaf's value fit its path? (Types, enums and level ranges.)"""
    values = cast(tuple[object, ...], leaf.value if leaf.op in ("in", "not_in") else (leaf.value,))
    head, _, rest = leaf.field.partition(".")
    if head == "result":
        if leaf.op == "contains":
            return "contains needs a list; result values are numbers"
        bad = [
            v for v in values if not _is_number(v) or not MIN_LEVEL <= cast(Decimal, v) <= MAX_LEVEL
        ]
        if bad:
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
    if (
        name == "above_designated_size"
        or FACTS_BY_NAME.get(name, None) is not None
        and (FACTS_BY_NAME[name].type == "boolean")
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
        allowed = [str(code) for code in range(13, 44)]
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


def _programme(raw: object, reader: Reader, known: PathCheck) -> Programme | None:
    before = len(reader.issues)
    data = reader.mapping(raw, "", required=_TOP_REQUIRED, optional=_TOP_OPTIONAL)
    if data is None:
        return None
    pid = reader.string(data["id"], "id", pattern=SLUG_PATTERN) if "id" in data else None
    texts = {
        key: reader.text(data[key], key) for key in ("name", "issuer", "summary") if key in data
    }
    level = _enum(data, "level", LEVELS, reader)
    kind = _enum(data, "kind", KINDS, reader)
    confidence = _enum(data, "confidence", CONFIDENCES, reader)
    region = _region(data, level, reader)
    benefit = _benefit(data["benefit"], reader) if "benefit" in data else None
    source = _source(data["source"], reader) if "source" in data else None
    eligibility = _eligibility(data, reader, known)
    valid_from = _date(data, "valid_from", reader)
    valid_until = _date(data, "valid_until", reader)
    if valid_from is not None and valid_until is not None and valid_until < valid_from:
        reader.error("valid_until", f"{valid_until} is before valid_from ({valid_from})")
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
        eligibility=eligibility,
        valid_from=valid_from,
        valid_until=valid_until,
        recommendations=recommendations,
        notes=notes,
        content_hash=canonical_hash(raw),
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
    if key not in data or data[key] is None:
        return None
    value = data[key]
    if isinstance(value, datetime):
        reader.error(key, f"must be a date (YYYY-MM-DD) without a time, got {value.isoformat()}")
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    reader.error(
        key, f"must be a date written YYYY-MM-DD (or null for open-ended), got {describe(value)}"
    )
    return None


def _recommendations(data: dict[str, Any], reader: Reader) -> tuple[str, ...]:
    items = (
        reader.sequence(data["recommendations"], "recommendations")
        if "recommendations" in data
        else []
    )
    result: list[str] = []
    for i, item in enumerate(items or []):
        if item not in RECOMMENDATIONS:
            reader.error(f"recommendations[{i}]", f"must be one of R1 … R10, got {describe(item)}")
        elif item in result:
            reader.error(f"recommendations[{i}]", f"{item} is listed twice")
        else:
            result.append(item)
    return tuple(result)


def _eligibility(data: dict[str, Any], reader: Reader, known: PathCheck) -> Condition | None:
    if "eligibility" not in data:
        return None
    try:
        return parse_condition(
            data["eligibility"], "eligibility", known, source=reader.source, check_leaf=_check_leaf
        )
    except ConditionError as exc:
        reader.issues.extend(exc.issues)
        return None


def _source(raw: object, reader: Reader) -> Source | None:
    data = reader.mapping(raw, "source", required=_SOURCE_REQUIRED, optional=("url",))
    if data is None:
        return None
    document = reader.string(data["document"], "source.document") if "document" in data else None
    issued_by = (
        reader.string(data["issued_by"], "source.issued_by") if "issued_by" in data else None
    )
    year = data.get("year")
    if year is not None and (
        isinstance(year, bool) or not isinstance(year, int) or not 1949 <= year <= 2100
    ):
        reader.error(
            "source.year",
            f"must be a year such as 2024 (or null when unknown), got {describe(year)}",
        )
        year = None
    url = reader.string(data["url"], "source.url") if "url" in data else None
    if url is not None and not url.startswith(("https://", "http://")):
        reader.error("source.url", f"must start with https:// or http://, got {url!r}")
    if document is None or issued_by is None:
        return None
    return Source(document=document, issued_by=issued_by, year=year, url=url)


def _amount(data: dict[str, Any], key: str, reader: Reader, *, unknown_ok: bool) -> object:
    """A positive number, UNKNOWN (when allowed) or None (absent); False when invalid."""
    if key not in data:
        return None
    raw = data[key]
    path = f"benefit.{key}"
    if unknown_ok and raw == UNKNOWN:
        return UNKNOWN
    number = reader.number(raw, path) if not isinstance(raw, str) else None
    if isinstance(raw, str):
        hint = " or unknown" if unknown_ok else ""
        reader.error(path, f"must be a number{hint}, got {describe(raw)}")
    if number is None:
        return False
    if number <= 0:
        reader.error(path, f"must be > 0, got {number}")
        return False
    return number


def _benefit(raw: object, reader: Reader) -> Benefit | None:
    before = len(reader.issues)
    data = reader.mapping(raw, "benefit", required=(), optional=_BENEFIT_KEYS)
    if data is None:
        return None
    rate = _amount(data, "rate", reader, unknown_ok=True)
    if isinstance(rate, Decimal) and rate > 1:
        reader.error("benefit.rate", f"is a share between 0 and 1 (10% is 0.10), got {rate}")
    cap = _amount(data, "cap_cny", reader, unknown_ok=True)
    amount = _amount(data, "amount_cny", reader, unknown_ok=False)
    basis = data.get("basis")
    if "basis" in data:
        fact = FACTS_BY_NAME.get(basis) if isinstance(basis, str) else None
        if fact is None or fact.type != "money":
            money = ", ".join(name for name, f in FACTS_BY_NAME.items() if f.type == "money")
            reader.error(
                "benefit.basis", f"must name a money fact ({money}); got {describe(basis)}"
            )
    if isinstance(rate, Decimal) and "basis" not in data:
        reader.error("benefit", "a rate needs a basis: the money fact it is a share of")
    if "basis" in data and "rate" not in data:
        reader.error("benefit.basis", "a basis is only used with a rate")
    years = data.get("years")
    if "years" in data:
        if isinstance(years, bool) or not isinstance(years, int) or years < 1:
            reader.error("benefit.years", f"must be a whole number ≥ 1, got {describe(years)}")
        elif not isinstance(rate, Decimal):
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
        years=cast(int | None, years),
        cap_cny=cast(Any, cap),
        amount_cny=cast(Decimal | None, amount),
        note=note,
    )
