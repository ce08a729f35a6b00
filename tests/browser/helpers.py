"""What the browser tests share: checks on a page's layout."""

from __future__ import annotations

from typing import Any


def no_horizontal_scroll(page: Any) -> bool:
    return bool(
        page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    )
