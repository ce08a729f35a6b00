from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session

from app.models import Enterprise


class VerificationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def page(
        self,
        *,
        district_code: str | None,
        verified: bool | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
        flagged: bool | None = None,
    ) -> list[Enterprise]:
        query: Select[tuple[Enterprise]] = select(Enterprise)
        if district_code is not None:
            query = query.where(Enterprise.district_code == district_code)
        if verified is not None:
            query = query.where(Enterprise.verified.is_(verified))
        if flagged is not None:
            flag_set = Enterprise.flagged_at.is_not(None)
            query = query.where(flag_set if flagged else ~flag_set)
        if after is not None:
            query = query.where(tuple_(Enterprise.created_at, Enterprise.id) > after)
        return list(
            self.session.scalars(query.order_by(Enterprise.created_at, Enterprise.id).limit(limit))
        )
