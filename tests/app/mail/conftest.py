"""A real SMTP server and the mail worker delivering to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.kit.db import Database
from app.kit.settings import Settings
from app.mail.worker import MailWorker
from tests.mailbox import Mailbox, smtp_server


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
def mail_settings(settings: Settings, mailbox: Mailbox) -> Settings:
    return settings.model_copy(
        update={"SMTP_HOST": mailbox.host, "SMTP_PORT": mailbox.port, "SMTP_TLS": "none"}
    )


@pytest.fixture
def mail_worker(mail_settings: Settings, engine: object) -> Iterator[MailWorker]:
    database = Database(mail_settings)
    yield MailWorker(database, mail_settings)
    database.dispose()
