"""Rendering submitted reports ahead of their first request (the ``report_job`` outbox).

A submission queues one job per language in its own transaction (``service.queue_renders``,
wired in ``app/hooks.py``). Like the mail and webhook workers, a job takes short transactions
and holds no lock while WeasyPrint runs: claim due jobs (PostgreSQL: ``FOR UPDATE SKIP LOCKED``,
so several workers share the outbox) with a lease; build the report's view-model and close the
session; render; store the PDF and delete the job if the lease is still ours. A failure is
retried with the mail outbox's backoff (one minute, doubling) up to REPORT_JOB_MAX_ATTEMPTS,
then the job is marked failed (the GET still renders on demand). A worker that dies
mid-render leaves a lease that runs out, and another renders the report again; a report already
stored at the current content version (a request rendered it first) is not rendered twice.

At its first pass a worker also queues the stored reports a deployment made stale (a changed
template: ``service.queue_refreshes``); workers starting together may both queue one, and the
second job then finds it stored.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from app.kit.clock import utcnow
from app.kit.db import Database, begin_write, refers_to_a_deleted_row
from app.kit.i18n import Lang
from app.kit.settings import Settings
from app.mail.worker import backoff
from app.questionnaires.catalog import QuestionnaireCatalog
from app.reports import service
from app.reports.pdf import render_pdf
from app.reports.repository import ReportRepository

logger = logging.getLogger("zhizao.reports")

#: Jobs claimed per pass: a render takes about a second, so a pass stays short.
BATCH_SIZE = 2
#: Longer than any render; a job whose worker died is taken over after it.
LEASE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: uuid.UUID
    assessment_id: uuid.UUID
    lang: Lang


class ReportWorker:
    """Renders due report jobs; ``run_once`` is one pass (``app.worker`` loops)."""

    name = "reports"

    def __init__(
        self,
        database: Database,
        settings: Settings,
        catalog: QuestionnaireCatalog,
        *,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.database = database
        self.settings = settings
        self.catalog = catalog
        self.batch_size = batch_size
        self._refreshes_queued = False

    def close(self) -> None:
        """Nothing held between passes."""

    def run_once(self, now: datetime | None = None) -> int:
        """Render what is due at ``now``; returns how many jobs were attempted."""
        now = now or utcnow()
        if not self._refreshes_queued:
            self._queue_refreshes(now)
        with self.database.sessions() as session:
            if not ReportRepository(session).any_due(now):
                return 0
        token = uuid.uuid4().hex
        claimed = self._claim(token, now)
        for job in claimed:
            error: str | None = None
            try:
                self._render(token, job)
            except Exception as exc:  # a broken report must not stop the others
                error = f"{type(exc).__name__}: {exc}"[:500]
                logger.exception("report job %s (%s) failed", job.id, job.lang)
                self._failed(token, job.id, error)
        return len(claimed)

    def _queue_refreshes(self, now: datetime) -> None:
        """Once per worker, before its first jobs (tried again next pass if it fails)."""
        with self.database.sessions() as session:
            begin_write(session)
            queued = service.queue_refreshes(session, now=now)
            session.commit()
        self._refreshes_queued = True
        if queued:
            logger.info("reports: %d stored reports are stale, queued to render again", queued)

    def _claim(self, token: str, now: datetime) -> list[Claimed]:
        with self.database.sessions() as session:
            begin_write(session)
            claimed = []
            for job in ReportRepository(session).lock_due(now, self.batch_size):
                job.claimed_by = token
                job.next_attempt_at = now + LEASE
                claimed.append(Claimed(job.id, job.assessment_id, job.lang))  # type: ignore[arg-type]
            session.commit()
        return claimed

    def _render(self, token: str, job: Claimed) -> None:
        # The view-model is read in one short session; WeasyPrint then runs with none open.
        with self.database.sessions() as session:
            located = service.locate_for_worker(session, self.catalog, job.assessment_id, job.lang)
            if located is None or service.is_stored(session, located.key):
                context = None
            else:
                context = service.context_for(session, self.settings, located, job.lang)
        pdf = None
        if located is not None and context is not None:
            pdf = render_pdf(context, static_dir=self.settings.STATIC_DIR, origin="worker")
        with self.database.sessions() as session:
            begin_write(session)
            repository = ReportRepository(session)
            current = repository.get_job(job.id)
            # Not ours any more: the lease ran out and another worker took it over (or the firm
            # left); that worker stores its own render.
            kept = current is not None and current.claimed_by == token
            if kept:
                try:
                    if located is not None and pdf is not None:
                        service.store(session, located, pdf)
                    repository.delete_job(job.id)
                    session.commit()
                except IntegrityError as exc:
                    if not refers_to_a_deleted_row(exc):
                        raise
                    # The firm's deletion committed since the job was read (PostgreSQL): it
                    # took the job with the firm's rows, so there is nothing to store or retry.
                    session.rollback()
                    kept = False
        if pdf is not None:  # one line per render: an operator (and tests/multi) counts them
            outcome = "stored" if kept else "discarded (lease lost, or the firm deleted)"
            logger.info("report rendered: %s %s, %s", job.assessment_id, job.lang, outcome)

    def _failed(self, token: str, job_id: uuid.UUID, error: str) -> None:
        with self.database.sessions() as session:
            begin_write(session)
            job = ReportRepository(session).get_job(job_id)
            if job is None or job.claimed_by != token:
                return
            job.claimed_by = None
            job.attempts += 1
            job.last_error = error
            if job.attempts >= self.settings.REPORT_JOB_MAX_ATTEMPTS:
                job.status = "failed"
            else:
                job.next_attempt_at = utcnow() + backoff(job.attempts)
            session.commit()
