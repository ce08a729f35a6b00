"""hardening (hard-b): throttled attempts stored as keyed hashes

Revision ID: hard_b_1
Revises: 0006
Create Date: 2026-12-01 10:00:00

``login_failure`` kept every e-mail tried, unknown ones included, in clear; ``auth_attempt``
keeps keyed hashes (HMAC) of the e-mail and the client address. The old rows are throttle
counters of the last LOGIN_THROTTLE_WINDOW_SECONDS and carry no address, so they are dropped,
not converted: no clear-text address survives the upgrade.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "hard_b_1"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_attempt",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('login', 'claim', 'reset')", name=op.f("ck_auth_attempt_kind_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_attempt")),
    )
    with op.batch_alter_table("auth_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_attempt_account"), ["account"], unique=False)
        batch_op.create_index(batch_op.f("ix_auth_attempt_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_auth_attempt_client"), ["client"], unique=False)
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failure_email"))
        batch_op.drop_index(batch_op.f("ix_login_failure_at"))
    op.drop_table("login_failure")


def downgrade() -> None:
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_failure_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_failure_email"), ["email"], unique=False)
    with op.batch_alter_table("auth_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_attempt_client"))
        batch_op.drop_index(batch_op.f("ix_auth_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_auth_attempt_account"))
    op.drop_table("auth_attempt")
