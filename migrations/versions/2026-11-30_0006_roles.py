"""roles: firm owners and members, invitations, password resets, access claims, mail outbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 08:07:24

Every enterprise user there is becomes an owner of their firm (until now each firm had one user,
who had every right an owner now has).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_claim",
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'refused')",
            name=op.f("ck_access_claim_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_access_claim_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_claim")),
    )
    with op.batch_alter_table("access_claim", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_claim_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_claim_enterprise_id"), ["enterprise_id"], unique=False
        )

    op.create_table(
        "mail_message",
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=40), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_mail_message_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_mail_message_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_message")),
    )
    with op.batch_alter_table("mail_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_message_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mail_message_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(
            "ix_mail_message_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "invitation",
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("firm_role", sa.String(length=10), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_user_id", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["accepted_user_id"],
            ["user.id"],
            name=op.f("fk_invitation_accepted_user_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_invitation_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitation_token_hash")),
    )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invitation_enterprise_id"), ["enterprise_id"], unique=False
        )

    op.create_table(
        "password_reset",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_password_reset_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_reset_token_hash")),
    )
    with op.batch_alter_table("password_reset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_reset_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("firm_role", sa.String(length=10), nullable=True))
    op.execute("UPDATE \"user\" SET firm_role = 'owner' WHERE role = 'enterprise'")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_user_firm_role_scope"), "(role = 'enterprise') = (firm_role IS NOT NULL)"
        )
        batch_op.create_check_constraint(
            op.f("ck_user_firm_role_known"), "firm_role IN ('owner', 'member')"
        )

    # A grant given later puts the firm's latest result into that integrator's feed: an entry
    # for one client (client_id), so one result may now have several entries.
    with op.batch_alter_table("score_feed_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.Uuid(), nullable=True))
        batch_op.drop_constraint(op.f("uq_score_feed_entry_result_id"), type_="unique")
        batch_op.create_index(
            batch_op.f("ix_score_feed_entry_result_id"), ["result_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_score_feed_entry_client_id"), ["client_id"], unique=False
        )
        batch_op.create_foreign_key(
            op.f("fk_score_feed_entry_client_id_api_client"),
            "api_client",
            ["client_id"],
            ["id"],
            ondelete="CASCADE",
        )
    # A notice about a firm (a grant given or revoked) goes when the firm is deleted.
    with op.batch_alter_table("integrator_notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enterprise_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_integrator_notice_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_foreign_key(
            op.f("fk_integrator_notice_enterprise_id_enterprise"),
            "enterprise",
            ["enterprise_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("integrator_notice", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_integrator_notice_enterprise_id_enterprise"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_integrator_notice_enterprise_id"))
        batch_op.drop_column("enterprise_id")
    op.execute("DELETE FROM score_feed_entry WHERE client_id IS NOT NULL")
    with op.batch_alter_table("score_feed_entry", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_score_feed_entry_client_id_api_client"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_score_feed_entry_client_id"))
        batch_op.drop_index(batch_op.f("ix_score_feed_entry_result_id"))
        batch_op.create_unique_constraint(op.f("uq_score_feed_entry_result_id"), ["result_id"])
        batch_op.drop_column("client_id")

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_firm_role_known"), type_="check")
        batch_op.drop_constraint(op.f("ck_user_firm_role_scope"), type_="check")
        batch_op.drop_column("firm_role")

    with op.batch_alter_table("password_reset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_reset_user_id"))

    op.drop_table("password_reset")
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_enterprise_id"))

    op.drop_table("invitation")
    with op.batch_alter_table("mail_message", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_message_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_mail_message_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_mail_message_created_at"))

    op.drop_table("mail_message")
    with op.batch_alter_table("access_claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_claim_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_access_claim_created_at"))

    op.drop_table("access_claim")
