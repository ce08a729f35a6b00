"""The mail worker and an SMTP server slow at every step: one send ends with its allowance
(3 × SMTP_TIMEOUT_SECONDS), however slowly the server answers, and counts as a failed attempt."""

from __future__ import annotations

import contextlib
import socket
import threading

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.kit.clock import utcnow
from app.kit.db import Database
from app.kit.settings import Settings
from app.mail import service as mail
from app.mail.worker import MailWorker
from tests.mailbox import outbox

#: How long the slow server takes over each reply, a byte at a time.
REPLY_SECONDS = 0.4


class SlowSmtpServer:
    """An SMTP server on 127.0.0.1 for one conversation that sends each reply a byte at a time
    over ``reply_seconds``: every wait of the client for the next byte is well within its
    timeout, the whole conversation (seven replies) far longer than a send's allowance.
    ``goodbye``: its answer to QUIT."""

    def __init__(
        self,
        reply_seconds: float = REPLY_SECONDS,
        *,
        goodbye: bytes = b"221 bye\r\n",
    ) -> None:
        self.reply_seconds = reply_seconds
        self.goodbye = goodbye
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(10)
        self.port: int = self.listener.getsockname()[1]
        #: The commands received, in order (their first four letters).
        self.commands: list[str] = []
        #: Whether the message's data arrived in full (up to its closing ``.`` line).
        self.got_message = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> SlowSmtpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.listener.close()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):  # the client gone, or the test over
            connection, _ = self.listener.accept()
            connection.settimeout(10)
            with connection, connection.makefile("rb") as lines:
                self._reply(connection, b"220 slow.test\r\n")
                while line := lines.readline():
                    command = line[:4].decode().upper()
                    self.commands.append(command)
                    if command == "DATA":
                        self._reply(connection, b"354 go on\r\n")
                        while (data := lines.readline()) != b".\r\n":
                            if not data:
                                return
                        self.got_message = True
                    if command == "QUIT":
                        self._reply(connection, self.goodbye)
                        return
                    self._reply(connection, b"250 ok\r\n")

    def _reply(self, connection: socket.socket, line: bytes) -> None:
        for byte in line:
            if self._stop.wait(self.reply_seconds / len(line)):
                raise OSError("test over")
            connection.sendall(bytes([byte]))


def smtp_settings(settings: Settings, server: SlowSmtpServer, timeout: float) -> Settings:
    """Mail to ``server``, each wait for it limited to ``timeout`` (a send's allowance is three
    times as long)."""
    return settings.model_copy(
        update={
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": server.port,
            "SMTP_TLS": "none",
            "SMTP_TIMEOUT_SECONDS": timeout,
        }
    )


def deliver(settings: Settings) -> None:
    """One pass of a mail worker; it takes up the one queued mail."""
    database = Database(settings)
    try:
        assert MailWorker(database, settings).run_once() == 1
    finally:
        database.dispose()


def test_an_smtp_server_slow_at_every_step_is_given_up_at_the_send_allowance(
    db: Session, settings: Settings, engine: Engine
) -> None:
    """smtplib's timeout bounds each wait for the server, not a send: a server answering a byte
    at a time held the send until it was done (here about 2.8 s against an allowance of 0.9 s),
    past the lease, so that another worker took the mail over and sent it a second time. Now
    the connection is shut at the deadline, the mail is not sent and the attempt is recorded
    with its error, to be retried later like any SMTP failure."""
    queued = mail.send(db, to="slow@example.com", lang="en", template="claim_filed", firm="Firm")
    db.commit()
    with SlowSmtpServer() as server:
        deliver(smtp_settings(settings, server, timeout=0.3))
        assert not server.got_message

    [given_up] = outbox(db, "slow@example.com")
    assert given_up.id == queued.id
    assert given_up.status == "pending" and given_up.sent_at is None
    assert given_up.attempts == 1
    assert given_up.last_error == (
        "TimeoutError: given up after 0.9 s: the SMTP server took too long"
    )
    assert given_up.next_attempt_at > utcnow()  # retried with the usual backoff


def test_a_mail_the_server_accepted_is_sent_however_the_goodbye_goes(
    db: Session, settings: Settings, engine: Engine
) -> None:
    """The server answered 250 to the message's data: it is delivered. An answer to QUIT other
    than 221 (or one the deadline cuts short, "22") made smtplib raise, the send counted as
    failed, and the mail was sent again later."""
    mail.send(db, to="bye@example.com", lang="en", template="claim_filed", firm="Firm")
    db.commit()
    with SlowSmtpServer(0, goodbye=b"500 no\r\n") as server:
        deliver(smtp_settings(settings, server, timeout=10))
        assert server.got_message and server.commands[-1] == "QUIT"

    [sent] = outbox(db, "bye@example.com")
    assert sent.status == "sent" and sent.sent_at is not None
    assert sent.attempts == 1 and sent.last_error is None
