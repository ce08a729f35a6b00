"""The background worker: one loop over every job; one failing job does not stop the others."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.enterprises.privacy import RetentionPurge
from app.heatmaps.service import HeatmapPublisher
from app.integrators.worker import WebhookWorker
from app.kit.db import Database
from app.kit.settings import Settings
from app.mail import service as mail
from app.mail.worker import MailWorker
from app.main import create_app
from app.reports.worker import ReportWorker
from app.worker import Worker, build_jobs
from tests.mailbox import smtp_server


class Broken:
    name = "broken"

    def __init__(self) -> None:
        self.calls = 0

    def run_once(self) -> int:
        self.calls += 1
        raise RuntimeError("database hiccup")

    def close(self) -> None:
        pass


class Counting:
    name = "counting"

    def __init__(self, due: int) -> None:
        self.due = due

    def run_once(self) -> int:
        done, self.due = min(self.due, 1), max(0, self.due - 1)
        return done

    def close(self) -> None:
        pass


def test_the_jobs_are_webhooks_mail_publication_purge_and_reports(
    settings: Settings,
) -> None:
    database = Database(settings)
    try:
        kinds = [type(job) for job in build_jobs(database, settings)]
    finally:
        database.dispose()
    assert kinds == [WebhookWorker, MailWorker, HeatmapPublisher, RetentionPurge, ReportWorker]


def test_a_failing_job_does_not_stop_the_others() -> None:
    broken, counting = Broken(), Counting(due=3)
    worker = Worker([broken, counting], poll_seconds=0.01)
    assert worker.drain() == 3
    assert broken.calls == 4  # tried on every pass, logged, never fatal


def test_run_forever_stops_when_asked() -> None:
    worker = Worker([Counting(due=2)], poll_seconds=0.01)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,))
    thread.start()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_the_embedded_worker_delivers_mail(settings: Settings, db: Session) -> None:
    with smtp_server() as mailbox:
        embedded = settings.model_copy(
            update={
                "WEBHOOK_WORKER": "embedded",
                "WEBHOOK_POLL_SECONDS": 0.05,
                "SMTP_HOST": mailbox.host,
                "SMTP_PORT": mailbox.port,
                "SMTP_TLS": "none",
            }
        )
        with TestClient(create_app(embedded)) as client:
            assert client.app.state.worker is not None  # type: ignore[attr-defined]
            mail.send(db, to="zhao@example.com", lang="en", template="claim_filed", firm="Acme")
            db.commit()
            [received] = mailbox.wait_for("zhao@example.com")
        assert received.subject == "Your request to join Acme"
        assert client.app.state.worker is None  # type: ignore[attr-defined]
