from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, JSONType, Timestamped, UUIDPrimaryKey, utcnow
from app.models.enterprise import Enterprise


class QuestionnaireRecord(Base):
    """A questionnaire version seen by this service, with its content hash: a published
    version never changes, so a different hash for a recorded (id, version) is refused."""

    __tablename__ = "questionnaire_version"

    questionnaire_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Assessment(UUIDPrimaryKey, Timestamped, Base):
    __tablename__ = "assessment"
    __table_args__ = (CheckConstraint("status IN ('draft', 'submitted')", name="status_known"),)

    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    questionnaire_id: Mapped[str] = mapped_column(String(100))
    questionnaire_version: Mapped[int]
    questionnaire_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    #: Bumped by every write; the ETag is derived from it and guards concurrent edits.
    version: Mapped[int] = mapped_column(Integer, default=1)
    submitted_at: Mapped[datetime | None]
    prefilled_from_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assessment.id", ondelete="SET NULL")
    )
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    created_by_client_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_client.id", ondelete="SET NULL")
    )

    __mapper_args__ = {"version_id_col": version}

    enterprise: Mapped[Enterprise] = relationship(lazy="raise")


class Answer(Base):
    """One answer to one question of an assessment."""

    __tablename__ = "answer"

    assessment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    #: JSON-encoded answer: option id, list of option ids, number, or "n/a".
    value: Mapped[Any] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AssessmentKpi(Base):
    """One baseline KPI of an assessment (questionnaire ``kpis``): recorded, never scored."""

    __tablename__ = "assessment_kpi"

    assessment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True
    )
    kpi_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    #: The value as a JSON number, exactly as sent (like a number answer).
    value: Mapped[Any] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Result(Base):
    """The result of a submitted assessment, as computed at submission. Never recomputed.

    `id` is a monotonic sequence: the integrators' score feed pages by it."""

    __tablename__ = "result"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    assessment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), unique=True
    )
    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    #: Rounded (half-up, 2 dp) overall score and rung, for queries; `payload` holds everything.
    overall: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    rung: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    stages: Mapped[dict[str, Any]] = mapped_column(JSONType)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    subsidies: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    assessment: Mapped[Assessment] = relationship(lazy="raise")


class IdempotencyRecord(Base):
    """A request made with an ``Idempotency-Key``; the same key and body replay its response."""

    __tablename__ = "idempotency_record"

    #: The caller (``user:<id>`` or ``client:<id>``) and its key: keys are per caller.
    caller: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    response_body: Mapped[Any | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
