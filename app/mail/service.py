"""The mail outbox: compose a message from its template, queue it in the caller's transaction,
list recent ones for admins.

A message is written in the same transaction as the change it announces (an invitation, a
password reset, an access request): if the change rolls back, no mail goes out, and a mail is
never lost because the process stopped after the commit. The worker (``app.mail.worker``)
delivers it afterwards.

Templates are ``templates/mail/<name>.txt``, rendered in the recipient's language with the UI
catalogs: the first line is the subject, the rest (after one blank line) the body.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.kit.cursor import TIME_UUID, Page, paginate
from app.kit.guards import require_admin
from app.kit.i18n import Lang
from app.kit.principal import Principal
from app.kit.web.templating import environment
from app.mail.repository import MailRepository
from app.mail.schemas import MailMessageRead
from app.models import MailMessage


@dataclass(frozen=True, slots=True)
class Composed:
    subject: str
    body: str


def compose(lang: Lang, name: str, **context: Any) -> Composed:
    """The message ``templates/mail/<name>.txt`` in ``lang``: first line subject, then body."""
    text = environment(lang).get_template(f"mail/{name}.txt").render(context)
    subject, _, body = text.strip().partition("\n")
    return Composed(subject.strip(), body.strip() + "\n")


def lang_of_locale(locale: str | None) -> Lang:
    """The service language of a user's stored locale (``zh-CN`` or ``en``)."""
    return "en" if (locale or "").lower().startswith("en") else "zh"


def enqueue(
    session: Session,
    *,
    to: str,
    message: Composed,
    kind: str,
    secret: bool = False,
    enterprise_id: uuid.UUID | None = None,
) -> MailMessage:
    """Queue one message in the caller's transaction (delivered after it commits)."""
    return MailRepository(session).add(
        MailMessage(
            to_address=to,
            subject=message.subject[:300],
            body=message.body,
            kind=kind,
            secret=secret,
            enterprise_id=enterprise_id,
            status="pending",
            attempts=0,
        )
    )


def send(
    session: Session,
    *,
    to: str,
    lang: Lang,
    template: str,
    kind: str | None = None,
    secret: bool = False,
    enterprise_id: uuid.UUID | None = None,
    **context: Any,
) -> MailMessage:
    """Compose ``template`` in ``lang`` and queue it: the usual way to mail someone."""
    return enqueue(
        session,
        to=to,
        message=compose(lang, template, **context),
        kind=kind or template,
        secret=secret,
        enterprise_id=enterprise_id,
    )


def recent(
    session: Session,
    principal: Principal,
    *,
    cursor: str | None,
    limit: int,
    to_address: str | None = None,
) -> Page[MailMessageRead]:
    """The outbox, newest first (admins)."""
    require_admin(principal)
    rows = MailRepository(session).page(
        before=TIME_UUID.decode(cursor), limit=limit + 1, to_address=to_address
    )
    page, next_cursor = paginate(rows, limit, TIME_UUID, lambda m: (m.created_at, m.id))
    return Page[MailMessageRead](
        items=[MailMessageRead.model_validate(m) for m in page], next_cursor=next_cursor
    )
