"""The mail worker's lease and a slow SMTP server: a batch that takes longer than one lease keeps
its unsent mails leased, so another worker running meanwhile sends none of them a second time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.kit import clock
from app.kit.clock import FrozenClock, utcnow
from app.kit.settings import Settings
from app.mail import service as mail
from app.mail.worker import MailWorker, SmtpTransport
from app.models import MailMessage
from tests.mailbox import Mailbox


class SlowSmtp(SmtpTransport):
    """SMTP to the test server, each send taking the whole of what the worker allows one (three
    SMTP timeouts, on the frozen clock); as each send begins, another worker runs a pass."""

    def __init__(self, settings: Settings, time: FrozenClock, other: Callable[[], int]) -> None:
        super().__init__(settings)
        self.time = time
        self.other = other
        #: What the other worker's passes took up, one per send of this worker.
        self.taken_over: list[int] = []

    def send(self, message: EmailMessage) -> None:
        self.taken_over.append(self.other())
        super().send(message)
        self.time.advance(timedelta(seconds=3 * self.settings.SMTP_TIMEOUT_SECONDS))


def test_a_slow_batch_keeps_its_unsent_mails_leased_so_no_other_worker_sends_them_again(
    db: Session, mail_worker: MailWorker, mail_settings: Settings, mailbox: Mailbox
) -> None:
    """Five mails, each send taking its allowance: the batch outlasts one lease (three sends
    against a lease of one send and 30 s). The lease was not renewed, so the other worker's pass
    at the third send took the rest over and sent the third mail, which the first worker was
    sending too."""
    recipients = [f"user{n}@example.com" for n in range(5)]
    for position, to in enumerate(recipients):
        queued = mail.send(db, to=to, lang="en", template="claim_filed", firm=f"Firm {position}")
        queued.next_attempt_at = utcnow() - timedelta(minutes=10) + timedelta(seconds=position)
        db.commit()

    with clock.frozen(utcnow()) as time:
        slow = SlowSmtp(mail_settings, time, mail_worker.run_once)
        assert MailWorker(mail_worker.database, mail_settings, transport=slow).run_once() == 5

    assert [address for received in mailbox.received for address in received.to] == recipients
    assert slow.taken_over == [0] * 5
    db.rollback()
    db.expire_all()
    assert {m.status for m in db.scalars(select(MailMessage))} == {"sent"}
