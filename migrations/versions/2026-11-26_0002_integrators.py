"""integrator api: api key rotation, webhooks, outbox

Score feed (a counter row and one feed entry per submitted result), webhook endpoints, the
webhook outbox with its delivery state, and notices to integrators.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import app.models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
UTC = app.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "counter",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counter")),
    )
    op.create_table(
        "score_feed_entry",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessment.id"],
            name=op.f("fk_score_feed_entry_assessment_id_assessment"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprise.id"],
            name=op.f("fk_score_feed_entry_enterprise_id_enterprise"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["result_id"], ["result.id"],
            name=op.f("fk_score_feed_entry_result_id_result"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_score_feed_entry")),
        sa.UniqueConstraint("result_id", name=op.f("uq_score_feed_entry_result_id")),
    )
    with op.batch_alter_table("score_feed_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_score_feed_entry_enterprise_id_seq", ["enterprise_id", "seq"], unique=False
        )

    op.create_table(
        "webhook_endpoint",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("events", JSON, nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("approved_at", UTC, nullable=True),
        sa.Column("approved_by", sa.String(length=80), nullable=True),
        sa.Column("disabled_at", UTC, nullable=True),
        sa.Column("disabled_reason", sa.String(length=200), nullable=True),
        sa.Column("failing_since", UTC, nullable=True),
        sa.Column("last_success_at", UTC, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'active', 'disabled')",
            name=op.f("ck_webhook_endpoint_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_client.id"],
            name=op.f("fk_webhook_endpoint_client_id_api_client"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoint")),
    )
    with op.batch_alter_table("webhook_endpoint", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_endpoint_client_id"), ["client_id"], unique=False
        )

    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC, nullable=False),
        sa.Column("claimed_by", sa.String(length=40), nullable=True),
        sa.Column("last_attempt_at", UTC, nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed', 'cancelled')",
            name=op.f("ck_webhook_delivery_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_client.id"],
            name=op.f("fk_webhook_delivery_client_id_api_client"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"], ["webhook_endpoint.id"],
            name=op.f("fk_webhook_delivery_endpoint_id_webhook_endpoint"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprise.id"],
            name=op.f("fk_webhook_delivery_enterprise_id_enterprise"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_delivery_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_delivery_endpoint_id_created_at", ["endpoint_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_webhook_delivery_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_delivery_status_next_attempt_at", ["status", "next_attempt_at"],
            unique=False,
        )

    op.create_table(
        "integrator_notice",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message", JSON, nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_client.id"],
            name=op.f("fk_integrator_notice_client_id_api_client"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrator_notice")),
    )
    with op.batch_alter_table("integrator_notice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_integrator_notice_client_id"), ["client_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("integrator_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integrator_notice_client_id"))
    op.drop_table("integrator_notice")
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_delivery_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_webhook_delivery_enterprise_id"))
        batch_op.drop_index("ix_webhook_delivery_endpoint_id_created_at")
        batch_op.drop_index(batch_op.f("ix_webhook_delivery_client_id"))
    op.drop_table("webhook_delivery")
    with op.batch_alter_table("webhook_endpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_endpoint_client_id"))
    op.drop_table("webhook_endpoint")
    with op.batch_alter_table("score_feed_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_score_feed_entry_enterprise_id_seq")
    op.drop_table("score_feed_entry")
    op.drop_table("counter")
