"""Rendered PDF reports, stored where every app instance reads them, and the render outbox.

A submission writes one ``report_job`` row per language in its own transaction; the worker
(``app/reports/worker.py``) renders it and stores the PDF in ``report_pdf``, so the first GET
after a submission is served from the database instead of paying the render.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UUIDPrimaryKey, utcnow


class ReportPdf(Base):
    """The latest PDF of one assessment in one language. ``content_version`` names everything
    it was made from (assessment version, template version, the firm's revision: the ETag); a
    row of another version is stale, and the next render replaces it."""

    __tablename__ = "report_pdf"

    assessment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True
    )
    lang: Mapped[str] = mapped_column(String(5), primary_key=True)
    #: The firm the report is about: deleting the firm deletes its reports.
    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    content_version: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    rendered_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportJob(UUIDPrimaryKey, Base):
    """One report to render ahead of its first request. Deleted once its PDF is stored; after
    REPORT_JOB_MAX_ATTEMPTS failures it stays as ``failed`` (the GET still renders on demand)."""

    __tablename__ = "report_job"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'failed')", name="status_known"),
        Index("ix_report_job_status_next_attempt_at", "status", "next_attempt_at"),
    )

    assessment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), index=True
    )
    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    lang: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    #: When the next attempt is due; while a worker holds the job, the end of its lease.
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
