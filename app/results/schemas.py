from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from app.questionnaires.schemas import QuestionnaireRef


class ResultRead(BaseModel):
    """Scores as computed at submission, rounded half-up to 2 dp."""

    assessment_id: uuid.UUID
    enterprise_id: uuid.UUID
    questionnaire: QuestionnaireRef
    submitted_at: datetime
    overall: float | None
    rung: float
    rung_name: str
    stages: dict[str, float]
    held_back_by: list[dict[str, Any]]
    roadmap: dict[str, Any] | None
    crosswalk: dict[str, Any]
    subsidies: list[dict[str, Any]]


class Change(BaseModel):
    overall: float | None
    rung: float | None
    stages: dict[str, float]
