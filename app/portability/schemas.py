"""The export's documented shape (``zhizao-enterprise-export/3``; docs/export.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

EXPORT_FORMAT = "zhizao-enterprise-export/3"


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
    verified_method: str | None = Field(
        description='Who confirmed the firm: "admin" or "official" (its district\'s).'
    )
    verified_at: datetime | None
    attested_at: datetime | None = Field(
        description="When the integrator that registered the firm attested it (its consent)."
    )
    facts: dict[str, Any] = Field(description="Optional facts declared for subsidy matching.")
    registered_at: datetime


class ExportedMember(BaseModel):
    email: str
    display_name: str
    firm_role: Literal["owner", "member"] | None
    joined_at: datetime
    last_login_at: datetime | None
    locale: str = Field(description='The language of the pages and mails: "zh-CN" or "en".')
    active: bool = Field(description="False while an administrator has suspended the account.")


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


class ExportedDelivery(BaseModel):
    """A webhook event about the firm queued for an integrator's endpoint."""

    integrator: str
    event: str = Field(examples=["assessment.submitted", "grant.created", "grant.revoked"])
    assessment_id: uuid.UUID | None = Field(
        description="The assessment whose result it carried (``assessment.submitted``)."
    )
    queued_at: datetime
    status: Literal["pending", "delivered", "failed", "cancelled"]
    delivered_at: datetime | None


class ExportedFeedEntry(BaseModel):
    """A submitted result put into an integrator's score feed (``GET /scores``)."""

    integrator: str
    assessment_id: uuid.UUID
    at: datetime


class ExportedClaim(BaseModel):
    """Someone's request to join the firm (``/claim``), and its decision."""

    requested_at: datetime
    email: str
    display_name: str
    message: str
    status: Literal["pending", "approved", "refused"]
    reason: str = Field(description="Why it was refused, as the person was told.")
    decided_at: datetime | None


class ExportedInvitation(BaseModel):
    email: str | None = Field(description="null: a link handed over rather than mailed.")
    firm_role: Literal["owner", "member"]
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    withdrawn_at: datetime | None


class ExportedMail(BaseModel):
    """An e-mail about the firm to one of its people."""

    to: str
    kind: str = Field(examples=["claim_received", "invitation", "password_reset"])
    subject: str
    body: str | None = Field(
        description="null for a message whose link grants something (an invitation, a "
        "password reset): the link is never exported."
    )
    status: Literal["pending", "sent", "failed"]
    queued_at: datetime
    sent_at: datetime | None


class ExportedAuditEvent(BaseModel):
    """One entry of the audit trail about the firm."""

    at: datetime
    action: str = Field(examples=["assessment.submit", "grant.revoke", "session.login"])
    target_type: str
    target_id: str | None
    by: str = Field(description='"user", "api_client", "cli", "anonymous", "system".')
    member: str | None = Field(
        description="The e-mail of the firm's person who acted; null for anyone else (an "
        "administrator, an official, an integrator, a former member)."
    )
    detail: dict[str, Any] = Field(
        description="What was done, where the trail records it (question ids, fields "
        "changed, the rung reached ...); never the answers themselves."
    )


class EnterpriseExport(BaseModel):
    format: Literal["zhizao-enterprise-export/3"] = Field(examples=[EXPORT_FORMAT])
    exported_at: datetime
    language: Literal["zh", "en"]
    enterprise: ExportedProfile
    members: list[ExportedMember]
    contacts: list[ExportedContact] = Field(description="The firm's contact persons.")
    assessments: list[ExportedAssessment] = Field(description="Newest first.")
    grants: list[ExportedGrant]
    consent_records: list[ConsentRecord] = Field(description="Oldest first.")
    feed_entries: list[ExportedFeedEntry] = Field(description="Oldest first.")
    webhook_deliveries: list[ExportedDelivery] = Field(description="Oldest first.")
    access_claims: list[ExportedClaim] | None = Field(
        description="Oldest first; null in a member's export (owners decide them)."
    )
    invitations: list[ExportedInvitation] | None = Field(
        description="Oldest first; null in a member's export (owners invite)."
    )
    mails: list[ExportedMail] | None = Field(
        description="Mails about the firm to its people, oldest first; null in a member's "
        "export (they hold the owners' correspondence)."
    )
    audit_trail: list[ExportedAuditEvent] | None = Field(
        description="Oldest first; null in a member's export."
    )
