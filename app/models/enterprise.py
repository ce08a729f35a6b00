from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, LargeBinary, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, Timestamped, UUIDPrimaryKey


class Enterprise(UUIDPrimaryKey, Timestamped, Base):
    __tablename__ = "enterprise"
    __table_args__ = (
        CheckConstraint("employees >= 0", name="employees_non_negative"),
        CheckConstraint("annual_revenue_cny >= 0", name="revenue_non_negative"),
        CheckConstraint(
            "size_class IN ('micro', 'small', 'medium', 'large')", name="size_class_known"
        ),
    )

    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    industry_code: Mapped[str] = mapped_column(String(2), index=True)
    employees: Mapped[int]
    annual_revenue_cny: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    size_class: Mapped[str] = mapped_column(String(10))
    above_designated_size: Mapped[bool]
    #: Optional declared facts subsidy matching needs (planned investment, R&D spend, ...).
    facts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    verified: Mapped[bool] = mapped_column(default=False)
    #: "admin" or "official" ("synthetic" for demo firms; "integrator" no longer: an
    #: integrator's registration is an attestation, ``attested_at``).
    verified_method: Mapped[str | None] = mapped_column(String(20))
    # No foreign key: user rows reference enterprises, and the audit trail keeps the who.
    verified_by_user_id: Mapped[uuid.UUID | None]
    verified_by_client_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_client.id", ondelete="SET NULL")
    )
    verified_at: Mapped[datetime | None]
    registered_by_client_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_client.id", ondelete="SET NULL")
    )
    #: When the registering integrator attested the firm (its consent object): recorded, but
    #: the firm counts in heatmaps only once an admin or its district official confirms it.
    attested_at: Mapped[datetime | None]
    #: A district official's flag ("this firm looks wrong"): only an admin can then withdraw
    #: the confirmation.
    flagged_at: Mapped[datetime | None]
    flagged_by_user_id: Mapped[uuid.UUID | None]
    flag_reason: Mapped[str | None] = mapped_column(String(500))
    #: The last change of ``verified`` or of the flag (changes to one firm are rate-limited).
    verification_changed_at: Mapped[datetime | None]
    #: The firm's record secret (app/heatmaps/perturbation.py): 32 random bytes from which the
    #: keys of its heatmap contributions derive. Made once, never shown, never exported. Every
    #: firm has one (made with it, or by the migration that added the column); the column is
    #: nullable only because SQLite cannot make an added column NOT NULL without rebuilding the
    #: table.
    record_secret: Mapped[bytes | None] = mapped_column(
        LargeBinary(32), default=lambda: secrets.token_bytes(32)
    )
    #: Synthetic demo firms are labelled wherever they show.
    synthetic: Mapped[bool] = mapped_column(default=False)
    #: The version of what the firm's reports print of its profile (:meth:`in_reports`): part
    #: of a stored report's key, so a new one makes the firm's reports stale.
    revision: Mapped[int] = mapped_column(BigInteger, default=1)

    def clear_verification(self) -> None:
        """Not confirmed any more: who confirmed it, how and when go with the confirmation."""
        self.verified = False
        self.verified_method = None
        self.verified_by_user_id = None
        self.verified_by_client_id = None
        self.verified_at = None

    def in_reports(self) -> tuple[object, ...]:
        """What a report prints of the profile (its cover; the industry also picks the firm's
        peers): the name, code and label today, the rest as the result was computed for it
        (``app.results.service.ASSESSED_AS``) with a note when that differs from today's, or
        today's for a result kept before submissions recorded it. The rule: the ``revision``
        goes up when this changes, and only then. The
        revenue is printed only through the size class, so a new revenue in the same class
        leaves the reports current, and so do the declared facts (a report's subsidy advice is
        the one stored at submission). A field the report template starts printing belongs
        here."""
        return (
            self.name,
            self.credit_code,
            self.district_code,
            self.industry_code,
            self.size_class,
            self.employees,
            self.synthetic,
        )
