from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Executable, bindparam, delete, select, tuple_, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.kit.guards import Visibility
from app.models import Answer, Assessment, AssessmentKpi

#: ``visible_state``'s statements by the shape of the visibility rule.
_VISIBLE_STATE: dict[str, Executable] = {}


class AssessmentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, assessment_id: uuid.UUID) -> Assessment | None:
        return self.session.get(Assessment, assessment_id)

    def get_where(
        self,
        assessment_id: uuid.UUID,
        visible: ColumnElement[bool],
        *,
        with_enterprise: bool = False,
    ) -> Assessment | None:
        """The assessment if ``visible`` holds for it (one query), with its enterprise loaded
        into the session when asked (``session.get`` of it then reads no more)."""
        query = select(Assessment).where(Assessment.id == assessment_id, visible)
        if with_enterprise:
            query = query.options(joinedload(Assessment.enterprise, innerjoin=True))
        return self.session.scalar(query)

    def visible_state(
        self, assessment_id: uuid.UUID, visibility: Visibility
    ) -> tuple[int, str] | None:
        """The assessment's version and status if the caller may see it, as plain columns (no
        ORM object: what a cached read needs). One statement per shape of the visibility rule,
        built once (``Visibility``'s docstring)."""
        statement = _VISIBLE_STATE.get(visibility.shape)
        if statement is None:
            table = Assessment.__table__.c
            statement = select(table.version, table.status).where(
                table.id == bindparam("assessment_id"), visibility.condition(table.enterprise_id)
            )
            _VISIBLE_STATE[visibility.shape] = statement
        row = self.session.execute(
            statement, {"assessment_id": assessment_id, **visibility.params}
        ).one_or_none()
        return (row.version, row.status) if row is not None else None

    def claim_next_version(self, assessment: Assessment, now: datetime) -> bool:
        """Bump the stored version if it is still the one ``assessment`` was read with (one
        UPDATE); the object then holds the new version and time as stored. False: another
        writer changed it first."""
        claimed = self.session.execute(
            update(Assessment)
            .where(Assessment.id == assessment.id, Assessment.version == assessment.version)
            .values(version=assessment.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        set_committed_value(assessment, "version", assessment.version + 1)
        set_committed_value(assessment, "updated_at", now)
        return True

    def add(self, assessment: Assessment) -> Assessment:
        self.session.add(assessment)
        self.session.flush()
        return assessment

    def answers(self, assessment_id: uuid.UUID) -> dict[str, Answer]:
        rows = self.session.scalars(select(Answer).where(Answer.assessment_id == assessment_id))
        return {row.question_id: row for row in rows}

    def answer_values(self, assessment_id: uuid.UUID) -> dict[str, Any]:
        rows = self.session.execute(
            select(Answer.question_id, Answer.value).where(Answer.assessment_id == assessment_id)
        )
        return {question_id: value for question_id, value in rows}  # noqa: C416

    def kpis(self, assessment_id: uuid.UUID) -> dict[str, AssessmentKpi]:
        rows = self.session.scalars(
            select(AssessmentKpi).where(AssessmentKpi.assessment_id == assessment_id)
        )
        return {row.kpi_id: row for row in rows}

    def kpi_values(self, assessment_id: uuid.UUID) -> dict[str, Any]:
        return {kpi_id: row.value for kpi_id, row in self.kpis(assessment_id).items()}

    def submitted_kpis(self, enterprise_id: uuid.UUID) -> list[tuple[Assessment, AssessmentKpi]]:
        """Every KPI recorded on the firm's submitted assessments, with its assessment (one
        query)."""
        rows = self.session.execute(
            select(Assessment, AssessmentKpi)
            .join(AssessmentKpi, AssessmentKpi.assessment_id == Assessment.id)
            .where(Assessment.enterprise_id == enterprise_id, Assessment.status == "submitted")
        )
        return [(assessment, kpi) for assessment, kpi in rows]

    def add_kpi(self, kpi: AssessmentKpi) -> None:
        self.session.add(kpi)

    def delete_kpis(self, assessment_id: uuid.UUID, kpi_ids: list[str]) -> None:
        if kpi_ids:
            self.session.execute(
                delete(AssessmentKpi).where(
                    AssessmentKpi.assessment_id == assessment_id, AssessmentKpi.kpi_id.in_(kpi_ids)
                )
            )

    def add_answer(self, answer: Answer) -> None:
        self.session.add(answer)

    def delete_answers(self, assessment_id: uuid.UUID, question_ids: list[str]) -> None:
        if question_ids:
            self.session.execute(
                delete(Answer).where(
                    Answer.assessment_id == assessment_id, Answer.question_id.in_(question_ids)
                )
            )

    def latest_submitted(
        self, enterprise_id: uuid.UUID, questionnaire_id: str
    ) -> Assessment | None:
        return self.session.scalar(
            select(Assessment)
            .where(
                Assessment.enterprise_id == enterprise_id,
                Assessment.questionnaire_id == questionnaire_id,
                Assessment.status == "submitted",
            )
            .order_by(Assessment.submitted_at.desc(), Assessment.id.desc())
            .limit(1)
        )

    def history_page(
        self,
        enterprise_id: uuid.UUID,
        *,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Assessment]:
        """Newest first, by (created_at, id)."""
        query = (
            select(Assessment)
            .where(Assessment.enterprise_id == enterprise_id)
            .order_by(Assessment.created_at.desc(), Assessment.id.desc())
            .limit(limit)
        )
        if after is not None:
            query = query.where(tuple_(Assessment.created_at, Assessment.id) < tuple_(*after))
        return list(self.session.scalars(query))
