"""Hand-written inline SVG charts: the ladder graphic, the stage radar and the trend line.

Pure functions of plain values returning ``Markup`` (safe SVG strings): the same SVG renders
in the browser (result page) and in WeasyPrint's PDF (design §10). Coordinates are printed
with one decimal so the output is stable enough to snapshot-test. Every text is escaped.
Every chart has ``role="img"`` and a ``<title>`` for assistive technology.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

from app.kit.dates import axis_days
from app.kit.i18n import html_lang, trc
from scoring.ladder import MAX_LEVEL, MIN_LEVEL, RUNG_STEP, RUNGS

__all__ = [
    "RadarAxis",
    "TrendPoint",
    "ladder_svg",
    "radar_svg",
    "stage_bars_svg",
    "trend_svg",
]

#: The palette: the firm's values, what is needed next, reached rungs, neutral.
PRIMARY = "#1f5fa8"
ACCENT = "#d9822b"
REACHED = "#bcd3ee"
NEUTRAL = "#e5e7eb"
INK = "#1f2937"
MUTED = "#6b7280"
#: One family, no fallback list: WeasyPrint lays SVG text out letter by letter and resolves
#: every family of the list for each letter (a list of four doubles the cost of the charts).
#: Pages may override it with CSS (``svg.chart text { font-family: inherit }``); the PDF, whose
#: SVG no document CSS reaches, passes its own family (``font_family``).
FONT = "Noto Sans CJK SC"

_LOW = float(MIN_LEVEL)
_HIGH = float(MAX_LEVEL)
_STEP = float(RUNG_STEP)
_LEVELS = [float(rung.level) for rung in RUNGS]


def _f(value: float) -> str:
    """A coordinate: one decimal, no negative zero."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _score(value: float) -> str:
    return f"{value:.2f}"


def _open(
    width: int, height: int, title: str, lang: str, css_class: str, font_family: str = FONT
) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" lang="{html_lang(lang)}" xml:lang="{html_lang(lang)}" '
        f'font-family="{font_family}" font-size="11" fill="{INK}">'
        f"<title>{escape(title)}</title>"
    )


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "middle",
    size: float | None = None,
    weight: str | None = None,
    fill: str | None = None,
    css_class: str | None = None,
) -> str:
    attrs = [f'x="{_f(x)}"', f'y="{_f(y)}"', f'text-anchor="{anchor}"']
    if css_class is not None:
        attrs.insert(0, f'class="{css_class}"')
    if size is not None:
        attrs.append(f'font-size="{size:g}"')
    if weight is not None:
        attrs.append(f'font-weight="{weight}"')
    if fill is not None:
        attrs.append(f'fill="{fill}"')
    return f"<text {' '.join(attrs)}>{escape(content)}</text>"


def _rung_name(level: float, lang: str) -> str:
    for rung in RUNGS:
        if float(rung.level) == level:
            return rung.name.get(lang)
    return ""


# --- ladder ----------------------------------------------------------------------------------


def ladder_svg(
    rung: float,
    overall: float | None,
    *,
    lang: str,
    you_label: str | None = None,
    font_family: str = FONT,
) -> Markup:
    """The ladder as a staircase of its six rungs, the firm's rung filled, its overall score
    marked above. ``rung`` is one of 2.75 … 4.00; ``overall`` may be None (nothing scored).
    ``you_label`` also writes a word on the firm's rung (the pages say "you": never colour
    alone). Each rung is a group classed ``rung-reached``, ``rung-current`` or ``rung-ahead``."""
    width, height = 640, 200
    left, right, baseline = 10.0, 10.0, 150.0
    col = (width - left - right) / len(_LEVELS)
    title = trc(
        lang,
        "chart",
        "Maturity ladder: rung %(rung)s %(name)s",
        rung=_score(rung),
        name=_rung_name(rung, lang),
    )
    if overall is not None:
        title += trc(lang, "chart", " (overall %(overall)s)", overall=_score(overall))
    parts = [_open(width, height, title, lang, "ladder", font_family)]
    for index, level in enumerate(_LEVELS):
        x = left + index * col
        step_height = 16 + index * 18
        if level == rung:
            fill, state = PRIMARY, "current"
        elif level < rung:
            fill, state = REACHED, "reached"
        else:
            fill, state = NEUTRAL, "ahead"
        parts.append(f'<g class="rung rung-{state}">')
        parts.append(
            f'<rect x="{_f(x + 2)}" y="{_f(baseline - step_height)}" width="{_f(col - 4)}" '
            f'height="{_f(step_height)}" rx="3" fill="{fill}"/>'
        )
        current = level == rung
        parts.append(
            _text(
                x + col / 2,
                baseline + 18,
                _score(level),
                size=13,
                weight="bold" if current else None,
                fill=PRIMARY if current else INK,
            )
        )
        parts.append(
            _text(
                x + col / 2,
                baseline + 36,
                _rung_name(level, lang),
                size=12,
                weight="bold" if current else None,
                fill=PRIMARY if current else MUTED,
            )
        )
        if current and you_label:
            parts.append(
                _text(x + col / 2, baseline - 5, you_label, size=10, weight="bold", fill="#ffffff")
            )
        parts.append("</g>")
    if overall is not None:
        span = min(max((overall - _LOW) / _STEP, 0.0), len(_LEVELS) - 0.5)
        marker_x = left + span * col
        if overall >= _HIGH:
            marker_x = left + (len(_LEVELS) - 0.5) * col
        label = trc(lang, "chart", "Overall %(overall)s", overall=_score(overall))
        anchor = "start" if marker_x < 60 else "end" if marker_x > width - 60 else "middle"
        parts.append(_text(marker_x, 14, label, anchor=anchor, size=12, weight="bold", fill=ACCENT))
        parts.append(
            f'<path d="M{_f(marker_x - 6)} 19 L{_f(marker_x + 6)} 19 L{_f(marker_x)} 27 Z" '
            f'fill="{ACCENT}"/>'
        )
        parts.append(
            f'<line x1="{_f(marker_x)}" y1="27" x2="{_f(marker_x)}" y2="{_f(baseline)}" '
            f'stroke="{ACCENT}" stroke-width="2" stroke-dasharray="4 3"/>'
        )
    parts.append(
        f'<line x1="{_f(left)}" y1="{_f(baseline)}" x2="{_f(width - right)}" '
        f'y2="{_f(baseline)}" stroke="{MUTED}" stroke-width="1"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


# --- radar -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RadarAxis:
    """One axis: a stage's name, its score (None when not scored) and an optional reference."""

    label: str
    value: float | None
    reference: float | None = None


def _radius(value: float, outer: float) -> float:
    """Ladder scale → radius: 2.50 at the centre, 4.00 at the rim (2.75 stays visible)."""
    low = _LOW - _STEP
    return outer * min(max((value - low) / (_HIGH - low), 0.0), 1.0)


def radar_svg(
    axes: Sequence[RadarAxis],
    *,
    lang: str,
    series_label: str,
    reference_label: str | None = None,
    font_family: str = FONT,
) -> Markup:
    """A polygon radar of stage scores on the ladder scale, with rings at every rung and an
    optional dashed reference polygon (e.g. the least each stage needs for the next rung).

    Fewer than three axes make no polygon: those fall back to ``stage_bars_svg``."""
    if len(axes) < 3:
        return stage_bars_svg(axes, lang=lang, series_label=series_label, font_family=font_family)
    width, height = 480, 360
    cx, cy, outer = 240.0, 170.0, 105.0
    n = len(axes)
    angles = [-math.pi / 2 + 2 * math.pi * i / n for i in range(n)]

    def point(angle: float, radius: float) -> tuple[float, float]:
        return cx + radius * math.cos(angle), cy + radius * math.sin(angle)

    def polygon(values: Sequence[float]) -> str:
        return " ".join(
            f"{_f(x)},{_f(y)}"
            for x, y in (point(a, _radius(v, outer)) for a, v in zip(angles, values, strict=True))
        )

    title = trc(lang, "chart", "Stage scores (radar)")
    not_assessed = trc(lang, "chart", "not assessed")
    parts = [_open(width, height, title, lang, "radar", font_family)]
    for level in _LEVELS:
        ring = polygon([level] * n)
        parts.append(f'<polygon points="{ring}" fill="none" stroke="{NEUTRAL}" stroke-width="1"/>')
    for angle, axis in zip(angles, axes, strict=True):
        x, y = point(angle, outer)
        spoke = f'stroke="{NEUTRAL}"'
        if axis.value is None:  # not assessed: a dotted spoke, with no point on it (below)
            spoke = f'stroke="{MUTED}" stroke-dasharray="2 3"'
        parts.append(
            f'<line x1="{_f(cx)}" y1="{_f(cy)}" x2="{_f(x)}" y2="{_f(y)}" {spoke} '
            'stroke-width="1"/>'
        )
    for level in _LEVELS[1::2]:
        _, y = point(angles[0], _radius(level, outer))
        parts.append(_text(cx + 3, y - 2, _score(level), anchor="start", size=8, fill=MUTED))
    references = [axis.reference for axis in axes]
    if reference_label and all(ref is not None for ref in references):
        parts.append(
            f'<polygon points="{polygon([r for r in references if r is not None])}" '
            f'fill="none" stroke="{ACCENT}" stroke-width="1.5" stroke-dasharray="5 3"/>'
        )
    elif reference_label and any(ref is not None for ref in references):
        # Some axes have no reference (a stage not scored: the rung asks nothing of it): the
        # dashed line joins only neighbouring axes that have one.
        segments = []
        for index, (angle, ref) in enumerate(zip(angles, references, strict=True)):
            following = (index + 1) % n
            after = references[following]
            if ref is None or after is None:
                continue
            x1, y1 = point(angle, _radius(ref, outer))
            x2, y2 = point(angles[following], _radius(after, outer))
            segments.append(f"M{_f(x1)} {_f(y1)} L{_f(x2)} {_f(y2)}")
        if segments:
            parts.append(
                f'<path d="{" ".join(segments)}" fill="none" stroke="{ACCENT}" '
                f'stroke-width="1.5" stroke-dasharray="5 3"/>'
            )
    # The shape joins the scored stages only: a stage not assessed drawn at the centre read
    # as a score of nothing.
    scored = " ".join(
        f"{_f(x)},{_f(y)}"
        for x, y in (
            point(angle, _radius(axis.value, outer))
            for angle, axis in zip(angles, axes, strict=True)
            if axis.value is not None
        )
    )
    if scored:
        parts.append(
            f'<polygon points="{scored}" fill="{PRIMARY}" fill-opacity="0.22" '
            f'stroke="{PRIMARY}" stroke-width="2"/>'
        )
    for angle, axis in zip(angles, axes, strict=True):
        if axis.value is None:
            continue
        x, y = point(angle, _radius(axis.value, outer))
        parts.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3" fill="{PRIMARY}"/>')
    for angle, axis in zip(angles, axes, strict=True):
        x, y = point(angle, outer + 14)
        cos, sin = math.cos(angle), math.sin(angle)
        anchor = "start" if cos > 0.3 else "end" if cos < -0.3 else "middle"
        dy = -14.0 if sin < -0.3 else 10.0 if sin > 0.3 else -2.0
        # A stage with no score is not assessed (it counts towards neither the overall score
        # nor the rung): said in words, not a dash that reads as a score of nothing.
        score = not_assessed if axis.value is None else _score(axis.value)
        parts.append(
            _text(x, y + dy, axis.label, anchor=anchor, size=11, weight="bold", css_class="label")
        )
        parts.append(
            _text(
                x,
                y + dy + 14,
                score,
                anchor=anchor,
                size=11,
                fill=MUTED if axis.value is None else PRIMARY,
                css_class="value",
            )
        )
    legend_y = height - 14
    parts.append(
        f'<rect x="20" y="{_f(legend_y - 9)}" width="14" height="10" fill="{PRIMARY}" '
        f'fill-opacity="0.4" stroke="{PRIMARY}"/>'
    )
    parts.append(_text(40, legend_y, series_label, anchor="start", size=10))
    if reference_label and any(ref is not None for ref in references):
        parts.append(
            f'<line x1="250" y1="{_f(legend_y - 4)}" x2="266" y2="{_f(legend_y - 4)}" '
            f'stroke="{ACCENT}" stroke-width="1.5" stroke-dasharray="5 3"/>'
        )
        parts.append(_text(272, legend_y, reference_label, anchor="start", size=10))
    parts.append("</svg>")
    return Markup("".join(parts))


def stage_bars_svg(
    axes: Sequence[RadarAxis], *, lang: str, series_label: str, font_family: str = FONT
) -> Markup:
    """Horizontal bars of stage scores on the ladder scale (for one or two stages)."""
    width = 480
    row = 34
    left, right, top = 130.0, 50.0, 24.0
    height = int(top + row * max(len(axes), 1) + 20)
    span = width - left - right
    title = trc(lang, "chart", "Stage scores")
    parts = [_open(width, height, title, lang, "stage-bars", font_family)]

    def x_of(value: float) -> float:
        return left + span * (min(max(value, _LOW), _HIGH) - _LOW) / (_HIGH - _LOW)

    for level in _LEVELS:
        x = x_of(level)
        parts.append(
            f'<line x1="{_f(x)}" y1="{_f(top - 6)}" x2="{_f(x)}" y2="{_f(height - 16)}" '
            f'stroke="{NEUTRAL}" stroke-width="1"/>'
        )
        parts.append(_text(x, top - 10, _score(level), size=8, fill=MUTED))
    for index, axis in enumerate(axes):
        y = top + index * row
        parts.append(
            _text(
                left - 8,
                y + 16,
                axis.label,
                anchor="end",
                size=11,
                weight="bold",
                css_class="label",
            )
        )
        if axis.value is None:
            not_assessed = trc(lang, "chart", "not assessed")
            parts.append(
                _text(left + 4, y + 16, not_assessed, anchor="start", fill=MUTED, css_class="value")
            )
            continue
        end = max(x_of(axis.value), left + 2)
        parts.append(
            f'<rect x="{_f(left)}" y="{_f(y + 5)}" width="{_f(end - left)}" height="16" '
            f'fill="{PRIMARY}" fill-opacity="0.8"/>'
        )
        parts.append(
            _text(
                end + 4,
                y + 17,
                _score(axis.value),
                anchor="start",
                size=10,
                fill=PRIMARY,
                css_class="value",
            )
        )
    parts.append(_text(left, height - 4, series_label, anchor="start", size=9, fill=MUTED))
    parts.append("</svg>")
    return Markup("".join(parts))


# --- trend -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One submission: its day (labelled in the reader's form, the year where it changes:
    ``app.kit.dates.axis_days``) or a label of its own, its overall score (None if nothing
    scored) and rung."""

    label: date | str
    overall: float | None
    rung: float


def trend_svg(points: Sequence[TrendPoint], *, lang: str, font_family: str = FONT) -> Markup:
    """Overall score (line with dots) and rung (dashed steps) over submissions, oldest first,
    against the ladder's rungs. Shows at most the last eight points."""
    shown = list(points)[-8:]
    days = [point.label for point in shown if isinstance(point.label, date)]
    labels = (
        axis_days(days, lang) if len(days) == len(shown) else [str(point.label) for point in shown]
    )
    width, height = 560, 230
    left, right, top, bottom = 96.0, 24.0, 16.0, 40.0
    plot_w, plot_h = width - left - right, height - top - bottom
    title = trc(lang, "chart", "Score trend over assessments")
    parts = [_open(width, height, title, lang, "trend", font_family)]

    def y_of(value: float) -> float:
        return top + plot_h * (1 - (min(max(value, _LOW), _HIGH) - _LOW) / (_HIGH - _LOW))

    def x_of(index: int) -> float:
        if len(shown) == 1:
            return left + plot_w / 2
        return left + 20 + (plot_w - 40) * index / (len(shown) - 1)

    for level in _LEVELS:
        y = y_of(level)
        parts.append(
            f'<line x1="{_f(left)}" y1="{_f(y)}" x2="{_f(width - right)}" y2="{_f(y)}" '
            f'stroke="{NEUTRAL}" stroke-width="1"/>'
        )
        parts.append(
            _text(left - 6, y + 4, f"{_score(level)} {_rung_name(level, lang)}", anchor="end",
                  size=9, fill=MUTED)
        )  # fmt: skip
    if not shown:
        empty = trc(lang, "chart", "No submitted assessment yet")
        parts.append(_text(left + plot_w / 2, top + plot_h / 2, empty, fill=MUTED))
        parts.append("</svg>")
        return Markup("".join(parts))
    # The rung as a dashed step line: it holds until the next submission.
    steps: list[str] = []
    for index, point in enumerate(shown):
        x, y = x_of(index), y_of(point.rung)
        steps.append(f"M{_f(x)} {_f(y)}" if index == 0 else f"H{_f(x)} V{_f(y)}")
    if len(shown) > 1:
        parts.append(
            f'<path d="{" ".join(steps)}" fill="none" stroke="{ACCENT}" stroke-width="1.5" '
            f'stroke-dasharray="5 3"/>'
        )
    scored = [(i, p.overall) for i, p in enumerate(shown) if p.overall is not None]
    if len(scored) > 1:
        line = " ".join(f"{_f(x_of(i))},{_f(y_of(v))}" for i, v in scored)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{PRIMARY}" stroke-width="2"/>')
    for index, point in enumerate(shown):
        x = x_of(index)
        parts.append(
            f'<rect x="{_f(x - 3)}" y="{_f(y_of(point.rung) - 3)}" width="6" height="6" '
            f'fill="{ACCENT}"/>'
        )
        if point.overall is not None:
            y = y_of(point.overall)
            parts.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="4" fill="{PRIMARY}"/>')
            parts.append(
                _text(
                    x,
                    y - 8,
                    _score(point.overall),
                    size=10,
                    weight="bold",
                    fill=PRIMARY,
                    css_class="value",
                )
            )
        parts.append(_text(x, height - bottom + 16, labels[index], size=9, fill=MUTED))
    legend_y = height - 6
    overall_label = trc(lang, "chart", "Overall score")
    rung_label = trc(lang, "chart", "Rung")
    parts.append(f'<circle cx="{_f(left + 4)}" cy="{_f(legend_y - 4)}" r="4" fill="{PRIMARY}"/>')
    parts.append(_text(left + 12, legend_y, overall_label, anchor="start", size=9))
    parts.append(
        f'<rect x="{_f(left + 101)}" y="{_f(legend_y - 7)}" width="6" height="6" fill="{ACCENT}"/>'
    )
    parts.append(_text(left + 112, legend_y, rung_label, anchor="start", size=9))
    parts.append("</svg>")
    return Markup("".join(parts))


def as_float(value: object) -> float | None:
    """A stored score (JSON number, Decimal or string) as a float; None stays None."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return float(str(value))
