"""assessment KPIs: the unscored baseline KPI block of questionnaire v2, per assessment

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 11:00:00

One row per KPI a firm recorded on an assessment, so history and reports can show each KPI
before and after (issue #12).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import app.models.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessment_kpi",
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("kpi_id", sa.String(length=100), nullable=False),
        sa.Column(
            "value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_assessment_kpi_assessment_id_assessment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assessment_id", "kpi_id", name=op.f("pk_assessment_kpi")),
    )


def downgrade() -> None:
    op.drop_table("assessment_kpi")
