"""The draft's write (``AssessmentRepository.save_draft``) on both engines: PostgreSQL's one
statement of writing CTEs and SQLite's several statements must store the same rows, and
neither may write anything when the version claim fails."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assessments import service
from app.assessments.repository import AssessmentRepository, DraftState
from app.assessments.schemas import AssessmentCreate
from app.audit import service as audit
from app.enterprises import service as enterprise_service
from app.kit.clock import utcnow
from app.kit.guards import visibility_of
from app.kit.principal import CLI
from app.kit.settings import Settings
from app.models import Answer, AssessmentKpi, AuditEvent, Enterprise
from app.questionnaires.catalog import QuestionnaireCatalog
from tests.answers import QUICK


def _draft(db: Session, settings: Settings, enterprise: Enterprise) -> DraftState:
    catalog = QuestionnaireCatalog.from_directory(settings.QUESTIONNAIRES_DIR)
    created = service.create(
        db, CLI, catalog, enterprise.id, AssessmentCreate(questionnaire_id=QUICK)
    )
    db.commit()
    found = AssessmentRepository(db).draft_state(
        created.id, visibility_of(CLI), enterprise_service.ProfileColumns._fields
    )
    assert found is not None
    return found[0]


def _stored(db: Session, draft: DraftState) -> tuple[dict[str, Any], dict[str, Any], int]:
    answers = dict(
        db.execute(
            select(Answer.question_id, Answer.value).where(Answer.assessment_id == draft.id)
        ).all()
    )
    kpis = dict(
        db.execute(
            select(AssessmentKpi.kpi_id, AssessmentKpi.value).where(
                AssessmentKpi.assessment_id == draft.id
            )
        ).all()
    )
    events = db.scalars(select(AuditEvent).where(AuditEvent.target_id == str(draft.id))).all()
    return answers, kpis, len([e for e in events if e.action == "test.save"])


def _save(
    db: Session, draft: DraftState, values: dict[str, dict[str, Any]], **changes: Any
) -> bool:
    row = audit.event_row(
        CLI,
        "test.save",
        "assessment",
        draft.id,
        enterprise_id=draft.enterprise_id,
        detail={"questions": sorted(values.get("answer", {}))},
    )
    saved = AssessmentRepository(db).save_draft(
        draft._replace(**changes), utcnow() + timedelta(seconds=1), values, row
    )
    db.commit()
    return saved


def test_sets_and_clears_answers_and_kpis_and_records_the_write(
    db: Session, settings: Settings, enterprise: Enterprise
) -> None:
    draft = _draft(db, settings, enterprise)
    first = {"a": "opt-1", "b": ["x", "y"], "c": 3.5}
    assert _save(db, draft, {"answer": first, "assessment_kpi": {"k1": 12, "k2": 0.5}})
    assert _stored(db, draft) == (first, {"k1": 12, "k2": 0.5}, 1)

    again = draft._replace(version=draft.version + 1)
    changes = {"answer": {"a": "opt-2", "b": None, "d": "n/a"}, "assessment_kpi": {"k1": None}}
    assert _save(db, again, changes)
    assert _stored(db, draft) == ({"a": "opt-2", "c": 3.5, "d": "n/a"}, {"k2": 0.5}, 2)
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "test.save").order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None
    assert (event.enterprise_id, event.detail) == (enterprise.id, {"questions": ["a", "b", "d"]})


def test_a_failed_claim_writes_nothing(
    db: Session, settings: Settings, enterprise: Enterprise
) -> None:
    """Another writer claimed the version first: no answer, KPI or audit row of this write,
    whichever rows it would have set or cleared."""
    draft = _draft(db, settings, enterprise)
    assert _save(db, draft, {"answer": {"a": "kept"}, "assessment_kpi": {"k": 1}})
    before = _stored(db, draft)

    stale = {"answer": {"a": None, "b": "new"}, "assessment_kpi": {"k": None, "j": 2}}
    assert not _save(db, draft, stale)  # the version read is no longer the stored one
    assert _stored(db, draft) == before
