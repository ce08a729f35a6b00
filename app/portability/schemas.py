"""The export's documented shape (``zhizao-enterprise-export/2``; docs/export.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

EXPORT_FORMAT = "zhizao-enterprise-export/2"


class ExportedProfile(BaseModel):
    id: uuid.UUID
    credit_code: str
    name: str
    district_code: str
    district: str = Field(description="The district's name in the export's language.")
    industry_code: str
    industry: str
    employees: int
    annual_revenue_cny: float
    size_class: Literal["micro", "small", "medium", "large"]
    above_designated_size: bool
    verified: bool
    facts: dict[str, Any] = Field(description="Optional facts declared for subsidy matching.")
    registered_at: datetime


class ExportedMember(BaseModel):
    email: str
    display_name: str
    firm_role: Literal["owner", "member"] | None
    joined_at: datetime
    last_login_at: datetime | None


class ExportedContact(BaseModel):
    name: str
    phone: str
    email: str
    role: str
    retain_until: datetime = Field(description="Deleted after this (CONTACT_RETENTION_DAYS).")


class ExportedAnswer(BaseModel):
    stage_id: str
    stage: str
    question_id: str
    question: str
    value: Any = Field(description='As stored: an option id, a list of them, a number or "n/a".')
    answer: str = Field(description="The answer in words (option texts, the number and unit).")


class ExportedKpi(BaseModel):
    kpi_id: str
    text: str = Field(description="What the figure is, in the export's language.")
    value: float
    unit: str
    better: Literal["higher", "lower"] = Field(description="Which way is an improvement.")


class ExportedAssessment(BaseModel):
    id: uuid.UUID
    questionnaire_id: str
    questionnaire_version: int
    questionnaire_title: str
    status: Literal["draft", "submitted"]
    created_at: datetime
    submitted_at: datetime | None
    answers: list[ExportedAnswer]
    kpis: list[ExportedKpi] = Field(
        description="The baseline KPIs recorded (unscored), in the questionnaire's order; "
        "empty when none was."
    )
    result: dict[str, Any] | None = Field(
        description="As computed at submission (the API's result: overall, rung, stages, "
        "held_back_by, roadmap, crosswalk, subsidies); null for a draft."
    )


class ExportedGrant(BaseModel):
    integrator: str
    method: Literal["web", "api", "registration"]
    evidence: dict[str, Any]
    granted_at: datetime
    revoked_at: datetime | None
    active: bool


class ConsentRecord(BaseModel):
    """One grant or revocation, from the audit trail."""

    at: datetime
    action: Literal["granted", "revoked"]
    integrator: str
    method: str | None
    by: str = Field(description='"user" (one of the firm\'s people), "api_client", "cli" ...')


class EnterpriseExport(BaseModel):
    format: Literal["zhizao-enterprise-export/2"] = Field(examples=[EXPORT_FORMAT])
    exported_at: datetime
    language: Literal["zh", "en"]
    enterprise: ExportedProfile
    members: list[ExportedMember]
    contacts: list[ExportedContact] = Field(description="The firm's contact persons.")
    assessments: list[ExportedAssessment] = Field(description="Newest first.")
    grants: list[ExportedGrant]
    consent_records: list[ConsentRecord] = Field(description="Oldest first.")
