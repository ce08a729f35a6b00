"""Queries on an enterprise's contact persons (``contact``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from app.models import Contact


class ContactRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def of_enterprise(self, enterprise_id: uuid.UUID) -> list[Contact]:
        return list(
            self.session.scalars(
                select(Contact)
                .where(Contact.enterprise_id == enterprise_id)
                .order_by(Contact.created_at, Contact.id)
            )
        )

    def delete_of_enterprise(self, enterprise_id: uuid.UUID) -> None:
        self.session.execute(delete(Contact).where(Contact.enterprise_id == enterprise_id))

    def add(self, contact: Contact) -> None:
        self.session.add(contact)

    def delete_expired(self, now: datetime) -> int:
        result = self.session.execute(delete(Contact).where(Contact.retain_until <= now))
        return cast(CursorResult[Any], result).rowcount
