"""Quarters as officials count them: calendar quarters in China Standard Time (UTC+8, no DST).

A quarter is stored as ``year × 10 + q`` (20264 = 2026 Q4) so that integer order is time order.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from app.kit.clock import SHANGHAI, utcnow

_LABEL = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


def quarter_of(moment: datetime) -> int:
    local = moment.astimezone(SHANGHAI)
    return local.year * 10 + (local.month - 1) // 3 + 1


def current_quarter() -> int:
    return quarter_of(utcnow())


def label(quarter: int) -> str:
    return f"{quarter // 10}Q{quarter % 10}"


def parse(text: str) -> int | None:
    match = _LABEL.match(text.strip())
    if match is None:
        return None
    return int(match.group(1)) * 10 + int(match.group(2))


def previous(quarter: int) -> int:
    year, q = divmod(quarter, 10)
    return (year - 1) * 10 + 4 if q == 1 else quarter - 1


def following(quarter: int) -> int:
    year, q = divmod(quarter, 10)
    return (year + 1) * 10 + 1 if q == 4 else quarter + 1


def last_n(end: int, n: int) -> list[int]:
    """The ``n`` quarters ending with ``end``, oldest first."""
    quarters = [end]
    while len(quarters) < n:
        quarters.append(previous(quarters[-1]))
    return quarters[::-1]


def end_of(quarter: int) -> datetime:
    """The first instant after the quarter (exclusive end), in UTC."""
    year, q = divmod(following(quarter), 10)
    return datetime(year, (q - 1) * 3 + 1, 1, tzinfo=SHANGHAI).astimezone(UTC)


def start_of(quarter: int) -> datetime:
    year, q = divmod(quarter, 10)
    return datetime(year, (q - 1) * 3 + 1, 1, tzinfo=SHANGHAI).astimezone(UTC)
