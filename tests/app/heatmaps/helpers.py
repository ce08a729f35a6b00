"""Arranging submitted results for heatmap tests without filling questionnaires."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from app.kit import events
from app.kit.events import AssessmentSubmitted
from app.kit.principal import CLI
from app.models import Assessment, Enterprise, Result
from app.verification import service as verification
from tests.factories import create_enterprise

FULL = "smart-manufacturing-maturity"
STAGES = ("digitization", "automation", "data_collection", "cloud_adoption")


def submit(
    db: Session,
    enterprise: Enterprise,
    at: datetime,
    overall: str = "3.40",
    rung: str = "3.25",
    stages: dict[str, float] | None = None,
    questionnaire_id: str = FULL,
) -> Assessment:
    """Store a submitted assessment with its result and publish ``assessment.submitted``, as
    ``assessments.service._submit`` does (heatmap upkeep, feed entry)."""
    assessment = Assessment(
        enterprise_id=enterprise.id,
        questionnaire_id=questionnaire_id,
        questionnaire_version=1,
        questionnaire_hash="0" * 64,
        status="submitted",
        submitted_at=at,
    )
    db.add(assessment)
    db.flush()
    result = Result(
        assessment_id=assessment.id,
        enterprise_id=enterprise.id,
        overall=Decimal(overall),
        rung=Decimal(rung),
        stages=stages or {s: float(overall) for s in STAGES},
        payload={},
        subsidies=[],
        computed_at=at,
    )
    db.add(result)
    db.flush()
    events.publish(db, AssessmentSubmitted(enterprise, assessment, result))
    db.commit()
    return assessment


def verified_firm(db: Session, **profile: object) -> Enterprise:
    enterprise = create_enterprise(db, **profile)
    verification.set_verified(db, CLI, enterprise.id, True)
    db.commit()
    return enterprise
