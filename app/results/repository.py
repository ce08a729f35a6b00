"""Queries on stored results (the ``result`` table)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from app.models import Assessment, Result


class ResultRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def of_assessment(self, assessment_id: uuid.UUID) -> Result | None:
        return self.session.scalar(select(Result).where(Result.assessment_id == assessment_id))

    def add(self, result: Result) -> Result:
        self.session.add(result)
        self.session.flush()
        return result

    def submitted(self, enterprise_id: uuid.UUID) -> list[tuple[uuid.UUID, str, datetime, Result]]:
        """(assessment id, questionnaire id, submitted at, result) of every submission of the
        firm, oldest first. Each result's scores only: its ``payload`` and ``subsidies`` (the
        explanation, the roadmap, the matches: most of its bytes) are not read, and touching
        them raises. A history needs the scores, and decoding the rest cost more than the
        query for a firm with many submissions."""
        rows = self.session.execute(
            select(Assessment.id, Assessment.questionnaire_id, Assessment.submitted_at, Result)
            .join(Result, Result.assessment_id == Assessment.id)
            .where(Assessment.enterprise_id == enterprise_id, Assessment.status == "submitted")
            .order_by(Assessment.submitted_at, Assessment.id)
            .options(defer(Result.payload, raiseload=True), defer(Result.subsidies, raiseload=True))
        )
        return [(aid, qid, at, result) for aid, qid, at, result in rows if at is not None]
