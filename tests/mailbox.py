"""A real SMTP server for tests (aiosmtpd on a free loopback port) and reading what it got."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import MailMessage

LINK = re.compile(r"https?://\S+")


@dataclass(frozen=True, slots=True)
class Received:
    to: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        return str(self.message.get_content())

    def link(self, path_part: str = "") -> str:
        """The first link in the body that contains ``path_part``."""
        for found in LINK.findall(self.body):
            if path_part in found:
                return str(found)
        raise AssertionError(f"no link with {path_part!r} in: {self.body}")


class Mailbox:
    """What the SMTP server received, in order."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.received: list[Received] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.received.append(Received(list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if address in r.to]

    def wait_for(self, address: str, count: int = 1, timeout: float = 15.0) -> list[Received]:
        """The messages to ``address`` once there are ``count`` (the worker runs apart)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{address} got {len(self.to(address))} message(s), not {count}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """An SMTP server on 127.0.0.1 for the block (plain, no TLS: ``SMTP_TLS=none``)."""
    port = _free_port()
    mailbox = Mailbox("127.0.0.1", port)
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


def outbox(db: Session, to: str) -> list[MailMessage]:
    """The queued messages to ``to``, oldest first (read from the outbox table, undelivered)."""
    db.rollback()
    db.expire_all()
    return list(
        db.scalars(
            select(MailMessage)
            .where(MailMessage.to_address == to)
            .order_by(MailMessage.created_at, MailMessage.id)
        )
    )


def outbox_link(db: Session, to: str, path_part: str) -> str:
    """The link containing ``path_part`` in the newest queued message to ``to``."""
    messages = outbox(db, to)
    assert messages, f"no message to {to}"
    for found in LINK.findall(messages[-1].body):
        if path_part in found:
            return str(found)
    raise AssertionError(f"no link with {path_part!r} in: {messages[-1].body}")
