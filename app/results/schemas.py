from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.questionnaires.schemas import QuestionnaireRef

Outcome = Literal["eligible", "likely", "near", "not_eligible", "to_confirm"]
Confidence = Literal["verified", "secondary", "unverified"]


# --- subsidy advice (format 2, issue 15; docs/subsidies.md §6) ------------------------------


class SourceRead(BaseModel):
    """The document a programme rests on."""

    document: str = Field(description="How it is cited: 文号《exact title》, or a description.")
    issued_by: str | None = None
    title: str | None = None
    number: str | None = None
    description: str | None = None
    year: int | None = None
    url: str | None = Field(default=None, description="The official URL, where public.")
    also: list[dict[str, Any]] = Field(default=[], description="Further documents it draws on.")


class ValidityRead(BaseModel):
    """When a programme is in force (``state``/``stale``/``text``: on the match date)."""

    status: Literal["dated", "ongoing", "annual", "unconfirmed"] = Field(
        description="dated (valid_from … valid_until) | ongoing (no end in the source) | annual "
        "(no end, and each year's notice opens the application window: this year's window is "
        "to confirm) | unconfirmed (no dates in any source)"
    )
    valid_from: str | None = None
    valid_until: str | None = None
    last_confirmed: str | None = Field(
        default=None, description="The newest date a cited source shows it in force."
    )
    state: Literal["in_force", "not_yet", "expired", "unknown"] | None = None
    stale: bool | None = None
    text: str | None = None


class EstimateRead(BaseModel):
    kind: str = Field(
        description="computed | fixed | up_to | depends_on | unknown | unverified | none | "
        "withheld (validity to confirm: no amount)"
    )
    amount_cny: str | None = Field(default=None, description='Decimal string, "2500000.00".')
    ceiling: bool = Field(
        default=False,
        description="The amount is a maximum (“up to”): a cap alone, or a rate the source gives "
        "as a ceiling; false: an exact rate (“about”) or a fixed amount.",
    )
    confidence: Confidence | None = Field(
        default=None, description="The weakest confidence of the parameters the amount used."
    )
    formula: str | None = None
    text: str = ""
    basis: str | None = Field(default=None, description="The undeclared fact it depends on.")


class SubsidyMatchRead(BaseModel):
    """How the firm stands with one programme on one date (``SubsidyMatch.to_dict``).

    Results stored before issue 15 (format 1) lack the format-2 keys; their ``outcome`` is
    derived from the format-1 ``status`` they kept.
    """

    model_config = ConfigDict(extra="allow")

    format: int = 1
    id: str
    name: str
    issuer: str = ""
    level: str | None = None
    region: str | None = None
    kind: str | None = None
    summary: str = ""
    on: str | None = None
    outcome: Outcome
    headline: str | None = None
    validity: ValidityRead | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    last_confirmed: str | None = None
    reasons: list[dict[str, Any]] = []
    to_confirm: list[dict[str, Any]] = Field(default=[], description="Items to confirm.")
    todo: list[dict[str, Any]] = Field(default=[], description="A near match's to-do list.")
    missing_facts: list[dict[str, Any]] = []
    estimate: EstimateRead | None = None
    source: SourceRead | None = None
    confidence: Confidence | None = None
    confidence_note: str | None = None


class SubsidySummaryRead(BaseModel):
    checked: int
    eligible: int
    likely: int
    near: int
    not_eligible: int
    to_confirm: int
    text: str = Field(description="“Checked N programmes: a eligible, b likely, …”")


class LeftOutRead(BaseModel):
    id: str
    name: str
    reason: str


class CashTotalRead(BaseModel):
    """“Up to ¥X” over eligible and likely cash programmes none of which exclude each other."""

    amount_cny: str
    confirmed_cny: str = Field(description="The part from eligible matches.")
    programmes: list[str]
    text: str
    left_out: list[LeftOutRead] = Field(description="Programmes not added, each with why.")


class ConflictRead(BaseModel):
    programmes: list[str]
    rule: str
    source: str


class FactUnlockRead(BaseModel):
    """What declaring one fact could do."""

    name: str
    label: str
    declared_in: Literal["profile", "facts"]
    qualify: list[str]
    price: list[str]
    settle: list[str]
    text: str


class CoverageRead(BaseModel):
    recommendation: str
    title: str
    programmes: list[str]
    note: str | None = None


class FundingProgramme(BaseModel):
    id: str
    name: str
    outcome: Outcome


class FundingRead(BaseModel):
    """The programmes that pay for one roadmap step (its ``stage_id`` / ``question_id``)."""

    stage_id: str
    question_id: str | None = None
    programmes: list[FundingProgramme]


class SubsidyOverview(BaseModel):
    """Subsidy advice without the per-programme matches. ``format`` 1: a result stored before
    issue 15, which kept its matches only (no total, conflicts, unlocks or funding)."""

    format: Literal[1, 2]
    on: str | None = Field(description="The date the programmes were matched on.")
    summary: SubsidySummaryRead
    total: CashTotalRead | None = Field(description="Null for a format-1 result.")
    conflicts: list[ConflictRead] = []
    unlocks: list[FactUnlockRead] = []
    coverage: list[CoverageRead] = []
    funding: list[FundingRead] = Field(default=[], description="Per roadmap step.")


class SubsidyAdviceRead(SubsidyOverview):
    matches: list[SubsidyMatchRead] = Field(description="Every programme checked, by outcome.")


# --- the result ---------------------------------------------------------------------------------


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
    roadmap: dict[str, Any] | None = Field(
        description="Each step names the programmes that fund it (`funded_by`)."
    )
    crosswalk: dict[str, Any]
    subsidies: list[SubsidyMatchRead] = Field(
        description="Every programme checked at submission, with its outcome."
    )
    subsidy_advice: SubsidyOverview = Field(
        description="Summary, the non-conflicting “up to” total, unlocks and funding."
    )


class Change(BaseModel):
    overall: float | None
    rung: float | None
    stages: dict[str, float]
