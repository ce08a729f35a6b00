"""Heatmap aggregates, kept up to date in the submit transaction (see app/heatmaps/upkeep.py).

Three tables:

* ``heatmap_contribution`` — per firm, questionnaire and quarter (Asia/Shanghai), the firm's
  latest submission in that quarter, with the firm's cut dimensions as they were counted. A
  firm's state "as of the end of quarter Q" is its row with the largest quarter ≤ Q.
* ``heatmap_cell`` and ``heatmap_stage_cell`` — running sums keyed by (questionnaire, quarter,
  district, industry, size class [, stage]). Each row holds the *change* of that cell in that
  quarter, so the cell's value as of quarter Q is the sum of its rows with quarter ≤ Q. A
  submission touches at most two quarters of a few cells; reading a heatmap touches only cell
  rows, however many firms and assessments there are.

Only verified firms are summed into the cells; contribution rows exist for every firm, so that
verifying a firm later can add it without scanning assessments.

Scores are stored in hundredths (``overall_c`` = round(overall, 2) × 100) so every sum is an
exact integer and ``zhizao aggregates verify`` can compare exactly.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType
from app.models.enterprise import Enterprise


class HeatmapContribution(Base):
    __tablename__ = "heatmap_contribution"

    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), primary_key=True
    )
    questionnaire_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    #: year × 10 + quarter (Asia/Shanghai), e.g. 20264 for 2026 Q4.
    quarter: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[uuid.UUID]
    submitted_at: Mapped[datetime]
    district_code: Mapped[str] = mapped_column(String(6))
    industry_code: Mapped[str] = mapped_column(String(2))
    size_class: Mapped[str] = mapped_column(String(10))
    #: round(overall, 2) × 100; None when no stage was scored.
    overall_c: Mapped[int | None] = mapped_column(Integer)
    rung_c: Mapped[int] = mapped_column(Integer)
    #: {stage_id: round(stage score, 2) × 100}
    stages: Mapped[dict[str, Any]] = mapped_column(JSONType)
    #: The firm's count key and this submission's key (perturbation.count_key, submission_key),
    #: derived from the firm's record secret when the row is written.
    count_key: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    submission_key: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class _CellKey:
    """A cell: questionnaire, quarter and the firm's district, industry and size class (the
    primary key, in this order: ``sort_order`` puts these columns first)."""

    questionnaire_id: Mapped[str] = mapped_column(String(100), primary_key=True, sort_order=-10)
    quarter: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-10)
    district_code: Mapped[str] = mapped_column(String(6), primary_key=True, sort_order=-10)
    industry_code: Mapped[str] = mapped_column(String(2), primary_key=True, sort_order=-10)
    size_class: Mapped[str] = mapped_column(String(10), primary_key=True, sort_order=-10)


def _key_column() -> Mapped[int]:
    return mapped_column(BigInteger, default=0, server_default="0", sort_order=20)


class _RungCounts:
    """Firms at or above 3.00, 3.25, 3.50, 3.75, 4.00 (the share metric's numerators), and the
    sums of the record keys of the firms counted (app/heatmaps/perturbation.py: the cell keys
    of the published figures). Keys are kept unreduced, like the other sums, so that a firm
    entering or leaving a cell adds or subtracts its key exactly."""

    ge_300: Mapped[int] = mapped_column(BigInteger, default=0, sort_order=10)
    ge_325: Mapped[int] = mapped_column(BigInteger, default=0, sort_order=10)
    ge_350: Mapped[int] = mapped_column(BigInteger, default=0, sort_order=10)
    ge_375: Mapped[int] = mapped_column(BigInteger, default=0, sort_order=10)
    ge_400: Mapped[int] = mapped_column(BigInteger, default=0, sort_order=10)
    #: Sum of the count keys of the firms counted in ``firms``.
    count_key: Mapped[int] = _key_column()
    #: Sum of the submission keys of the firms whose scores are summed.
    value_key: Mapped[int] = _key_column()
    ge_300_key: Mapped[int] = _key_column()
    ge_325_key: Mapped[int] = _key_column()
    ge_350_key: Mapped[int] = _key_column()
    ge_375_key: Mapped[int] = _key_column()
    ge_400_key: Mapped[int] = _key_column()


class HeatmapCell(_CellKey, _RungCounts, Base):
    """Overall-score sums of one (district, industry, size) cell: its change in one quarter;
    ``ge_*`` count the firms whose rung is at or above each rung."""

    __tablename__ = "heatmap_cell"
    # SQLite keeps the rows in primary-key order (a clustered table): a cut reads one range.
    __table_args__ = {"sqlite_with_rowid": False}

    firms: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Firms with an overall score (every firm with at least one scored stage).
    scored: Mapped[int] = mapped_column(BigInteger, default=0)
    overall_sum: Mapped[int] = mapped_column(BigInteger, default=0)


class HeatmapStageCell(_CellKey, _RungCounts, Base):
    """Stage-score sums of one (district, industry, size, stage) cell: its change in one
    quarter; ``ge_*`` count the firms whose stage score is at or above each rung."""

    __tablename__ = "heatmap_stage_cell"
    __table_args__ = {"sqlite_with_rowid": False}

    stage_id: Mapped[str] = mapped_column(String(100), primary_key=True, sort_order=-5)
    #: Firms with a score for this stage.
    firms: Mapped[int] = mapped_column(BigInteger, default=0)
    score_sum: Mapped[int] = mapped_column(BigInteger, default=0)


#: Lets "does any synthetic firm exist?" (the heatmaps' synthetic-data label) answer from an
#: index instead of a scan: a partial index holding only the (few) synthetic firms' rows.
Index(
    "ix_enterprise_synthetic",
    Enterprise.__table__.c.synthetic,
    sqlite_where=Enterprise.__table__.c.synthetic.is_(True),
    postgresql_where=Enterprise.__table__.c.synthetic.is_(True),
)


class HeatmapPublication(Base):
    """One publication of the heatmaps (app/heatmaps/publication.py): officials read only the
    latest one. ``id`` grows with each publication."""

    __tablename__ = "heatmap_publication"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    published_at: Mapped[datetime]
    #: The disclosure-control parameters it was built with (k, D, V, B).
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONType)
    #: Whether synthetic demo firms were in the database when it was built.
    includes_synthetic: Mapped[bool] = mapped_column(default=False)
    tables: Mapped[int] = mapped_column(Integer, default=0)


class HeatmapPublishedTable(Base):
    """One published table (cut × scope × quarter of a questionnaire) as JSON: rows, columns and
    every cell as shown. A request reads one row, by primary key. A quarter's table is written
    again by each publication while the quarter is current, and once more (``closed``) by the
    first publication after it ends; never after that."""

    __tablename__ = "heatmap_published_table"
    __table_args__ = {"sqlite_with_rowid": False}

    questionnaire_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    quarter: Mapped[int] = mapped_column(Integer, primary_key=True)
    cut: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: A district code, or "" for the whole city.
    scope: Mapped[str] = mapped_column(String(6), primary_key=True)
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("heatmap_publication.id", ondelete="CASCADE"), primary_key=True
    )
    closed: Mapped[bool] = mapped_column(default=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
