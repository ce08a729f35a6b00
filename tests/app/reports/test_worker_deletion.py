"""The PDF outbox (``app.reports.worker``) and a firm deleted between a render's queueing and
its storing: nothing of the firm is stored, nothing fails, nothing is tried again."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.enterprises.data_repository import EnterpriseDataRepository
from app.enterprises.repository import EnterpriseRepository
from app.kit.db import Database
from app.kit.settings import Settings
from app.models import Enterprise, ReportJob, ReportPdf
from app.questionnaires.catalog import QuestionnaireCatalog
from app.reports import worker as report_worker
from app.reports.repository import ReportRepository
from app.reports.worker import ReportWorker
from tests.app.integrators.helpers import submitted
from tests.factories import create_user, delete_firm, login
from tests.races import at_once, meet_after

#: What the worker "renders" here: the race is about storing it, not about drawing it.
FAKE_PDF = b"%PDF-1.7 test"


@pytest.fixture
def worker(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReportWorker]:
    """A worker taking one job per pass (the other language's job stays queued)."""
    monkeypatch.setattr(report_worker, "render_pdf", lambda *args, **kwargs: FAKE_PDF)
    database = Database(settings)
    catalog = QuestionnaireCatalog.from_directory(settings.QUESTIONNAIRES_DIR)
    yield ReportWorker(database, settings, catalog, batch_size=1)
    database.dispose()


def _submitted_firm(app: FastAPI, db: Session, enterprise: Enterprise) -> TestClient:
    """The firm's owner, signed in, after a submission (which queued a render per language)."""
    owner = TestClient(app, base_url="http://testserver")
    login(owner, create_user(db, enterprise=enterprise, firm_role="owner"))
    submitted(owner, {}, str(enterprise.id))
    return owner


def _left(db: Session) -> tuple[int | None, int | None]:
    db.rollback()
    return (
        db.scalar(select(func.count()).select_from(ReportJob)),
        db.scalar(select(func.count()).select_from(ReportPdf)),
    )


def test_the_jobs_of_a_firm_deleted_before_they_run_go_with_it(
    app: FastAPI, db: Session, enterprise: Enterprise, worker: ReportWorker
) -> None:
    owner = _submitted_firm(app, db, enterprise)
    assert _left(db) == (2, 0)
    assert delete_firm(owner, enterprise.id, enterprise.credit_code).status_code == 200
    owner.close()
    assert worker.run_once() == 0
    assert _left(db) == (0, 0)


def test_a_firm_deleted_while_its_report_renders_is_no_failure(
    app: FastAPI,
    db: Session,
    enterprise: Enterprise,
    worker: ReportWorker,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The worker has rendered and read its job, still leased to it, when the firm's deletion
    (holding the firm's lock, its rows deleted) commits: storing the PDF then refers to a firm
    that is gone (PostgreSQL's foreign key). That was logged as a failed job with its
    traceback; it is what a deletion does to a render in flight, and there is nothing left to
    store or to try again."""
    owner = _submitted_firm(app, db, enterprise)
    # The worker claims its job while the deletion holds the firm's lock, nothing deleted yet;
    # then it reads its job again to store the render while the deletion has deleted it all.
    claimed = meet_after(monkeypatch, EnterpriseRepository, "locked", 2)
    meet_after(monkeypatch, ReportRepository, "lock_due", 2, claimed)
    deleted_all = meet_after(monkeypatch, EnterpriseDataRepository, "delete_everything", 2)
    meet_after(monkeypatch, ReportRepository, "get_job", 2, deleted_all)

    with caplog.at_level(logging.INFO, logger="zhizao.reports"):
        attempted, deleted = at_once(
            [worker.run_once, lambda: delete_firm(owner, enterprise.id, enterprise.credit_code)]
        )
    owner.close()

    assert deleted.status_code == 200, deleted.text
    # On SQLite the claim is a write, and the deletion holds the write lock while it waits for
    # the claim: the meeting times out, and which of the two goes first is the scheduler's. Either
    # order must end the same way (below); only PostgreSQL can hold them at the meeting points.
    if db.get_bind().dialect.name == "postgresql":
        assert attempted == 1
    else:
        assert attempted in (0, 1)
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert failures == [], [r.getMessage() for r in failures]
    assert _left(db) == (0, 0)
    assert worker.run_once() == 0  # nothing to try again
