"""Delivering the mail outbox: over SMTP, or to the log where no SMTP server is configured.

Like the webhook worker (``app.integrators.worker``), a delivery takes short transactions with
no lock held while the SMTP conversation runs:

1. claim: due messages are locked (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so several workers
   share the outbox) and leased to this worker (``claimed_by`` and ``next_attempt_at`` = end of
   the lease). The lease covers one send; the messages of the batch not yet sent are leased
   again before it could run out under them, so a batch to a slow SMTP server (up to a send's
   allowance per message) is not taken over and sent a second time by another worker;
2. send: the message is read again first and skipped unless it is still there, pending and
   ours. A message about a firm goes with the firm's data when its owner deletes them
   (``app.enterprises.data``): one claimed before the deletion and waiting behind the batch's
   other sends is not sent once the deletion has committed. What the re-read cannot see is a
   deletion that commits after it: a message whose SMTP conversation has begun may still reach
   its recipient after the owner was told that everything is deleted (one message per worker
   at most). Holding a lock through the conversation would prevent it, but would hold the
   deletion (and on SQLite every write of the service) for up to a send's allowance. A message
   about no firm (a password reset of a user without one) is not affected. The conversation is
   given up once it has taken its allowance (3 × SMTP_TIMEOUT_SECONDS, however slowly the
   server answers: ``SmtpTransport``), a failed attempt like any other;
3. record: the outcome is stored if the message is still there and the lease still ours (a firm
   deleted in the meantime leaves nothing to record, also when its deletion commits between the
   record's read and its write).

A failure is retried with exponential backoff (one minute, doubling, at most six hours) up to
MAIL_MAX_ATTEMPTS, then the message is marked failed. A worker that dies mid-send leaves a lease
that runs out, and the message is sent again: delivery is at least once. A secret message's body
is blanked once it is sent.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Protocol

from sqlalchemy.orm.exc import StaleDataError

from app.kit.clock import utcnow
from app.kit.db import Database, begin_write
from app.kit.deadline import Deadline
from app.kit.i18n import N_
from app.kit.settings import Environment, Settings
from app.mail.repository import MailRepository

logger = logging.getLogger("zhizao.mail")

BATCH_SIZE = 20
#: What a lease gives beyond one send's allowance (``send_allowance``).
LEASE_MARGIN = timedelta(seconds=30)
#: Kept instead of a secret message's body once it has been sent (stored in English, shown
#: translated: the admin console's outbox page).
SENT_SECRET_BODY = N_("(sent; the body held a single-use link and is not kept)")


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver or raise."""


class _Smtp(smtplib.SMTP):
    """``smtplib.SMTP`` handing its connection's socket to a ``Deadline`` as it opens (before
    any TLS, so that a slow handshake is cut too)."""

    def __init__(self, deadline: Deadline, host: str, port: int, timeout: float) -> None:
        self.deadline = deadline
        super().__init__(host, port, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        # smtplib's hook for how the connection is made (SMTP_SSL wraps what this returns).
        opened: socket.socket = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        self.deadline.watch(opened)
        return opened


class _SmtpSsl(smtplib.SMTP_SSL, _Smtp):
    """Implicit TLS: ``SMTP_SSL`` wraps the socket ``_Smtp`` has handed over."""

    def __init__(
        self, deadline: Deadline, host: str, port: int, timeout: float, context: ssl.SSLContext
    ) -> None:
        self.deadline = deadline
        smtplib.SMTP_SSL.__init__(self, host, port, timeout=timeout, context=context)


class SmtpTransport:
    """One SMTP connection per message: STARTTLS, implicit TLS or plain, login if a user is set.

    A send ends with its allowance (``send_allowance``), however slowly the server answers:
    smtplib's timeout bounds each wait for the server, not the conversation, and a server
    answering a byte at a time, or each reply just within the timeout, held one send past the
    lease, so that another worker took the message over and sent it a second time. At the
    deadline the connection is shut (``Deadline``) and the send fails with ``TimeoutError``:
    retried with the usual backoff, like any SMTP failure."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage) -> None:
        deadline = Deadline(send_allowance(self.settings).total_seconds())
        try:
            with deadline:
                self._converse(message, deadline)
        except (OSError, smtplib.SMTPException) as exc:
            if deadline.passed:
                raise TimeoutError(
                    f"given up after {deadline.seconds:g} s: the SMTP server took too long"
                ) from exc
            raise

    def _converse(self, message: EmailMessage, deadline: Deadline) -> None:
        settings = self.settings
        host, port, timeout = settings.SMTP_HOST, settings.SMTP_PORT, settings.SMTP_TIMEOUT_SECONDS
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if settings.SMTP_TLS == "tls":
            smtp = _SmtpSsl(deadline, host, port, timeout, context)
        else:
            smtp = _Smtp(deadline, host, port, timeout)
        accepted = False
        try:
            with smtp:
                if settings.SMTP_TLS == "starttls":
                    smtp.starttls(context=context)
                if settings.SMTP_USER:
                    password = (
                        settings.SMTP_PASSWORD.get_secret_value() if settings.SMTP_PASSWORD else ""
                    )
                    smtp.login(settings.SMTP_USER, password)
                smtp.send_message(message)
                accepted = True
        except smtplib.SMTPException:
            if not accepted:
                raise
            # The server has accepted the message: only the goodbye went wrong (an answer to QUIT
            # other than 221, or one cut short by the deadline), and counting the send failed
            # would have the message sent again.


class LogTransport:
    """No SMTP server: each message goes to the log (in full outside production, where reading
    the link there is how a developer signs up colleagues or resets a password)."""

    def __init__(self, settings: Settings) -> None:
        self.with_body = settings.ENV != Environment.production

    def send(self, message: EmailMessage) -> None:
        body = message.get_content() if self.with_body else "(body not logged in production)"
        logger.warning(
            "mail not sent (ZHIZAO_SMTP_HOST is empty), logged instead: to %s, subject %s\n%s",
            message["To"],
            message["Subject"],
            body,
        )


def transport_for(settings: Settings) -> Transport:
    return SmtpTransport(settings) if settings.SMTP_HOST else LogTransport(settings)


def send_allowance(settings: Settings) -> timedelta:
    """The longest one send may take, and what the lease allows it: three SMTP_TIMEOUT_SECONDS
    (the connection, TLS and login, the message). smtplib's timeout bounds each wait for the
    server, not the whole conversation, so ``SmtpTransport`` shuts the connection at this
    deadline (``app.kit.deadline.Deadline``, as the webhook worker does), and the send counts as
    a failed attempt."""
    return timedelta(seconds=settings.SMTP_TIMEOUT_SECONDS * 3)


def backoff(attempts: int) -> timedelta:
    """Delay after ``attempts`` failures: one minute, doubling, at most six hours."""
    return timedelta(minutes=min(360, 2 ** max(0, attempts - 1)))


@dataclass(frozen=True, slots=True)
class Claimed:
    id: uuid.UUID
    to_address: str
    subject: str
    body: str


def build_message(settings: Settings, item: Claimed, at: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.MAIL_SENDER
    message["To"] = item.to_address
    message["Subject"] = item.subject
    message["Date"] = formatdate(at.timestamp(), usegmt=True)
    domain = parseaddr(settings.MAIL_SENDER)[1].partition("@")[2] or "zhizao.local"
    message["Message-ID"] = make_msgid(idstring=item.id.hex, domain=domain)
    message.set_content(item.body, charset="utf-8")
    return message


class MailWorker:
    """Delivers due outbox messages; ``run_once`` is one pass (``app.worker`` loops)."""

    name = "mail"

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        transport: Transport | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.database = database
        self.settings = settings
        self.transport = transport or transport_for(settings)
        self.batch_size = batch_size
        self.send_allowance = send_allowance(settings)
        self.lease = self.send_allowance + LEASE_MARGIN
        #: A batch's unsent messages are leased again once less than a send and a third of the
        #: margin is left (a lease never runs out under a worker that is still sending).
        self.renew_below = self.send_allowance + LEASE_MARGIN / 3

    def close(self) -> None:
        """Nothing held between passes (one SMTP connection per message)."""

    def run_once(self, now: datetime | None = None) -> int:
        """Deliver what is due at ``now``; returns how many messages were taken up (each sent,
        or skipped because it was deleted with its firm or taken over since the claim)."""
        now = now or utcnow()
        with self.database.sessions() as session:
            if not MailRepository(session).any_due(now):
                return 0
        token = uuid.uuid4().hex
        claimed = self._claim(token, now)
        lease_end = now + self.lease
        for position, item in enumerate(claimed):
            at = max(now, utcnow())
            if lease_end - at < self.renew_below:
                lease_end = at + self.lease
                self._extend_lease(token, [c.id for c in claimed[position:]], lease_end)
            if not self._sendable(token, item.id):
                continue
            error: str | None = None
            try:
                self.transport.send(build_message(self.settings, item, at))
            except (OSError, smtplib.SMTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
                logger.info("mail %s to %s failed: %s", item.id, item.to_address, error)
            self._record(token, item.id, error, at)
        return len(claimed)

    def _claim(self, token: str, now: datetime) -> list[Claimed]:
        with self.database.sessions() as session:
            begin_write(session)
            claimed = []
            for message in MailRepository(session).lock_due(now, self.batch_size):
                message.claimed_by = token
                message.next_attempt_at = now + self.lease
                claimed.append(
                    Claimed(message.id, message.to_address, message.subject, message.body)
                )
            session.commit()
        return claimed

    def _extend_lease(self, token: str, message_ids: list[uuid.UUID], until: datetime) -> None:
        """Lease the batch's unsent messages again: a batch to a slow SMTP server takes up to a
        send per message, longer than one lease, and another worker would otherwise take the
        rest over and send a message this worker then sends too (the re-read before a send
        cannot tell, once the other worker's claim comes during this worker's send)."""
        with self.database.sessions() as session:
            begin_write(session)
            MailRepository(session).extend_lease(message_ids, token, until)
            session.commit()

    def _sendable(self, token: str, message_id: uuid.UUID) -> bool:
        with self.database.sessions() as session:
            return MailRepository(session).sendable(message_id, token)

    def _record(self, token: str, message_id: uuid.UUID, error: str | None, at: datetime) -> None:
        with self.database.sessions() as session:
            begin_write(session)
            message = MailRepository(session).get(message_id)
            if message is None or message.claimed_by != token:
                return  # deleted with its firm, or the lease ran out and another worker took it
            now = max(at, utcnow())
            message.claimed_by = None
            message.attempts += 1
            message.last_error = error
            if error is None:
                message.status = "sent"
                message.sent_at = now
                if message.secret:
                    message.body = SENT_SECRET_BODY
            elif message.attempts >= self.settings.MAIL_MAX_ATTEMPTS:
                message.status = "failed"
            else:
                message.next_attempt_at = now + backoff(message.attempts)
            try:
                session.commit()
            except StaleDataError:
                # Deleted since it was read, with its firm's data (PostgreSQL: the update waited
                # for the deletion, then matched no row): nothing is left to record.
                session.rollback()
