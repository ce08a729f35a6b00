"""Dates as a reader reads them: one form for the pages (the ``date`` filter), the PDF report and
the charts, on Shanghai's calendar (:func:`app.kit.clock.calendar_day`).

    format_day(submitted_at, "zh")        # 2026年3月3日
    format_day(submitted_at, "en")        # March 3, 2026
    local_dates("已于2025-07-11截止", "zh")  # 已于2025年7月11日截止

The subsidy engine's texts (stored with each result at submission) print their dates in ISO
form; :func:`local_dates` shows them in the reader's form, for results stored before as well.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

from babel.dates import format_date, format_skeleton

from app.kit.clock import calendar_day
from app.kit.i18n import BABEL_LOCALES

#: An ISO calendar date standing alone in a text (not part of a longer number or code).
_ISO_DAY = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")


def _locale(lang: str) -> str:
    return BABEL_LOCALES.get(lang, "zh_CN")


def format_day(value: date | datetime, lang: str) -> str:
    """The day of ``value`` in the reader's long form: 2026年3月3日, March 3, 2026. A
    timestamp is read on Shanghai's calendar."""
    return format_date(calendar_day(value), "long", locale=_locale(lang))


def local_dates(text: str, lang: str) -> str:
    """``text`` with each ISO date (``2025-07-11``) in the reader's form (:func:`format_day`);
    anything that is not a real date is left as it is."""

    def replace(found: re.Match[str]) -> str:
        try:
            day = date(int(found[1]), int(found[2]), int(found[3]))
        except ValueError:
            return found[0]
        return format_day(day, lang)

    return _ISO_DAY.sub(replace, text)


def axis_days(days: Sequence[date | datetime], lang: str) -> list[str]:
    """Short labels for a chart's time axis, oldest first: the year on the first day and where
    it changes (2026年3月3日, 5月2日 / Mar 3, 2026, May 2), so that eight of them fit."""
    labels: list[str] = []
    year: int | None = None
    for value in days:
        day = calendar_day(value)
        skeleton = "MMMd" if day.year == year else "yMMMd"
        labels.append(format_skeleton(skeleton, day, locale=_locale(lang)))
        year = day.year
    return labels
