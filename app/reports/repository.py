"""Queries the report needs beyond the assessment's own rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.models import Assessment, Enterprise, Result


@dataclass(frozen=True, slots=True)
class PeerCounts:
    """How many peers there are, and how many score below and equal to a given score."""

    total: int
    below: int
    equal: int


class ReportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def peer_counts(
        self,
        *,
        industry_code: str,
        questionnaire_id: str,
        as_of: datetime,
        overall: Decimal,
        exclude_enterprise_id: uuid.UUID,
    ) -> PeerCounts:
        """Verified enterprises of one industry (other than ``exclude_enterprise_id``), each
        counted once with its latest submitted result of ``questionnaire_id`` up to ``as_of``.

        A window over the submissions of one industry; the heatmap aggregates (design §9) will
        serve this from precomputed rows once they exist.
        """
        latest = (
            select(
                Result.overall.label("overall"),
                func.row_number()
                .over(
                    partition_by=Assessment.enterprise_id,
                    order_by=(Assessment.submitted_at.desc(), Assessment.id.desc()),
                )
                .label("position"),
            )
            .join(Assessment, Assessment.id == Result.assessment_id)
            .join(Enterprise, Enterprise.id == Assessment.enterprise_id)
            .where(
                Enterprise.verified.is_(True),
                Enterprise.industry_code == industry_code,
                Enterprise.id != exclude_enterprise_id,
                Assessment.questionnaire_id == questionnaire_id,
                Assessment.status == "submitted",
                Assessment.submitted_at <= as_of,
            )
            .subquery()
        )
        row = self.session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((latest.c.overall < overall, 1), else_=0)), 0),
                func.coalesce(func.sum(case((latest.c.overall == overall, 1), else_=0)), 0),
            ).where(latest.c.position == 1, latest.c.overall.is_not(None))
        ).one()
        return PeerCounts(total=int(row[0]), below=int(row[1]), equal=int(row[2]))
