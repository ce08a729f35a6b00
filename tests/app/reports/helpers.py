"""Report tests' firm name (Chinese, to check glyphs) and the submit fixture's type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FIRM_NAME = "上海智造示范精密机械有限公司"
Submit = Callable[..., dict[str, Any]]
