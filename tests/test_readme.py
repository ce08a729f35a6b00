"""README.md's configuration table documents every setting, with its current default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.kit.settings import PROJECT_ROOT, Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def _rows() -> dict[str, str]:
    rows: dict[str, str] = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `ZHIZAO_(\w+)` \| (.*?) \|", line)
        if match:
            rows[match[1]] = match[2]
    return rows


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_every_setting_is_documented_with_its_default(name: str) -> None:
    rows = _rows()
    assert name in rows, f"README.md's configuration table lacks ZHIZAO_{name}"
    default = Settings.model_fields[name].default
    if isinstance(default, bool):
        assert f"`{str(default).lower()}`" in rows[name]
    elif isinstance(default, int | float | str) and str(PROJECT_ROOT) not in str(default):
        shown = default.value if hasattr(default, "value") else default
        assert f"`{shown}`" in rows[name], f"ZHIZAO_{name}: README says {rows[name]}, code {shown}"


def test_no_documented_setting_is_gone() -> None:
    assert set(_rows()) <= set(Settings.model_fields)
