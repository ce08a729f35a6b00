from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Timestamped, UUIDPrimaryKey, utcnow
from app.models.enterprise import Enterprise

ROLES = ("enterprise", "official", "admin")
#: An enterprise user's place in the firm: an owner also invites and removes members and
#: decides access requests; a member uses the firm's assessments, results and settings.
FIRM_ROLES = ("owner", "member")


class User(UUIDPrimaryKey, Timestamped, Base):
    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint("role IN ('enterprise', 'official', 'admin')", name="role_known"),
        CheckConstraint(
            "(role = 'enterprise') = (enterprise_id IS NOT NULL)", name="enterprise_scope"
        ),
        CheckConstraint("(role = 'enterprise') = (firm_role IS NOT NULL)", name="firm_role_scope"),
        CheckConstraint("firm_role IN ('owner', 'member')", name="firm_role_known"),
    )

    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(20))
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    #: For enterprise users: "owner" or "member" (FIRM_ROLES); None for other roles.
    firm_role: Mapped[str | None] = mapped_column(String(10))
    #: An official's district (GB/T 2260); None for a city-wide official.
    district_code: Mapped[str | None] = mapped_column(String(6))
    locale: Mapped[str] = mapped_column(String(10), default="zh-CN")
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]

    enterprise: Mapped[Enterprise | None] = relationship(lazy="raise")


class WebSession(Base):
    """A server-side login session; the cookie carries a random token, stored as its SHA-256."""

    __tablename__ = "web_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship(lazy="raise")


class AuthAttempt(Base):
    """One throttled attempt (a failed sign-in, an access request, a reset request), kept for
    LOGIN_THROTTLE_WINDOW_SECONDS. The e-mail and the client address are stored as keyed hashes
    (HMAC, key derived from SECRET_KEY), never in clear: the table says how often, not who."""

    __tablename__ = "auth_attempt"
    __table_args__ = (CheckConstraint("kind IN ('login', 'claim', 'reset')", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))
    account: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Invitation(UUIDPrimaryKey, Base):
    """A single-use, expiring link that makes whoever accepts it a user of the firm: a colleague
    invited by the owner (``email`` set: only that address may accept), the owner-to-be of a
    firm an integrator registered (``email`` None: the integrator hands the link over), or a
    claimant whose access request was approved. Only the token's SHA-256 is stored."""

    __tablename__ = "invitation"

    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str | None] = mapped_column(String(254))
    firm_role: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Who issued it (``Principal.caller_key``): the audit trail has the rest.
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    #: Set when a newer invitation replaced it, or the owner withdrew it.
    revoked_at: Mapped[datetime | None]


class PasswordReset(UUIDPrimaryKey, Base):
    """A "forgot password" link: single-use, expiring, stored as the token's SHA-256."""

    __tablename__ = "password_reset"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AccessClaim(UUIDPrimaryKey, Base):
    """Someone asks to join a firm that is already registered. The firm's owners, the admins and
    the firm's district official are told; one of them approves (the claimant gets an invitation
    link by e-mail) or refuses with a reason (the claimant is told it)."""

    __tablename__ = "access_claim"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'refused')", name="status_known"),
    )

    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(100))
    #: Who the claimant is at the firm, in their words.
    message: Mapped[str] = mapped_column(String(500), default="")
    locale: Mapped[str] = mapped_column(String(10), default="zh-CN")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reason: Mapped[str] = mapped_column(String(500), default="")
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
