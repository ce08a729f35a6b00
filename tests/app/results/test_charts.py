"""The inline SVG charts: snapshots (regenerate with ZHIZAO_UPDATE_SNAPSHOTS=1) and properties."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from markupsafe import Markup

from app.results.charts import RadarAxis, TrendPoint, ladder_svg, radar_svg, trend_svg

SNAPSHOTS = Path(__file__).parent / "snapshots"
SVG = "{http://www.w3.org/2000/svg}"

STAGES_ZH = [
    RadarAxis("设备数字化", 3.63, 3.25),
    RadarAxis("生产自动化", 3.59, 3.25),
    RadarAxis("工业数据采集", 3.21, 3.25),
    RadarAxis("上云用云", 3.39, 3.25),
]
STAGES_EN = [
    RadarAxis("Digitization", 3.63, 3.25),
    RadarAxis("Automation", 3.59, 3.25),
    RadarAxis("Data collection", 3.21, 3.25),
    RadarAxis("Cloud adoption", None, 3.25),
]
TREND = [
    TrendPoint("2025-11-20", 3.03, 3.0),
    TrendPoint("2026-05-12", 3.25, 3.0),
    TrendPoint("2026-11-18", 3.46, 3.25),
]

CHARTS = {
    "ladder-zh": lambda: ladder_svg(3.25, 3.46, lang="zh"),
    "ladder-en-top": lambda: ladder_svg(4.0, 4.0, lang="en"),
    "ladder-en-unscored": lambda: ladder_svg(2.75, None, lang="en"),
    "radar-zh": lambda: radar_svg(
        STAGES_ZH, lang="zh", series_label="本次得分", reference_label="下一级所需最低阶段分"
    ),
    "radar-en-unscored-stage": lambda: radar_svg(
        STAGES_EN, lang="en", series_label="This assessment", reference_label=None
    ),
    "bars-en-two-stages": lambda: radar_svg(
        STAGES_EN[:2], lang="en", series_label="This assessment"
    ),
    "trend-zh": lambda: trend_svg(TREND, lang="zh"),
    "trend-en-single": lambda: trend_svg(TREND[-1:], lang="en"),
    "trend-en-empty": lambda: trend_svg([], lang="en"),
}


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_snapshot(name: str) -> None:
    svg = str(CHARTS[name]())
    path = SNAPSHOTS / f"{name}.svg"
    if os.environ.get("ZHIZAO_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.write_text(svg + "\n", encoding="utf-8")
        if os.environ.get("ZHIZAO_UPDATE_SNAPSHOTS") != "1":
            pytest.fail(f"snapshot {path.name} was missing and has been written; check it in")
    assert svg + "\n" == path.read_text(encoding="utf-8"), (
        f"{name} changed; if intended, rerun with ZHIZAO_UPDATE_SNAPSHOTS=1 and review the diff"
    )


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_is_well_formed_accessible_svg(name: str) -> None:
    svg = CHARTS[name]()
    assert isinstance(svg, Markup)
    root = ET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox")
    title = root.find(f"{SVG}title")
    assert title is not None and title.text


def test_ladder_marks_the_rung_and_the_score() -> None:
    root = ET.fromstring(str(ladder_svg(3.25, 3.46, lang="zh")))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "规范级" in texts and "总分 3.46" in texts
    filled = [r for r in root.iter(f"{SVG}rect") if r.get("fill") == "#1f5fa8"]
    assert len(filled) == 1  # exactly one rung is the firm's


def test_english_labels_and_no_chinese_in_english_charts() -> None:
    svg = str(ladder_svg(3.5, 3.61, lang="en")) + str(trend_svg(TREND, lang="en"))
    assert "Integrated" in svg and "Overall 3.61" in svg
    assert not any("\u4e00" <= char <= "\u9fff" for char in svg)


def test_labels_are_escaped() -> None:
    svg = str(
        radar_svg(
            [RadarAxis("<script>", 3.0), RadarAxis("a&b", 3.5), RadarAxis('"q"', 3.2)],
            lang="en",
            series_label="<b>x</b>",
        )
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "a&amp;b" in svg and "&lt;b&gt;x&lt;/b&gt;" in svg
    ET.fromstring(svg)


def test_radar_rim_is_four_and_centre_below_the_ladder() -> None:
    """A stage at 4.00 touches the rim; one at 2.75 stays visible off the centre."""
    root = ET.fromstring(
        str(radar_svg([RadarAxis("a", 4.0), RadarAxis("b", 2.75), RadarAxis("c", 3.0)],
                      lang="en", series_label="s"))
    )  # fmt: skip
    dots = [(float(c.get("cx", 0)), float(c.get("cy", 0))) for c in root.iter(f"{SVG}circle")]
    centre = (240.0, 170.0)
    distances = [((x - centre[0]) ** 2 + (y - centre[1]) ** 2) ** 0.5 for x, y in dots]
    assert distances[0] == pytest.approx(105, abs=0.2)
    assert 0 < distances[1] < distances[2] < distances[0]


def _radar_with_stage_c_not_scored() -> BeautifulSoup:
    """A page's radar of stages a to d with their reference; stage c has no score (so no
    reference either)."""
    axes = [
        RadarAxis("a", 3.5, 3.25),
        RadarAxis("b", 3.4, 3.25),
        RadarAxis("c", None, None),
        RadarAxis("d", 3.3, 3.25),
    ]
    return _page_svg(radar_svg(axes, lang="zh", series_label="s", reference_label="r"))


def test_the_reference_skips_a_stage_not_scored() -> None:
    """The rung asks a least score of scored stages only (design §3, rule 4): the dashed
    reference joins only the axes that have one, none drawn out to an unscored stage."""
    svg = _radar_with_stage_c_not_scored()
    dashed = svg.select('[stroke-dasharray="5 3"]')
    assert [node.name for node in dashed] == ["path", "line"]  # the reference and its legend
    assert dashed[0]["d"].count("M") == 2  # a–b and d–a; b–c and c–d are not drawn
    assert "r" in [t.get_text() for t in svg.select("text")]
    values = [t.get_text() for t in svg.select(".value")]
    assert values == ["3.50", "3.40", "未评估", "3.30"]


def test_a_stage_not_assessed_is_no_point_of_the_shape() -> None:
    """A stage with no score was drawn at the centre, as if it scored nothing: the shape now
    joins the scored stages only, and the stage's spoke is dotted under its "not assessed"."""
    svg = _radar_with_stage_c_not_scored()
    shape = svg.select_one('polygon[fill="#1f5fa8"]')
    assert shape is not None
    corners = [tuple(map(float, corner.split(","))) for corner in str(shape["points"]).split()]
    assert len(corners) == 3 and (240.0, 170.0) not in corners
    assert len(svg.select("circle")) == 3  # a point on each scored stage only
    spokes = svg.select("line[x1='240.0'][y1='170.0']")
    assert [s.get("stroke-dasharray") for s in spokes] == [None, None, "2 3", None]


def test_trend_labels_days_in_the_readers_form() -> None:
    """Days on the axis as the page's other dates, the year on the first and where it changes
    (ISO before: 2026-03-03 beside a table of 2026年3月3日)."""
    points = [
        TrendPoint(datetime(2025, 12, 1, 16, 30, tzinfo=UTC), 3.1, 3.0),  # 2 Dec in Shanghai
        TrendPoint(date(2026, 3, 3), 3.2, 3.0),
        TrendPoint(date(2026, 5, 2), 3.3, 3.25),
    ]
    for lang, expected in (
        ("zh", ["2025年12月2日", "2026年3月3日", "5月2日"]),
        ("en", ["Dec 2, 2025", "Mar 3, 2026", "May 2"]),
    ):
        labels = [
            t.text for t in ET.fromstring(str(trend_svg(points, lang=lang))).iter(f"{SVG}text")
        ]
        assert [label for label in labels if label in expected] == expected, lang


def test_trend_shows_at_most_eight_points() -> None:
    points = [TrendPoint(f"2026-{m:02d}-01", 3.0 + m / 100, 3.0) for m in range(1, 13)]
    root = ET.fromstring(str(trend_svg(points, lang="en")))
    assert len(list(root.iter(f"{SVG}circle"))) == 8 + 1  # eight points and the legend dot
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "2026-01-01" not in labels and "2026-12-01" in labels


# --- what the pages rely on (the same SVG is in the result page, history and dashboard) --------


def _page_svg(markup: Markup) -> BeautifulSoup:
    return BeautifulSoup(str(markup), "html.parser")


def test_ladder_marks_the_current_rung_in_words_not_colour_alone() -> None:
    svg = _page_svg(ladder_svg(3.25, 3.31, lang="en", you_label="you <&>"))
    assert svg.svg["role"] == "img"
    current = svg.select_one(".rung-current").get_text(" ")
    assert "3.25" in current and "you <&>" in current
    assert len(svg.select(".rung-reached")) == 2 and len(svg.select(".rung-ahead")) == 3
    assert "3.31" in svg.title.get_text()
    assert not svg.select("[style]"), "the pages' CSP forbids style attributes"


def test_radar_writes_every_score_and_escapes_labels() -> None:
    axes = [RadarAxis("数字化", 3.5), RadarAxis("<b>", 3.0), RadarAxis("c", None)]
    svg = _page_svg(radar_svg(axes, lang="en", series_label="s"))
    # A stage with no score says so in words: a dash read as a score of nothing.
    assert [t.get_text() for t in svg.select(".value")] == ["3.50", "3.00", "not assessed"]
    assert "<b>" in [t.get_text() for t in svg.select(".label")]


def test_trend_writes_the_scored_points() -> None:
    points = [TrendPoint("2026-01", 3.1, 3.0), TrendPoint("2026-02", None, 2.75)]
    svg = _page_svg(trend_svg(points + [TrendPoint("2026-03", 3.4, 3.25)], lang="en"))
    assert [t.get_text() for t in svg.select(".value")] == ["3.10", "3.40"]
