from __future__ import annotations

from decimal import Decimal

from bs4 import BeautifulSoup

from app.web import charts

D = Decimal


def _svg(markup: str) -> BeautifulSoup:
    return BeautifulSoup(str(markup), "html.parser")


def test_ladder_marks_the_current_rung_in_text() -> None:
    rungs = [charts.RungLabel(level, f"r{level}") for level in charts.RUNG_LEVELS]
    svg = _svg(charts.ladder(rungs, D("3.25"), D("3.31"), title="Ladder <&>", you_label="you"))
    assert svg.svg["role"] == "img"
    assert svg.title.get_text() == "Ladder <&>"
    current = svg.select_one(".rung-current text").get_text()
    assert "3.25" in current and "◀ you" in current
    assert "3.31" in svg.select_one(".ladder-score").get_text()
    assert not svg.select("[style]")


def test_radar_writes_every_score_and_escapes_labels() -> None:
    svg = _svg(charts.radar([("数字化", D("3.5")), ("<b>", D("3")), ("c", None)], title="t"))
    assert [t.get_text() for t in svg.select(".radar-value")] == ["3.50", "3.00", "—"]
    assert "<b>" in [t.get_text() for t in svg.select(".radar-label")]
    assert len(svg.select(".radar-dot")) == 2


def test_trend_plots_scored_points_only() -> None:
    svg = _svg(
        charts.trend([("2026-01", D("3.1")), ("2026-02", None), ("2026-03", D("3.4"))], title="t")
    )
    assert [t.get_text() for t in svg.select(".trend-value")] == ["3.10", "3.40"]
    assert svg.select_one(".trend-line") is not None
