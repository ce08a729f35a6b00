"""Inline SVG charts for the pages: the ladder, the stage radar and the trend line.

Pure functions from numbers to SVG text (no dependencies), so that the same drawing serves the
browser and could serve the PDF. Every chart has ``role="img"``, a ``<title>`` and text labels:
the values are always written out, never told by colour alone. No ``style`` attributes (the CSP
forbids inline styles): presentation attributes and classes from ``app.css`` only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

LADDER_MIN = Decimal("2.75")
LADDER_MAX = Decimal("4.00")
RUNG_LEVELS = tuple(Decimal("2.75") + Decimal("0.25") * i for i in range(6))


def _f(value: float) -> str:
    return f"{value:.1f}"


@dataclass(frozen=True, slots=True)
class RungLabel:
    level: Decimal
    name: str


def ladder(
    rungs: Sequence[RungLabel],
    current: Decimal,
    overall: Decimal | None,
    *,
    title: str,
    you_label: str,
) -> Markup:
    """A vertical ladder, 4.00 at the top; the current rung is drawn bold and marked with text."""
    width, row, top = 320, 44, 16
    height = top * 2 + row * (len(rungs) - 1)
    parts = [
        f'<svg class="chart ladder" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="ladder-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="ladder-title">{escape(title)}</title>',
        f'<line class="ladder-rail" x1="60" y1="{top}" x2="60" y2="{height - top}" />',
    ]
    ordered = sorted(rungs, key=lambda r: r.level, reverse=True)
    for index, rung in enumerate(ordered):
        y = top + index * row
        is_current = rung.level == current
        css = (
            "rung rung-current"
            if is_current
            else ("rung rung-reached" if rung.level < current else "rung rung-ahead")
        )
        parts.append(
            f'<g class="{css}"><line x1="40" y1="{y}" x2="80" y2="{y}" />'
            f'<circle cx="60" cy="{y}" r="{9 if is_current else 5}" />'
            f'<text x="92" y="{y + 5}">{rung.level:.2f} {escape(rung.name)}'
            + (f" ◀ {escape(you_label)}" if is_current else "")
            + "</text></g>"
        )
    if overall is not None:
        span = float(LADDER_MAX - LADDER_MIN)
        share = (float(max(min(overall, LADDER_MAX), LADDER_MIN)) - float(LADDER_MIN)) / span
        mark = top + (1 - share) * row * (len(rungs) - 1)
        parts.append(
            f'<g class="ladder-score"><polygon points="30,{_f(mark)} 20,{_f(mark - 6)} '
            f'20,{_f(mark + 6)}" /><text x="4" y="{_f(mark - 9)}">{overall:.2f}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def radar(axes: Sequence[tuple[str, Decimal | None]], *, title: str) -> Markup:
    """Stage scores on axes from 2.75 (centre) to 4.00 (rim), with rings at each rung and the
    score written at each axis. Fewer than three axes draw as bars instead."""
    size, centre, radius = 360, 180, 110
    n = len(axes)
    parts = [
        f'<svg class="chart radar" viewBox="0 0 {size} {size}" role="img" '
        f'aria-labelledby="radar-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="radar-title">{escape(title)}</title>',
    ]
    if n == 0:
        parts.append("</svg>")
        return Markup("".join(parts))

    def point(index: int, level: float) -> tuple[float, float]:
        share = (level - float(LADDER_MIN)) / float(LADDER_MAX - LADDER_MIN)
        angle = -math.pi / 2 + 2 * math.pi * index / n
        r = radius * max(0.0, min(1.0, share))
        return centre + r * math.cos(angle), centre + r * math.sin(angle)

    for level in RUNG_LEVELS[1:]:
        ring = " ".join(f"{_f(x)},{_f(y)}" for x, y in (point(i, float(level)) for i in range(n)))
        parts.append(f'<polygon class="radar-ring" points="{ring}" />')
    for index, (label, value) in enumerate(axes):
        x, y = point(index, float(LADDER_MAX))
        parts.append(
            f'<line class="radar-axis" x1="{centre}" y1="{centre}" x2="{_f(x)}" y2="{_f(y)}" />'
        )
        lx, ly = point(index, float(LADDER_MAX) + 0.45)
        anchor = "middle" if abs(lx - centre) < 10 else ("start" if lx > centre else "end")
        shown = "—" if value is None else f"{value:.2f}"
        parts.append(
            f'<text class="radar-label" x="{_f(lx)}" y="{_f(ly)}" text-anchor="{anchor}">'
            f'{escape(label)}</text><text class="radar-value" x="{_f(lx)}" y="{_f(ly + 16)}" '
            f'text-anchor="{anchor}">{shown}</text>'
        )
    shape = " ".join(
        f"{_f(x)},{_f(y)}"
        for x, y in (
            point(i, float(value if value is not None else LADDER_MIN))
            for i, (_, value) in enumerate(axes)
        )
    )
    parts.append(f'<polygon class="radar-shape" points="{shape}" />')
    for index, (_, value) in enumerate(axes):
        if value is not None:
            x, y = point(index, float(value))
            parts.append(f'<circle class="radar-dot" cx="{_f(x)}" cy="{_f(y)}" r="4" />')
    parts.append("</svg>")
    return Markup("".join(parts))


def trend(points: Sequence[tuple[str, Decimal | None]], *, title: str) -> Markup:
    """Overall score per submission, oldest first, each point labelled with its value."""
    width, height, left, right, top, bottom = 560, 240, 44, 16, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [
        f'<svg class="chart trend" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="trend-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="trend-title">{escape(title)}</title>',
    ]

    def y_of(level: float) -> float:
        share = (level - float(LADDER_MIN)) / float(LADDER_MAX - LADDER_MIN)
        return top + plot_h * (1 - max(0.0, min(1.0, share)))

    for level in RUNG_LEVELS:
        y = y_of(float(level))
        parts.append(
            f'<line class="trend-grid" x1="{left}" y1="{_f(y)}" x2="{width - right}" '
            f'y2="{_f(y)}" /><text class="trend-axis" x="{left - 6}" y="{_f(y + 4)}" '
            f'text-anchor="end">{level:.2f}</text>'
        )
    scored = [(label, value) for label, value in points if value is not None]
    count = len(scored)
    coords: list[tuple[float, float, str, Decimal]] = []
    for index, (label, value) in enumerate(scored):
        x = left + (plot_w / 2 if count == 1 else plot_w * index / (count - 1))
        coords.append((x, y_of(float(value)), label, value))
    if count > 1:
        line = " ".join(f"{_f(x)},{_f(y)}" for x, y, _, _ in coords)
        parts.append(f'<polyline class="trend-line" points="{line}" />')
    for x, y, label, value in coords:
        parts.append(
            f'<circle class="trend-dot" cx="{_f(x)}" cy="{_f(y)}" r="4" />'
            f'<text class="trend-value" x="{_f(x)}" y="{_f(y - 9)}" text-anchor="middle">'
            f"{value:.2f}</text>"
            f'<text class="trend-axis" x="{_f(x)}" y="{height - bottom + 18}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
