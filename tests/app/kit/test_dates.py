"""Dates in the reader's form (app.kit.dates): the pages, the PDF report and the charts."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.kit.dates import axis_days, format_day, local_dates


def test_a_day_in_each_language_on_shanghais_calendar() -> None:
    assert format_day(date(2026, 3, 3), "zh") == "2026年3月3日"
    assert format_day(date(2026, 3, 3), "en") == "March 3, 2026"
    # 16:03 UTC is 00:03 the next day in Shanghai: the firm's day.
    assert format_day(datetime(2026, 12, 1, 16, 3, tzinfo=UTC), "zh") == "2026年12月2日"


def test_the_iso_dates_of_a_text_read_in_the_readers_form() -> None:
    assert local_dates("已于2025-07-11截止", "zh") == "已于2025年7月11日截止"
    assert local_dates("长期执行（自2023-05-17起）；最近确认于2025-06-30", "zh") == (
        "长期执行（自2023年5月17日起）；最近确认于2025年6月30日"
    )
    assert local_dates("in force 2023-01-01 – 2027-12-31", "en") == (
        "in force January 1, 2023 – December 31, 2027"
    )
    # Not a date, or part of a longer number or code: left as it is.
    for text in ("2025-13-40", "GB/T 39116-2020", "12025-01-011", "2025-01-01-02", "2024-05"):
        assert local_dates(text, "en") == text


def test_axis_labels_give_the_year_where_it_changes() -> None:
    days = [date(2025, 11, 20), date(2025, 12, 24), date(2026, 3, 3), date(2026, 5, 2)]
    assert axis_days(days, "zh") == ["2025年11月20日", "12月24日", "2026年3月3日", "5月2日"]
    assert axis_days(days, "en") == ["Nov 20, 2025", "Dec 24", "Mar 3, 2026", "May 2"]
    assert axis_days([], "en") == []
