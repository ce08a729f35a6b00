"""The mail outbox: written in the caller's transaction, delivered over SMTP to a real server,
retried with backoff, a secret message's body dropped once sent, logged without a server."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.kit.clock import utcnow
from app.kit.db import Database
from app.kit.settings import Settings
from app.mail import service as mail
from app.mail.worker import SENT_SECRET_BODY, MailWorker, backoff
from app.models import MailMessage
from tests.mailbox import Mailbox


def _queue(db: Session, *, to: str = "wang@example.com", secret: bool = False) -> MailMessage:
    message = mail.send(
        db,
        to=to,
        lang="zh",
        template="password_reset",
        secret=secret,
        url="http://127.0.0.1:8000/password/reset/abc",
        minutes=60,
    )
    db.commit()
    return message


def test_a_rolled_back_change_sends_nothing(db: Session, mail_worker: MailWorker) -> None:
    mail.send(db, to="a@example.com", lang="en", template="claim_filed", firm="Acme")
    db.rollback()
    db.expire_all()
    assert db.scalar(select(MailMessage)) is None
    assert mail_worker.run_once() == 0


def test_worker_delivers_over_smtp_in_the_recipients_language(
    db: Session, mail_worker: MailWorker, mailbox: Mailbox, mail_settings: Settings
) -> None:
    queued = _queue(db, secret=True)
    assert mail_worker.run_once() == 1
    [received] = mailbox.wait_for("wang@example.com")
    assert received.subject == "重置您的智造密码"
    assert received.link("/password/reset/") == "http://127.0.0.1:8000/password/reset/abc"
    assert received.message["From"] == mail_settings.MAIL_SENDER
    assert received.message.get_content_charset() == "utf-8"
    db.rollback()
    db.expire_all()
    stored = db.get(MailMessage, queued.id)
    assert stored is not None and stored.status == "sent" and stored.attempts == 1
    # The link is not kept in the outbox once it has gone out.
    assert stored.body == SENT_SECRET_BODY
    assert mail_worker.run_once() == 0  # sent once


def test_an_unreachable_server_is_retried_with_backoff_then_given_up(
    db: Session, settings: Settings, engine: object
) -> None:
    unreachable = settings.model_copy(
        update={
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": 9,
            "SMTP_TLS": "none",
            "MAIL_MAX_ATTEMPTS": 2,
        }
    )
    database = Database(unreachable)
    worker = MailWorker(database, unreachable)
    try:
        queued = _queue(db)
        assert worker.run_once() == 1
        db.rollback()
        db.expire_all()
        stored = db.get(MailMessage, queued.id)
        assert stored is not None and stored.status == "pending" and stored.attempts == 1
        assert stored.last_error and "Error" in stored.last_error
        assert stored.next_attempt_at >= utcnow() + backoff(1) - timedelta(seconds=5)
        assert worker.run_once() == 0  # not due yet
        assert worker.run_once(now=stored.next_attempt_at + timedelta(seconds=1)) == 1
        db.rollback()
        db.expire_all()
        stored = db.get(MailMessage, queued.id)
        assert stored is not None and stored.status == "failed" and stored.attempts == 2
    finally:
        database.dispose()


def test_without_a_server_each_message_is_logged(
    db: Session, settings: Settings, engine: object, caplog: pytest.LogCaptureFixture
) -> None:
    database = Database(settings)  # SMTP_HOST is empty
    worker = MailWorker(database, settings)
    try:
        _queue(db, to="li@example.com")
        with caplog.at_level(logging.WARNING, logger="zhizao.mail"):
            assert worker.run_once() == 1
        assert "li@example.com" in caplog.text
        assert "/password/reset/abc" in caplog.text
        assert db.scalar(select(MailMessage.status)) == "sent"
    finally:
        database.dispose()


def test_backoff_doubles_from_a_minute_up_to_six_hours() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (1, 2, 4)]
    assert backoff(30) == timedelta(hours=6)
