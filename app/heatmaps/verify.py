"""``zhizao aggregates verify`` and ``rebuild``: recompute the aggregates from the raw rows
(enterprises, submitted assessments, results) and compare them with, or write them over, the
incrementally maintained tables.

Streams the raw rows in (firm, questionnaire, submission time) order, so memory holds one firm at
a time plus the cell sums (a few tens of thousands of keys at any size).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.heatmaps import perturbation, quarters, sums
from app.heatmaps.repository import HeatmapRepository, table_of
from app.heatmaps.upkeep import contribution_of
from app.models import HeatmapCell, HeatmapContribution, HeatmapStageCell


@dataclass(frozen=True, slots=True)
class Expected:
    """One firm's expected contribution row, as recomputed from raw rows."""

    enterprise_id: uuid.UUID
    questionnaire_id: str
    quarter: int
    assessment_id: uuid.UUID
    submitted_at: datetime
    contribution: sums.Contribution


@dataclass(slots=True)
class Report:
    firms: int = 0
    submissions: int = 0
    contributions: int = 0
    cells: int = 0
    stage_cells: int = 0
    differences: list[str] = field(default_factory=list)
    difference_count: int = 0

    def differ(self, text: str, limit: int = 200) -> None:
        self.difference_count += 1
        if len(self.differences) < limit:
            self.differences.append(text)


def _expected_by_firm(
    repository: HeatmapRepository,
) -> Iterator[tuple[uuid.UUID, bool, list[Expected], int]]:
    """Per firm (in id order): verified flag, its expected contribution rows, submissions seen."""
    for enterprise_id, rows_iter in groupby(repository.raw_submissions(), key=lambda r: r[0]):
        rows = list(rows_iter)
        verified = bool(rows[0][1])
        latest: dict[tuple[str, int], tuple[Any, ...]] = {}
        for row in rows:  # ordered by submission time: the last of a quarter wins
            latest[(row[5], quarters.quarter_of(row[7]))] = row
        expected = [
            Expected(
                enterprise_id=enterprise_id,
                questionnaire_id=qid,
                quarter=quarter,
                assessment_id=row[6],
                submitted_at=row[7],
                contribution=sums.Contribution(
                    district_code=row[2],
                    industry_code=row[3],
                    size_class=row[4],
                    overall_c=None if row[8] is None else sums.centi(row[8]),
                    rung_c=sums.centi(row[9]),
                    stages={k: sums.centi(v) for k, v in (row[10] or {}).items()},
                    count_key=perturbation.count_key(row[11]),
                    submission_key=perturbation.submission_key(row[11], str(row[6])),
                ),
            )
            for (qid, quarter), row in sorted(latest.items())
        ]
        yield enterprise_id, verified, expected, len(rows)


def _timeline(changes: sums.Changes, expected: list[Expected]) -> None:
    by_questionnaire: dict[str, list[tuple[int, sums.Contribution]]] = {}
    for item in expected:
        by_questionnaire.setdefault(item.questionnaire_id, []).append(
            (item.quarter, item.contribution)
        )
    for qid, timeline in by_questionnaire.items():
        changes.timeline(qid, timeline, +1)


def verify(session: Session) -> Report:
    """Every difference between the maintained aggregates and a recomputation from raw rows."""
    repository = HeatmapRepository(session)
    report = Report()
    expected_changes = sums.Changes()
    stored_iter = groupby(repository.stored_contributions(), key=lambda r: r.enterprise_id)
    pending = next(stored_iter, None)

    def take_stored(enterprise_id: uuid.UUID | None) -> list[HeatmapContribution]:
        """Stored rows of this firm; stored rows of firms before it have no raw rows."""
        nonlocal pending
        while pending is not None and (enterprise_id is None or pending[0].int < enterprise_id.int):
            for row in pending[1]:
                report.differ(
                    f"contribution {row.enterprise_id} {row.questionnaire_id} "
                    f"{quarters.label(row.quarter)}: stored, but the firm has no such submission"
                )
            pending = next(stored_iter, None)
        if pending is not None and enterprise_id is not None and pending[0] == enterprise_id:
            rows = list(pending[1])
            pending = next(stored_iter, None)
            return rows
        return []

    for enterprise_id, verified, expected, submissions in _expected_by_firm(repository):
        report.firms += 1
        report.submissions += submissions
        report.contributions += len(expected)
        stored = {(r.questionnaire_id, r.quarter): r for r in take_stored(enterprise_id)}
        for item in expected:
            row = stored.pop((item.questionnaire_id, item.quarter), None)
            where = (
                f"contribution {enterprise_id} {item.questionnaire_id} "
                f"{quarters.label(item.quarter)}"
            )
            if row is None:
                report.differ(f"{where}: missing (latest submission {item.assessment_id})")
                continue
            if row.assessment_id != item.assessment_id:
                report.differ(
                    f"{where}: counts assessment {row.assessment_id}, expected {item.assessment_id}"
                )
            if contribution_of(row) != item.contribution:
                report.differ(
                    f"{where}: stored {contribution_of(row)}, expected {item.contribution}"
                )
        for row in stored.values():
            report.differ(
                f"contribution {enterprise_id} {row.questionnaire_id} "
                f"{quarters.label(row.quarter)}: stored, but the firm has no such submission"
            )
        if verified:
            _timeline(expected_changes, expected)
    take_stored(None)

    cells, stage_cells = expected_changes.nonzero()
    report.cells = _compare(report, "cell", sums.CELL_COLUMNS, repository.stored_cells(), cells)
    report.stage_cells = _compare(
        report, "stage cell", sums.STAGE_COLUMNS, repository.stored_stage_cells(), stage_cells
    )
    return report


def _compare(
    report: Report,
    what: str,
    columns: tuple[str, ...],
    stored: Iterable[tuple[Any, tuple[int, ...]]],
    expected: dict[Any, list[int]],
) -> int:
    """Report every stored row that differs from the recomputation, and every missing one;
    returns how many non-empty rows are stored."""
    count = 0
    for key, values in stored:
        want = expected.pop(key, None)
        if want is None and not any(values):
            continue
        count += 1
        if want is None or tuple(want) != values:
            report.differ(
                f"{what} {key}: stored {dict(zip(columns, values, strict=True))}, "
                f"expected {_named(columns, want)}"
            )
    for key, want in expected.items():
        report.differ(f"{what} {key}: missing, expected {_named(columns, want)}")
    return count


def _named(columns: tuple[str, ...], values: list[int] | None) -> dict[str, int]:
    return dict(zip(columns, values or [0] * len(columns), strict=True))


def rebuild(session: Session, batch: int = 20_000) -> Report:
    """Replace the aggregates by a recomputation from raw rows (the caller commits)."""
    repository = HeatmapRepository(session)
    repository.clear()
    report = Report()
    changes = sums.Changes()
    buffer: list[dict[str, Any]] = []
    contribution_table = table_of(HeatmapContribution)
    for _enterprise_id, verified, expected, submissions in _expected_by_firm(repository):
        report.firms += 1
        report.submissions += submissions
        report.contributions += len(expected)
        buffer.extend(
            {
                "enterprise_id": item.enterprise_id,
                "questionnaire_id": item.questionnaire_id,
                "quarter": item.quarter,
                "assessment_id": item.assessment_id,
                "submitted_at": item.submitted_at,
                "district_code": item.contribution.district_code,
                "industry_code": item.contribution.industry_code,
                "size_class": item.contribution.size_class,
                "overall_c": item.contribution.overall_c,
                "rung_c": item.contribution.rung_c,
                "stages": dict(item.contribution.stages),
                "count_key": item.contribution.count_key,
                "submission_key": item.contribution.submission_key,
            }
            for item in expected
        )
        if verified:
            _timeline(changes, expected)
        if len(buffer) >= batch:
            session.execute(insert(contribution_table), buffer)
            buffer = []
    if buffer:
        session.execute(insert(contribution_table), buffer)
    cells, stage_cells = changes.nonzero()
    if cells:
        session.execute(
            insert(table_of(HeatmapCell)),
            [
                {
                    **dict(zip(sums.CELL_KEY, k, strict=True)),
                    **dict(zip(sums.CELL_COLUMNS, v, strict=True)),
                }
                for k, v in cells.items()
            ],
        )
    if stage_cells:
        session.execute(
            insert(table_of(HeatmapStageCell)),
            [
                {
                    **dict(zip(sums.STAGE_KEY, k, strict=True)),
                    **dict(zip(sums.STAGE_COLUMNS, v, strict=True)),
                }
                for k, v in stage_cells.items()
            ],
        )
    report.cells, report.stage_cells = len(cells), len(stage_cells)
    return report
