from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.kit.db import locked_row
from app.models import Enterprise, Grant


class EnterpriseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, enterprise_id: uuid.UUID) -> Enterprise | None:
        return self.session.get(Enterprise, enterprise_id)

    def locked(self, enterprise_id: uuid.UUID) -> Enterprise | None:
        """The firm read under its row lock (``kit.db.locked_row``), as the last writer left it."""
        return locked_row(self.session, Enterprise, enterprise_id)

    def get_by_credit_code(self, credit_code: str) -> Enterprise | None:
        return self.session.scalar(select(Enterprise).where(Enterprise.credit_code == credit_code))

    def add(self, enterprise: Enterprise) -> Enterprise:
        self.session.add(enterprise)
        self.session.flush()
        return enterprise

    def active_grant(self, enterprise_id: uuid.UUID, client_id: uuid.UUID) -> Grant | None:
        return self.session.scalar(
            select(Grant).where(
                Grant.enterprise_id == enterprise_id,
                Grant.client_id == client_id,
                Grant.revoked_at.is_(None),
            )
        )

    def grant(self, enterprise_id: uuid.UUID, client_id: uuid.UUID) -> Grant | None:
        return self.session.scalar(
            select(Grant).where(Grant.enterprise_id == enterprise_id, Grant.client_id == client_id)
        )

    def add_grant(self, grant: Grant) -> Grant:
        self.session.add(grant)
        self.session.flush()
        return grant
