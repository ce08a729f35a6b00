from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, JsonValue, WithJsonSchema

from app.kit.schemas import NOT_BOOL, TEXT_PATTERN, JsonBool, JsonDecimal, RequestModel, Text
from app.questionnaires.schemas import QuestionnaireRef
from app.results.schemas import Change

#: An id of a questionnaire's questions, options and KPIs (the loader's ``ID_PATTERN``).
_ID = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
#: What an answer can be (which one fits depends on the question: GET /questionnaires/{id}):
#: an option id, a list of them, a number, "n/a", or null to clear it. Validation stays the
#: service's, which names each answer that does not fit.
ANSWERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "propertyNames": _ID,
    "additionalProperties": {
        "anyOf": [
            {"type": "string", "pattern": TEXT_PATTERN},
            {"type": "array", "items": {"type": "string", "pattern": TEXT_PATTERN}},
            {"type": "number"},
            {"type": "null"},
        ]
    },
}
KPIS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "propertyNames": _ID,
    "additionalProperties": {"anyOf": [{"type": "number"}, {"type": "null"}]},
}
AnswerJson = JsonValue


class AssessmentCreate(RequestModel):
    questionnaire_id: Annotated[
        Text,
        Field(
            max_length=100,
            examples=["smart-manufacturing-maturity"],
            # One of GET /questionnaires (docs/integrators.md, "Formats").
            json_schema_extra={"format": "zhizao-questionnaire-id"},
        ),
    ]
    questionnaire_version: Annotated[int, Field(ge=1), NOT_BOOL] | None = Field(
        default=None, description="Default: the latest version."
    )
    prefill: JsonBool = Field(
        default=False,
        description="Start from the answers of the firm's last submitted assessment of the same "
        "questionnaire (answers that do not fit this version are left out).",
    )


class AnswersUpdate(RequestModel):
    answers: Annotated[dict[str, AnswerJson], WithJsonSchema(ANSWERS_SCHEMA, mode="validation")] = (
        Field(
            default_factory=dict,
            description="question id → answer: an option id (single), a list of option ids "
            '(multi), a number (number), "n/a" where allowed, or null to clear the answer. May be '
            "left out when only `kpis` change.",
            examples=[
                {
                    "dig_production_mode": "discrete",
                    "dig_equipment_rate": 45,
                    "dat_areas": ["planning", "production"],
                }
            ],
        )
    )
    kpis: Annotated[
        dict[str, JsonDecimal | None], WithJsonSchema(KPIS_SCHEMA, mode="validation")
    ] = Field(
        default_factory=dict,
        description="Baseline KPIs of the questionnaire's `kpis` block (unscored): KPI id → a "
        "number within its min and max, or null to clear it. Optional.",
        examples=[{"oee": 62.5, "on_time_delivery": 91}],
    )


class StageProgress(BaseModel):
    id: str
    title: str
    applicable: int
    answered: int
    required_unanswered: list[str]
    complete: bool


class AssessmentRead(BaseModel):
    id: uuid.UUID
    enterprise_id: uuid.UUID
    questionnaire: QuestionnaireRef
    status: Literal["draft", "submitted"]
    etag: str = Field(description="Send as If-Match when writing.")
    answers: dict[str, Any]
    kpis: dict[str, float] = Field(
        description="The baseline KPIs recorded on this assessment (unscored), KPI id → value."
    )
    progress: list[StageProgress]
    answered_share: float = Field(description="Share of applicable questions answered, 0–1.")
    next_stage: str | None = Field(description="The first stage with required questions open.")
    applicable_questions: list[str]
    cleared_not_applicable: list[str] = Field(
        default_factory=list,
        description="The stored answers this write cleared because their questions no longer "
        "apply given the answers (or the firm's profile): switching back does not restore them. "
        "Empty on reads and on writes that cleared none.",
    )
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    prefilled_from: uuid.UUID | None


class KpiComparison(BaseModel):
    """One baseline KPI of a submission against the firm's previous submission."""

    kpi_id: str
    text: str
    unit: str
    better: Literal["higher", "lower"]
    before: float | None = Field(description="In the previous submission; null if not recorded.")
    after: float | None = Field(description="In this submission; null if not recorded.")
    trend: Literal["better", "worse", "same"] | None = Field(
        description="How it moved, judged by `better`; null unless both values are recorded."
    )


class HistoryItem(BaseModel):
    id: uuid.UUID
    questionnaire: QuestionnaireRef
    status: Literal["draft", "submitted"]
    created_at: datetime
    submitted_at: datetime | None
    overall: float | None
    rung: float | None
    stages: dict[str, float]
    change: Change | None = Field(
        description="Against the previous submission of the same questionnaire; null for the first."
    )
