"""Publications: every table of every cut and scope, built from the aggregates through
:func:`perturbation.publish_table` and stored, so that officials read only what was published
(issue #16: no submission, verification change or deletion shows before the next publication).

Rules:

* A publication stores, for every questionnaire, the current quarter's tables (every cut,
  city-wide and for each district), and the tables of every *closed* quarter that has not been
  published since it ended. A closed quarter is published once, by the first publication after
  its end, and never again: later verifications, moves or deletions do not change it.
* Requests read the newest stored table of their (questionnaire, quarter, cut, scope) that
  belongs to the latest publication or an earlier one: one primary-key range read.
* The worker publishes once a day at ``HEATMAP_PUBLISH_AT`` (China Standard Time);
  ``zhizao heatmaps publish`` publishes at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.heatmaps import perturbation, quarters
from app.heatmaps.cuts import CUTS, Cut
from app.heatmaps.disclosure import TOTAL
from app.heatmaps.perturbation import Parameters, PublishedCell, PublishedTable
from app.heatmaps.repository import HeatmapRepository
from app.heatmaps.tables import Built, build
from app.kit.clock import utcnow
from app.kit.db import Database
from app.kit.reference import DISTRICTS
from app.kit.schedule import PeriodicJob, daily
from app.kit.settings import Settings
from app.models import HeatmapPublication, HeatmapPublishedTable
from app.questionnaires.catalog import QuestionnaireCatalog

logger = logging.getLogger("zhizao.heatmaps")
#: The scope of city-wide tables.
CITY = ""


def parameters_of(settings: Settings) -> Parameters:
    return Parameters(min_cell=settings.HEATMAP_MIN_CELL)


# --- stored form ------------------------------------------------------------------------------


def _stored_cell(cell: PublishedCell) -> Any:
    """A cell as stored: None (empty), "x" (suppressed), or [count, band, mean, shares at each
    rung threshold, share of row]. The perturbed count stays on the server."""
    if cell.state == "empty":
        return None
    if cell.state == "suppressed":
        return "x"
    return [
        cell.count,
        cell.band,
        None if cell.mean is None else str(cell.mean),
        [cell.shares[t] for t in sorted(cell.shares)] if cell.shares else None,
        cell.share_of_row,
    ]


def payload_of(table: PublishedTable) -> dict[str, Any]:
    rows, cols = [*table.rows, TOTAL], [*table.cols, TOTAL]
    return {
        "rows": [str(r) for r in table.rows],
        "cols": [str(c) for c in table.cols],
        "cells": [[_stored_cell(table.cell(r, c)) for c in cols] for r in rows],
    }


# --- publishing -------------------------------------------------------------------------------


@dataclass(slots=True)
class Report:
    publication_id: int = 0
    published_at: datetime | None = None
    tables: int = 0
    quarters: list[str] = field(default_factory=list)


def _scopes() -> list[str | None]:
    return [None, *DISTRICTS]


def _publish_quarter(
    repository: HeatmapRepository,
    catalog_entry: Any,
    quarter: int,
    parameters: Parameters,
) -> list[tuple[Cut, str, dict[str, Any]]]:
    tables: list[tuple[Cut, str, dict[str, Any]]] = []
    for cut in CUTS.values():
        for district in _scopes():
            built: Built = build(repository, catalog_entry, cut, quarter, district)
            published = perturbation.publish_table(
                built.rows,
                built.cols,
                built.tallies,
                parameters,
                distribution=cut.distribution,
            )
            tables.append((cut, district or CITY, payload_of(published)))
    return tables


def publish(
    session: Session,
    catalog: QuestionnaireCatalog,
    parameters: Parameters,
    now: datetime | None = None,
) -> Report:
    """Build and store a publication (the caller commits): the current quarter, and every closed
    quarter not yet published since its end."""
    now = now or utcnow()
    repository = HeatmapRepository(session)
    current = quarters.quarter_of(now)
    # Build every table first (reads only), then write them in one short transaction: on SQLite
    # the write lock is held for the inserts, not for the whole build.
    built: list[tuple[str, int, Cut, str, dict[str, Any]]] = []
    report = Report(published_at=now)
    for questionnaire in catalog.latest():
        recorded = repository.quarters(questionnaire.id)
        first = min([*recorded, current])
        due = [current]
        quarter = quarters.previous(current)
        while quarter >= first:
            if not repository.closed_published(questionnaire.id, quarter):
                due.append(quarter)
            quarter = quarters.previous(quarter)
        for quarter in due:
            built.extend(
                (questionnaire.id, quarter, cut, scope, payload)
                for cut, scope, payload in _publish_quarter(
                    repository, questionnaire, quarter, parameters
                )
            )
            report.quarters.append(f"{questionnaire.id} {quarters.label(quarter)}")
    publication = HeatmapPublication(
        published_at=now,
        parameters={
            "min_cell": parameters.min_cell,
            "count_max_noise": parameters.count_max_noise,
            "count_variance": parameters.count_variance,
            "sum_bound": parameters.sum_bound,
        },
        includes_synthetic=repository.includes_synthetic(),
        tables=len(built),
    )
    repository.add_publication(publication)
    repository.add_published_tables(
        [
            HeatmapPublishedTable(
                questionnaire_id=qid,
                quarter=quarter,
                cut=cut.id,
                scope=scope,
                publication_id=publication.id,
                closed=quarter < current,
                payload=payload,
            )
            for qid, quarter, cut, scope, payload in built
        ]
    )
    report.publication_id = publication.id
    report.tables = len(built)
    return report


# --- schedule ---------------------------------------------------------------------------------


class HeatmapPublisher(PeriodicJob):
    """The worker's job: publish once a day at ``HEATMAP_PUBLISH_AT`` (China Standard Time),
    once across every worker (``app.kit.schedule``). A publication made since the period began
    (``zhizao heatmaps publish``) counts: the period is then done without another."""

    def __init__(self, database: Database, settings: Settings, catalog: QuestionnaireCatalog):
        def work(session: Session, period: datetime) -> int:
            latest = HeatmapRepository(session).latest_publication()
            if latest is not None and latest.published_at >= period:
                return 0
            report = publish(session, catalog, parameters_of(settings))
            logger.info("published heatmaps: %s tables", report.tables)
            return report.tables

        super().__init__(
            database,
            "heatmap publication",
            daily(settings.HEATMAP_PUBLISH_AT),
            work,
            timedelta(seconds=settings.PERIODIC_LEASE_SECONDS),
        )
