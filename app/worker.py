"""The background worker (composition): one loop over every job that drains an outbox.

``zhizao worker`` runs it as its own process (several may run against PostgreSQL: each job
claims its rows with ``FOR UPDATE SKIP LOCKED`` and a lease); on the embedded default (SQLite,
``ZHIZAO_WEBHOOK_WORKER=auto``) the web process runs it in a thread, started and stopped with
the app. A job is anything with a ``name``, ``run_once() -> attempts made`` and ``close()``;
:func:`build_jobs` is the one list of them (webhook deliveries, the mail outbox, the daily
heatmap publication, the retention purge, the PDF reports of new submissions).
Periodic jobs (publication, purge) run once per period across every worker
(``app.kit.schedule``: a claimed schedule row with a lease, on both engines).
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from fastapi import FastAPI

from app.enterprises.privacy import RetentionPurge
from app.heatmaps import service as heatmaps
from app.integrators import worker as webhooks
from app.integrators.worker import WebhookWorker
from app.kit.db import Database
from app.kit.settings import Settings
from app.mail import worker as mail
from app.mail.worker import MailWorker
from app.questionnaires.catalog import QuestionnaireCatalog
from app.reports.worker import ReportWorker

logger = logging.getLogger("zhizao.worker")


class Job(Protocol):
    name: str

    def run_once(self) -> int:
        """Do what is due now; how many attempts were made (0: nothing was due)."""

    def close(self) -> None: ...


def build_jobs(database: Database, settings: Settings) -> list[Job]:
    catalog = QuestionnaireCatalog.from_directory(settings.QUESTIONNAIRES_DIR)
    return [
        WebhookWorker(database, settings),
        MailWorker(database, settings),
        heatmaps.HeatmapPublisher(database, settings, catalog),
        RetentionPurge(database, settings),
        ReportWorker(database, settings, catalog),
    ]


class Worker:
    """Runs every job in turn; sleeps ``poll_seconds`` only when none had anything to do."""

    def __init__(self, jobs: list[Job], poll_seconds: float) -> None:
        self.jobs = jobs
        self.poll_seconds = poll_seconds

    def run_once(self) -> int:
        done = 0
        for job in self.jobs:
            try:
                done += job.run_once()
            except Exception:  # a database hiccup in one job must not end the others
                logger.exception("%s pass failed", job.name)
        return done

    def drain(self) -> int:
        """Pass until nothing is due; the attempts made in all."""
        total = 0
        while (done := self.run_once()) > 0:
            total += done
        return total

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if self.run_once() == 0:
                stop.wait(self.poll_seconds)

    def close(self) -> None:
        for job in self.jobs:
            job.close()


def worker_for(database: Database, settings: Settings) -> Worker:
    return Worker(build_jobs(database, settings), settings.WEBHOOK_POLL_SECONDS)


def embedded_enabled(settings: Settings) -> bool:
    if settings.WEBHOOK_WORKER == "auto":
        return settings.DATABASE_URL.startswith("sqlite")
    return settings.WEBHOOK_WORKER == "embedded"


def start_embedded(app: FastAPI) -> None:
    """Run the worker in a background thread of the web process (the SQLite default)."""
    settings: Settings = app.state.settings
    if not embedded_enabled(settings):
        app.state.worker = None
        return
    worker = worker_for(app.state.database, settings)
    stop = threading.Event()
    thread = threading.Thread(
        target=worker.run_forever, args=(stop,), name="zhizao-worker", daemon=True
    )
    thread.start()
    app.state.worker = (worker, stop, thread)


def stop_embedded(app: FastAPI) -> None:
    running = getattr(app.state, "worker", None)
    if running is None:
        return
    worker, stop, thread = running
    stop.set()
    settings: Settings = app.state.settings
    # The send in flight ends within its allowance (each worker shuts it at its deadline).
    in_flight = max(webhooks.send_allowance(settings), mail.send_allowance(settings))
    thread.join(timeout=in_flight.total_seconds() + 5)
    worker.close()
    app.state.worker = None
