"""Helpers that read untrusted YAML data and record precise ``LoadIssue``s (internal).

``parse_yaml`` is the one strict YAML reader of questionnaires and subsidy programmes.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Collection
from decimal import Decimal
from typing import Any

import yaml

from scoring.errors import LoadIssue
from scoring.models import Text

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9_-]*$")
_YAML_BOOL_HINT = " (YAML reads unquoted yes/no/on/off/true/false as booleans: quote it)"


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader that also records duplicate mapping keys (PyYAML keeps the last
    silently) and leaves a date-shaped scalar that is no calendar date (2026-02-30) as text, so
    the reader reports it instead of PyYAML raising ``ValueError``."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[str] = []


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = key_node.value
        if isinstance(key_node, yaml.ScalarNode) and key in seen:
            line = key_node.start_mark.line + 1
            loader.duplicate_keys.append(f"duplicate key {key!r} at line {line}")
        seen.add(key)
    return loader.construct_mapping(node)


def _construct_timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> object:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def parse_yaml(text: str, reader: Reader) -> tuple[object, bool]:
    """The one document in ``text`` and whether it parsed; problems go to ``reader``.

    Duplicate keys are reported but do not stop the parse (the rest of the file is still
    checked); YAML that does not parse is reported once and returns ``(None, False)``.
    """
    loader = _StrictLoader(text)
    try:
        raw = loader.get_single_data()
    except yaml.YAMLError as exc:
        reader.error("", f"not valid YAML: {exc}")
        return None, False
    finally:
        loader.dispose()
    for message in loader.duplicate_keys:
        reader.error("", message)
    return raw, True


def canonical_hash(raw: object) -> str:
    """SHA-256 of the parsed document as canonical JSON (sorted keys, no whitespace, UTF-8;
    dates as ISO text), so comments, layout and key order do not change it but content does."""
    canonical = json.dumps(
        raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def describe(value: object) -> str:
    """A short English name of a YAML value's type, for messages."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float | Decimal):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def key_path(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def index_path(path: str, index: int) -> str:
    return f"{path}[{index}]"


def to_decimal(value: object) -> Decimal | None:
    """A finite number as Decimal (floats via their shortest repr); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return Decimal(repr(value))
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    return Decimal(value)


class Reader:
    """Reads raw YAML values for one source file, collecting every problem."""

    def __init__(self, source: str, issues: list[LoadIssue] | None = None) -> None:
        self.source = source
        self.issues: list[LoadIssue] = [] if issues is None else issues

    def error(self, path: str, message: str) -> None:
        self.issues.append(LoadIssue(self.source, path, message))

    def mapping(
        self, raw: object, path: str, *, required: Collection[str], optional: Collection[str] = ()
    ) -> dict[str, Any] | None:
        """``raw`` if it is a mapping; unknown and missing keys are reported (and dropped)."""
        if not isinstance(raw, dict):
            self.error(path, f"must be a mapping, got {describe(raw)}")
            return None
        allowed = [*required, *optional]
        result: dict[str, Any] = {}
        for key, value in raw.items():
            if key in allowed:
                result[key] = value
            else:
                self.error(
                    key_path(path, key),
                    f"unknown key {str(key)!r}; allowed here: {', '.join(allowed)}",
                )
        for key in required:
            if key not in raw:
                self.error(path, f"missing key {key!r}")
        return result

    def sequence(self, raw: object, path: str, *, non_empty: bool = True) -> list[Any] | None:
        if not isinstance(raw, list):
            self.error(path, f"must be a list, got {describe(raw)}")
            return None
        if non_empty and not raw:
            self.error(path, "must not be empty")
            return None
        return raw

    def string(
        self, raw: object, path: str, *, pattern: re.Pattern[str] | None = None
    ) -> str | None:
        if not isinstance(raw, str):
            hint = _YAML_BOOL_HINT if isinstance(raw, bool) else ""
            self.error(path, f"must be a string, got {describe(raw)}{hint}")
            return None
        if not raw.strip():
            self.error(path, "must not be empty")
            return None
        if pattern is not None and not pattern.match(raw):
            self.error(
                path,
                f"{raw!r} is not a valid id (lower-case letters, digits and underscores, "
                "starting with a letter)",
            )
            return None
        return raw

    def text(self, raw: object, path: str) -> Text | None:
        data = self.mapping(raw, path, required=("zh", "en"))
        if data is None:
            return None
        zh = self.string(data["zh"], key_path(path, "zh")) if "zh" in data else None
        en = self.string(data["en"], key_path(path, "en")) if "en" in data else None
        if zh is None or en is None:
            return None
        return Text(zh=zh, en=en)

    def number(self, raw: object, path: str) -> Decimal | None:
        value = to_decimal(raw)
        if value is None:
            self.error(path, f"must be a number, got {describe(raw)}")
        return value

    def boolean(self, raw: object, path: str) -> bool | None:
        if not isinstance(raw, bool):
            self.error(path, f"must be true or false, got {describe(raw)}")
            return None
        return raw
