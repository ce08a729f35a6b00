from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UUIDPrimaryKey, utcnow


class Contact(UUIDPrimaryKey, Base):
    """A person to contact at an enterprise (PIPL: personal data, kept in its own table and
    only until ``retain_until``; ``zhizao privacy purge`` deletes what is past it)."""

    __tablename__ = "contact"

    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    role: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retain_until: Mapped[datetime] = mapped_column(index=True)
