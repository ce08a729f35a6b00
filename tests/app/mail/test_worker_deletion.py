"""The mail outbox (``app.mail.worker``) and a firm deleted while its mails are being delivered:
a mail the deletion took is not sent once the deletion has committed (only the one whose SMTP
conversation had begun may go), nothing fails, mails about no firm or another firm go out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.enterprises.data_repository import EnterpriseDataRepository
from app.enterprises.repository import EnterpriseRepository
from app.kit.clock import utcnow
from app.kit.settings import Settings
from app.mail import service as mail
from app.mail.repository import MailRepository
from app.mail.worker import MailWorker, SmtpTransport
from app.models import Enterprise, MailMessage
from tests.factories import create_enterprise, create_user, delete_firm, login
from tests.mailbox import Mailbox
from tests.races import at_once, meet_after


class DeletingDuringFirstSend(SmtpTransport):
    """SMTP to the test server; the first message is on its way (checked, its send begun) when
    ``delete`` (the firm's deletion) commits."""

    def __init__(self, settings: Settings, delete: Callable[[], None]) -> None:
        super().__init__(settings)
        self.delete: Callable[[], None] | None = delete

    def send(self, message: EmailMessage) -> None:
        if self.delete is not None:
            delete, self.delete = self.delete, None
            delete()
        super().send(message)


def _owner(app: FastAPI, db: Session, firm: Enterprise) -> TestClient:
    owner = TestClient(app, base_url="http://testserver")
    login(owner, create_user(db, enterprise=firm, firm_role="owner"))
    return owner


def _queue(db: Session, to: str, firm: Enterprise | None, position: int) -> None:
    """A mail due ``position`` seconds after the first (the batch's order): about ``firm``, a
    notice of an access request naming the claimant; about no firm, a password reset."""
    if firm is None:
        message = mail.send(
            db,
            to=to,
            lang="en",
            template="password_reset",
            secret=True,
            url="http://x/r",
            minutes=60,
        )
    else:
        message = mail.send(
            db,
            to=to,
            lang="en",
            template="claim_received",
            enterprise_id=firm.id,
            firm=firm.name,
            credit_code=firm.credit_code,
            claimant="Zhang Wei",
            claimant_email="zhang.wei@example.com",
            message="",
            url="http://x/claims/1",
        )
    message.next_attempt_at = utcnow() - timedelta(minutes=10) + timedelta(seconds=position)
    db.commit()


def _outbox(db: Session) -> set[tuple[str, str]]:
    db.rollback()
    return {(m.to_address, m.status) for m in db.scalars(select(MailMessage))}


def _recipients(mailbox: Mailbox) -> list[str]:
    return [address for received in mailbox.received for address in received.to]


def test_a_firm_deleted_while_its_mails_are_sent_gets_nothing_more_sent(
    app: FastAPI, db: Session, mail_worker: MailWorker, mail_settings: Settings, mailbox: Mailbox
) -> None:
    """The worker claims a batch (two mails about one firm, one about another firm, a password
    reset of a user without a firm) and sends it mail by mail; the first firm's owner deletes
    its data while the first mail is being sent. The firm's other mail went with the deletion
    and is never sent (it was, after the deletion had committed), the one in flight is not
    recorded (it is gone), the others go out, and the pass ends as any other."""
    deleted, staying = create_enterprise(db), create_enterprise(db)
    owner = _owner(app, db, deleted)
    mails: list[tuple[str, Enterprise | None]] = [
        ("first@example.com", deleted),
        ("second@example.com", deleted),
    ]
    mails += [("staying@example.com", staying), ("admin@example.com", None)]
    for position, (to, firm) in enumerate(mails):
        _queue(db, to, firm, position)

    def delete() -> None:
        response = delete_firm(owner, deleted.id, deleted.credit_code)
        assert response.status_code == 200, response.text

    worker = MailWorker(
        mail_worker.database,
        mail_settings,
        transport=DeletingDuringFirstSend(mail_settings, delete),
    )
    try:
        assert worker.run_once() == 4
        assert worker.run_once() == 0
    finally:
        owner.close()

    assert _recipients(mailbox) == [
        "first@example.com",  # in flight when the deletion committed
        "staying@example.com",
        "admin@example.com",
    ]
    assert _outbox(db) == {("staying@example.com", "sent"), ("admin@example.com", "sent")}


def test_a_firm_deleted_while_its_mail_is_being_recorded_fails_no_pass(
    app: FastAPI,
    db: Session,
    enterprise: Enterprise,
    mail_worker: MailWorker,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worker has sent a mail about a firm and read its row to record the outcome when the
    firm's deletion (its rows deleted under its lock) commits: the update of the row then
    matches none (PostgreSQL). That failed the pass, and the batch's other mail waited for the
    lease to run out; now there is nothing to record and the pass goes on.

    On SQLite the write lock runs the two one after the other (the meetings time out): the
    deletion comes wholly before the claim (the firm's mail is never sent) or the record waits
    for it (nothing to record)."""
    owner = _owner(app, db, enterprise)
    _queue(db, "owner@example.com", enterprise, 0)
    _queue(db, "admin@example.com", None, 1)
    # The worker claims while the deletion holds the firm's lock, nothing deleted yet; it then
    # reads the row to record the send while the deletion has deleted it.
    claimed = meet_after(monkeypatch, EnterpriseRepository, "locked", 2)
    meet_after(monkeypatch, MailRepository, "lock_due", 2, claimed)
    deleted_all = meet_after(monkeypatch, EnterpriseDataRepository, "delete_everything", 2)
    meet_after(monkeypatch, MailRepository, "get", 2, deleted_all)
    try:
        attempted, deleted = at_once(
            [
                mail_worker.run_once,
                lambda: delete_firm(owner, enterprise.id, enterprise.credit_code),
            ]
        )
    finally:
        owner.close()

    assert deleted.status_code == 200, deleted.text
    assert _outbox(db) == {("admin@example.com", "sent")}
    assert mail_worker.run_once() == 0
    if db.get_bind().dialect.name == "postgresql":
        assert attempted == 2
        assert _recipients(mailbox) == ["owner@example.com", "admin@example.com"]
    else:
        assert attempted in (1, 2)
        assert _recipients(mailbox)[-1] == "admin@example.com"
