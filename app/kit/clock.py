"""The one clock: every "now" of the service (timestamps, expiry, the submission date, quarters)
comes from :func:`utcnow`, so a test can fix or move time for all of it at once::

    with clock.frozen(datetime(2026, 3, 31, 15, 59, tzinfo=UTC)) as time:
        ...                                   # utcnow() is that moment
        time.advance(timedelta(minutes=2))    # and now two minutes later

Always timezone-aware UTC (the database columns refuse naive datetimes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

#: Where the service's calendar runs: programme windows, notices and deadlines are Chinese
#: calendar dates, and the scheduled jobs run on Shanghai's clock.
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _system_now() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _system_now


def utcnow() -> datetime:
    """Now, in UTC, from the system clock unless a test froze it."""
    return _source()


def shanghai_date(moment: datetime | None = None) -> date:
    """The calendar date in Shanghai at ``moment`` (default: now), the date a programme's
    ``valid_from``/``valid_until`` and a submission's advice are read against. UTC's date is
    a day behind from midnight to 08:00 in Shanghai: a call that closed on 4 February was
    still shown as open at 07:30 on the 5th."""
    return (moment or utcnow()).astimezone(SHANGHAI).date()


def calendar_day(value: date | datetime) -> date:
    """The day a firm reads for ``value``: a timestamp (kept in UTC; a naive one is taken as
    UTC) on Shanghai's calendar (:func:`shanghai_date`), as the report, a programme's window and
    the report's file name read it; a plain date as it is. The pages printed UTC's date, a day
    before the PDF's for anything submitted between midnight and 08:00 in Shanghai."""
    if not isinstance(value, datetime):
        return value
    return shanghai_date(value if value.tzinfo else value.replace(tzinfo=UTC))


class FrozenClock:
    """A clock standing still at ``now`` until moved with :meth:`advance` or :meth:`set`."""

    def __init__(self, at: datetime) -> None:
        self.set(at)

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("the clock keeps aware UTC datetimes; give a tzinfo")
        self.now = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def frozen(at: datetime) -> Iterator[FrozenClock]:
    """Every :func:`utcnow` (in every thread) answers from a frozen clock inside the block."""
    global _source
    clock = FrozenClock(at)
    previous, _source = _source, clock
    try:
        yield clock
    finally:
        _source = previous
