"""Queries the report needs beyond the assessment's own rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.kit.outbox import Outbox
from app.models import Assessment, Enterprise, ReportJob, ReportPdf

#: The render outbox (``kit.outbox``).
_OUTBOX = Outbox(ReportJob)


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """What a stored PDF was made from, beside what its report is made from now."""

    assessment_id: uuid.UUID
    enterprise_id: uuid.UUID
    lang: str
    content_version: str
    assessment_version: int
    enterprise_revision: int


class ReportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- stored PDFs ---

    def stored_pdf(self, assessment_id: uuid.UUID, lang: str, content_version: str) -> bytes | None:
        """The stored PDF if it is of this content version (a stale one is not returned)."""
        return self.session.scalar(
            select(ReportPdf.pdf).where(*_current(assessment_id, lang, content_version))
        )

    def has_pdf(self, assessment_id: uuid.UUID, lang: str, content_version: str) -> bool:
        """Whether the stored PDF is of this content version (without reading it)."""
        found = self.session.scalar(
            select(ReportPdf.lang).where(*_current(assessment_id, lang, content_version))
        )
        return found is not None

    def store_pdf(
        self,
        *,
        assessment_id: uuid.UUID,
        enterprise_id: uuid.UUID,
        lang: str,
        content_version: str,
        pdf: bytes,
        rendered_at: datetime,
    ) -> None:
        """Insert or replace the PDF of (assessment, language): two instances rendering the same
        report at once both succeed, and the last one's copy stays (they are of one version, or
        the later one is newer)."""
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        values = {
            "content_version": content_version,
            "pdf": pdf,
            "rendered_at": rendered_at,
            "enterprise_id": enterprise_id,
        }
        statement = insert(ReportPdf).values(assessment_id=assessment_id, lang=lang, **values)
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[ReportPdf.assessment_id, ReportPdf.lang], set_=values
            )
        )

    def stored_versions(self, enterprise_id: uuid.UUID | None = None) -> list[StoredVersion]:
        """Every stored PDF's content version (not the PDF), with its assessment's version and
        its firm's revision as they are now; of one firm, or of all."""
        query = (
            select(
                ReportPdf.assessment_id,
                ReportPdf.enterprise_id,
                ReportPdf.lang,
                ReportPdf.content_version,
                Assessment.version,
                Enterprise.revision,
            )
            .join(Assessment, Assessment.id == ReportPdf.assessment_id)
            .join(Enterprise, Enterprise.id == ReportPdf.enterprise_id)
            .order_by(ReportPdf.rendered_at.desc(), ReportPdf.assessment_id, ReportPdf.lang)
        )
        if enterprise_id is not None:
            query = query.where(ReportPdf.enterprise_id == enterprise_id)
        return [StoredVersion(*row) for row in self.session.execute(query)]

    # --- the render outbox (the worker's queries) ---

    def pending_jobs(self, enterprise_id: uuid.UUID | None = None) -> set[tuple[uuid.UUID, str]]:
        """(assessment, language) of every job not yet done; of one firm, or of all."""
        query = select(ReportJob.assessment_id, ReportJob.lang).where(ReportJob.status == "pending")
        if enterprise_id is not None:
            query = query.where(ReportJob.enterprise_id == enterprise_id)
        return {(assessment_id, lang) for assessment_id, lang in self.session.execute(query)}

    def add_job(self, job: ReportJob) -> None:
        self.session.add(job)

    def get_job(self, job_id: uuid.UUID) -> ReportJob | None:
        return self.session.get(ReportJob, job_id)

    def delete_job(self, job_id: uuid.UUID) -> None:
        self.session.execute(delete(ReportJob).where(ReportJob.id == job_id))

    def any_due(self, now: datetime) -> bool:
        return _OUTBOX.any_due(self.session, now)

    def lock_due(self, now: datetime, limit: int) -> list[ReportJob]:
        """Due jobs, oldest first, locked (``kit.outbox``)."""
        return _OUTBOX.lock_due(self.session, now, limit)


def _current(assessment_id: uuid.UUID, lang: str, content_version: str) -> tuple[Any, ...]:
    return (
        ReportPdf.assessment_id == assessment_id,
        ReportPdf.lang == lang,
        ReportPdf.content_version == content_version,
    )
