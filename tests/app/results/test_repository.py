"""ResultRepository: what a firm's history reads of its results."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session

from app.models import Enterprise, Result
from app.results.repository import ResultRepository
from tests.app.heatmaps.helpers import submit
from tests.factories import create_enterprise


def store(db: Session, enterprise: Enterprise, when: datetime, overall: str) -> Result:
    """A submission whose result has a payload (a roadmap step naming its score)."""
    assessment = submit(db, enterprise, when, overall)
    result = ResultRepository(db).of_assessment(assessment.id)
    assert result is not None
    result.payload = {"roadmap": {"steps": [overall]}}
    db.commit()
    return result


class TestSubmitted:
    @pytest.fixture
    def firm_with_two_submissions(self, db: Session) -> Enterprise:
        enterprise = create_enterprise(db)
        store(db, enterprise, datetime(2026, 3, 1, tzinfo=UTC), "3.10")
        store(db, enterprise, datetime(2026, 9, 1, tzinfo=UTC), "3.40")
        db.expunge_all()  # a new request's session: nothing loaded yet
        return enterprise

    def test_the_scores_oldest_first_without_the_payload(
        self, db: Session, firm_with_two_submissions: Enterprise
    ) -> None:
        rows = ResultRepository(db).submitted(firm_with_two_submissions.id)
        assert [(r.overall, r.rung) for *_, r in rows] == [
            (Decimal("3.10"), Decimal("3.25")),
            (Decimal("3.40"), Decimal("3.25")),
        ]
        assert [r.stages["digitization"] for *_, r in rows] == [3.1, 3.4]
        with pytest.raises(InvalidRequestError):
            _ = rows[0][3].payload  # not read: a history must not need it

    def test_a_result_read_after_the_history_still_has_its_payload(
        self, db: Session, firm_with_two_submissions: Enterprise
    ) -> None:
        """The same row, read in full after the history read its scores (one session, one
        object per row): the full read fills in what the history left out."""
        repository = ResultRepository(db)
        *_, (_, _, _, last) = repository.submitted(firm_with_two_submissions.id)
        full = repository.of_assessment(last.assessment_id)
        assert full is last
        assert full.payload == {"roadmap": {"steps": ["3.40"]}}
