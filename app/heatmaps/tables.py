"""The tables of each cut, as cell sums with their keys (``perturbation.Tally``), built from the
aggregates: what a publication perturbs and stores. Every cell and margin is a sum of its firms'
contributions (margins are never built from perturbed cells)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.heatmaps import quarters
from app.heatmaps.cuts import RUNG_KEYS, SIZE_CLASSES, TREND_QUARTERS, Cut
from app.heatmaps.disclosure import TOTAL, Key
from app.heatmaps.perturbation import OVERALL, Tally, exact_rung_tallies, stage_measure
from app.heatmaps.repository import DIMENSIONS, HeatmapRepository
from app.heatmaps.sums import RUNG_THRESHOLDS
from app.kit.reference import DISTRICTS
from scoring import Questionnaire

_RUNGS = len(RUNG_THRESHOLDS)


def _tally(measure: str, n: int, valued: int, total: int, rest: list[int]) -> Tally:
    """``rest``: the ``ge_*`` counts, then the key sums (``sums.KEY_COLUMNS``)."""
    ge, keys = rest[:_RUNGS], rest[_RUNGS:]
    return Tally(
        measure,
        n=n,
        count_key=keys[0],
        valued=valued,
        value_sum=total,
        value_key=keys[1],
        at_least=ge,
        at_least_key=keys[2:],
    )


def _cell_tally(values: Sequence[Any]) -> Tally:
    """A row of ``CELL_COLUMNS`` sums (firms, scored, overall_sum, ge_*, keys) as a tally."""
    firms, scored, total, *rest = (int(x or 0) for x in values)
    return _tally(OVERALL, firms, scored, total, rest)


def _stage_tally(stage_id: str, values: Sequence[Any]) -> Tally:
    """A row of ``STAGE_COLUMNS`` sums (firms, score_sum, ge_*, keys) as a tally."""
    firms, total, *rest = (int(x or 0) for x in values)
    return _tally(stage_measure(stage_id), firms, firms, total, rest)


@dataclass(slots=True)
class Built:
    rows: list[str]
    cols: list[str]
    tallies: dict[Key, Tally] = field(default_factory=dict)

    def add(self, key: Key, tally: Tally) -> None:
        found = self.tallies.get(key)
        if found is None:
            self.tallies[key] = Tally(tally.measure, count_purpose=tally.count_purpose)
            found = self.tallies[key]
        found.merge(tally)

    def margins(self, row_margins: dict[str, Tally] | None = None) -> None:
        """Column margins (and row margins, unless given) and the grand total, as sums."""
        for (row, col), tally in list(self.tallies.items()):
            if row == TOTAL or col == TOTAL:
                continue
            self.add((TOTAL, col), tally)
            if row_margins is None:
                self.add((row, TOTAL), tally)
        if row_margins is not None:
            for row, tally in row_margins.items():
                if tally.n:
                    self.tallies[(row, TOTAL)] = tally
        for row in self.rows:
            margin = self.tallies.get((row, TOTAL))
            if margin is not None:
                self.add((TOTAL, TOTAL), margin)


def _row_keys(dimension: str, present: set[str], district: str | None) -> list[str]:
    if dimension == "district":
        return [district] if district is not None else list(DISTRICTS)
    if dimension == "size":
        return list(SIZE_CLASSES)
    return sorted(present)  # industries with firms in scope


def build(
    repository: HeatmapRepository,
    questionnaire: Questionnaire,
    cut: Cut,
    quarter: int,
    district: str | None,
) -> Built:
    """One cut's table for one scope (``district``; None: city-wide) as of ``quarter``'s end."""
    qid = questionnaire.id
    row_col = DIMENSIONS[cut.rows]
    if cut.cols == "stage":
        stage_ids = [s.id for s in questionnaire.stages]
        overall = {
            str(r[0]): _cell_tally(r[1:])
            for r in repository.sums("cell", qid, quarter, [row_col], district=district)
        }
        present = {r for r, tally in overall.items() if tally.n > 0}
        built = Built(_row_keys(cut.rows, present, district), stage_ids)
        for r in repository.sums("stage", qid, quarter, [row_col, "stage_id"], district=district):
            if r[1] in stage_ids and str(r[0]) in built.rows:
                built.add((str(r[0]), str(r[1])), _stage_tally(str(r[1]), r[2:]))
        built.margins({r: overall[r] for r in built.rows if r in overall})
        return built
    if cut.cols == "industry":
        grouped = repository.sums(
            "cell", qid, quarter, [row_col, "industry_code"], district=district
        )
        built = Built(
            _row_keys(cut.rows, set(), district),
            sorted({str(r[1]) for r in grouped if int(r[2] or 0) > 0}),
        )
        for r in grouped:
            if str(r[0]) in built.rows and str(r[1]) in built.cols:
                built.add((str(r[0]), str(r[1])), _cell_tally(r[2:]))
        built.margins()
        return built
    if cut.cols == "rung":
        built = Built(_row_keys(cut.rows, set(), district), list(RUNG_KEYS))
        margins: dict[str, Tally] = {}
        for r in repository.sums("cell", qid, quarter, [row_col], district=district):
            if str(r[0]) not in built.rows:
                continue
            tally = _cell_tally(r[1:])
            margins[str(r[0])] = tally
            for key, rung_tally in zip(RUNG_KEYS, exact_rung_tallies(tally), strict=True):
                if rung_tally.n:
                    built.add((str(r[0]), key), rung_tally)
        built.margins(margins)
        return built
    # quarterly trend: cumulative changes up to each quarter shown
    shown = quarters.last_n(quarter, TREND_QUARTERS)
    changes: dict[str, dict[int, Tally]] = {}
    for r in repository.sums("cell", qid, quarter, [row_col], district=district, by_quarter=True):
        changes.setdefault(str(r[0]), {})[int(r[1])] = _cell_tally(r[2:])
    built = Built(_row_keys(cut.rows, set(), district), [quarters.label(q) for q in shown])
    for key, by_quarter in changes.items():
        if key not in built.rows:
            continue
        for column in shown:
            cumulative = Tally(OVERALL)
            for q, tally in by_quarter.items():
                if q <= column:
                    cumulative.merge(tally)
            if cumulative.n:
                built.tallies[(key, quarters.label(column))] = cumulative
    label = quarters.label(quarter)
    built.margins({r: t for r in built.rows if (t := built.tallies.get((r, label))) is not None})
    return built
