"""What one firm's contribution adds to the cells, and change sets of cell sums (pure: no DB).

Used by the submit-time upkeep, the verification hooks, the bulk demo seeder and
``zhizao aggregates verify``, so all four agree on what a contribution is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

#: Rung thresholds in hundredths; ``ge_300`` counts firms at or above 3.00, and so on.
RUNG_THRESHOLDS = (300, 325, 350, 375, 400)
RUNG_COLUMNS = tuple(f"ge_{t}" for t in RUNG_THRESHOLDS)
#: Sums of record keys (app/heatmaps/perturbation.py): of the firms counted, of the submissions
#: whose scores are summed, of the firms at or above each rung.
KEY_COLUMNS = ("count_key", "value_key", *(f"{c}_key" for c in RUNG_COLUMNS))
CELL_COLUMNS = ("firms", "scored", "overall_sum", *RUNG_COLUMNS, *KEY_COLUMNS)
STAGE_COLUMNS = ("firms", "score_sum", *RUNG_COLUMNS, *KEY_COLUMNS)
CELL_KEY = ("questionnaire_id", "quarter", "district_code", "industry_code", "size_class")
STAGE_KEY = (*CELL_KEY, "stage_id")

#: The quarter key of the rows that hold each cell's current state (the sum of all its
#: quarterly changes), so that the current quarter, the usual view, reads one row per cell.
CURRENT = 0

CellKey = tuple[str, int, str, str, str]
StageKey = tuple[str, int, str, str, str, str]


def centi(value: Any) -> int:
    """A score rounded to 2 dp (as stored) in hundredths, exactly."""
    return int((Decimal(str(value)) * 100).to_integral_value())


@dataclass(frozen=True, slots=True)
class Contribution:
    """A firm's counted state for one questionnaire: its cut dimensions and its scores."""

    district_code: str
    industry_code: str
    size_class: str
    overall_c: int | None
    rung_c: int
    stages: Mapping[str, int]
    #: The firm's count key and the submission's key (perturbation.count_key, submission_key).
    count_key: int
    submission_key: int

    def _keys(self, level_c: int, valued: bool) -> tuple[int, ...]:
        return (
            self.count_key,
            self.submission_key if valued else 0,
            *(self.count_key if level_c >= t else 0 for t in RUNG_THRESHOLDS),
        )

    def cell(self) -> tuple[int, ...]:
        scored = self.overall_c is not None
        return (
            1,
            int(scored),
            self.overall_c or 0,
            *(int(self.rung_c >= t) for t in RUNG_THRESHOLDS),
            *self._keys(self.rung_c, scored),
        )

    def stage_cells(self) -> Iterator[tuple[str, tuple[int, ...]]]:
        for stage_id, value in self.stages.items():
            yield (
                stage_id,
                (1, value, *(int(value >= t) for t in RUNG_THRESHOLDS), *self._keys(value, True)),
            )


class Changes:
    """Accumulated signed changes to cell rows, keyed like the tables' primary keys."""

    def __init__(self) -> None:
        self.cells: dict[CellKey, list[int]] = {}
        self.stage_cells: dict[StageKey, list[int]] = {}

    def add(
        self, questionnaire_id: str, quarter: int, contribution: Contribution | None, sign: int
    ) -> None:
        if contribution is None:
            return
        cell = contribution.cell()
        stage_cells = list(contribution.stage_cells())
        for row_quarter in (quarter, CURRENT):
            key: CellKey = (
                questionnaire_id,
                row_quarter,
                contribution.district_code,
                contribution.industry_code,
                contribution.size_class,
            )
            _accumulate(self.cells, key, cell, sign)
            for stage_id, values in stage_cells:
                _accumulate(self.stage_cells, (*key, stage_id), values, sign)

    def replace(
        self,
        questionnaire_id: str,
        quarter: int,
        old: Contribution | None,
        new: Contribution | None,
        next_quarter: int | None,
    ) -> None:
        """The firm's state from ``quarter`` on changes from ``old`` to ``new``, up to its next
        recorded quarter (if any), where its later state takes over again."""
        self.add(questionnaire_id, quarter, new, +1)
        self.add(questionnaire_id, quarter, old, -1)
        if next_quarter is not None:
            self.add(questionnaire_id, next_quarter, old, +1)
            self.add(questionnaire_id, next_quarter, new, -1)

    def timeline(
        self, questionnaire_id: str, rows: Iterable[tuple[int, Contribution]], sign: int
    ) -> None:
        """Add (sign +1) or remove (−1) a firm's whole timeline: at each recorded quarter its state
        replaces the previous one."""
        previous: Contribution | None = None
        for quarter, contribution in sorted(rows, key=lambda item: item[0]):
            self.add(questionnaire_id, quarter, contribution, sign)
            self.add(questionnaire_id, quarter, previous, -sign)
            previous = contribution

    def merge(self, other: Changes) -> None:
        for key, values in other.cells.items():
            _accumulate(self.cells, key, values, 1)
        for skey, values in other.stage_cells.items():
            _accumulate(self.stage_cells, skey, values, 1)

    def nonzero(self) -> tuple[dict[CellKey, list[int]], dict[StageKey, list[int]]]:
        return (
            {k: v for k, v in self.cells.items() if any(v)},
            {k: v for k, v in self.stage_cells.items() if any(v)},
        )

    def __bool__(self) -> bool:
        cells, stages = self.nonzero()
        return bool(cells or stages)


def _accumulate(target: dict[Any, list[int]], key: Any, values: Iterable[int], sign: int) -> None:
    current = target.get(key)
    if current is None:
        target[key] = [sign * v for v in values]
    else:
        for index, value in enumerate(values):
            current[index] += sign * value
