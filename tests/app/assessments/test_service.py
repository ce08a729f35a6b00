"""The assessment service called directly, as pages, the CLI and scripts do: several steps in
one database session."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.assessments import service
from app.assessments.schemas import AnswersUpdate, AssessmentCreate
from app.enterprises import service as enterprise_service
from app.kit.principal import CLI
from app.kit.settings import Settings
from app.models import Enterprise
from app.questionnaires.catalog import QuestionnaireCatalog
from tests.answers import QUICK, complete_answers


def test_answers_then_submit_in_one_session_act_on_the_saved_version(
    db: Session, settings: Settings, enterprise: Enterprise
) -> None:
    """The answers are written by plain statements (no ORM objects); an assessment the session
    already holds must not keep the version they replaced (it made the submit fail with 412,
    "changed by another request")."""
    catalog = QuestionnaireCatalog.from_directory(settings.QUESTIONNAIRES_DIR)
    questionnaire = catalog.get(QUICK)
    assert questionnaire is not None
    assessment = service.create(
        db, CLI, catalog, enterprise.id, AssessmentCreate(questionnaire_id=QUICK)
    )
    db.commit()
    before = service.etag_of(assessment)
    answers = complete_answers(questionnaire, enterprise_service.scoring_profile(enterprise))
    saved = service.update_answers(
        db, CLI, catalog, assessment.id, AnswersUpdate(answers=answers), before, "zh"
    )
    db.commit()
    assert service.etag_of(assessment) != before
    assert service.etag_of(assessment) == saved.etag

    outcome = service.submit(
        db,
        CLI,
        catalog,
        assessment.id,
        if_match=service.etag_of(assessment),
        idempotency_key=None,
        request_fingerprint="test",
        lang="zh",
        programmes=[],
    )
    db.commit()
    assert outcome.status_code == 200
    assert assessment.status == "submitted"
