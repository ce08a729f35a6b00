"""report store: rendered PDFs in the database, and the render outbox

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 12:00:00

``report_pdf`` keeps the latest PDF of each (assessment, language) with the content version it
was rendered from, so every app instance serves a report rendered anywhere (it replaces the
per-process cache). ``report_job`` is the outbox the worker drains: a submission queues one
job per language. Existing submissions get no jobs: their reports render on first request, as
before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = app.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "report_pdf",
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("content_version", sa.String(length=64), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("rendered_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_report_pdf_assessment_id_assessment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_report_pdf_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assessment_id", "lang", name=op.f("pk_report_pdf")),
    )
    with op.batch_alter_table("report_pdf", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_pdf_enterprise_id"), ["enterprise_id"], unique=False
        )
    op.create_table(
        "report_job",
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC, nullable=False),
        sa.Column("claimed_by", sa.String(length=40), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'failed')", name=op.f("ck_report_job_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_report_job_assessment_id_assessment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_report_job_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_job")),
    )
    with op.batch_alter_table("report_job", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_job_assessment_id"), ["assessment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_report_job_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(
            "ix_report_job_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("report_job", schema=None) as batch_op:
        batch_op.drop_index("ix_report_job_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_report_job_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_report_job_assessment_id"))
    op.drop_table("report_job")
    with op.batch_alter_table("report_pdf", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_pdf_enterprise_id"))
    op.drop_table("report_pdf")
