from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, JSONType, Timestamped, UUIDPrimaryKey, utcnow
from app.models.enterprise import Enterprise

SCOPES = ("enterprises:write", "assessments:write", "assessments:read", "reports:read")


class ApiClient(UUIDPrimaryKey, Timestamped, Base):
    """An integrator (system integrator or industrial-internet platform)."""

    __tablename__ = "api_client"

    name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    disabled_at: Mapped[datetime | None]


class ApiKey(UUIDPrimaryKey, Base):
    """A key ``<prefix>_<key_id>_<secret>``; only the SHA-256 of the secret is stored."""

    __tablename__ = "api_key"

    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_client.id", ondelete="CASCADE"), index=True
    )
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    client: Mapped[ApiClient] = relationship(lazy="raise")


class Grant(UUIDPrimaryKey, Base):
    """An enterprise's consent that an API client may see and act on its data."""

    __tablename__ = "grant"
    __table_args__ = (UniqueConstraint("enterprise_id", "client_id"),)

    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_client.id", ondelete="CASCADE"), index=True
    )
    #: How consent was given: "web", "api" (by an enterprise user) or "registration" (recorded
    #: by the integrator that registered the firm, with the consent evidence in `evidence`).
    method: Mapped[str] = mapped_column(String(20))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    granted_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    enterprise: Mapped[Enterprise] = relationship(lazy="raise")
    client: Mapped[ApiClient] = relationship(lazy="raise")
