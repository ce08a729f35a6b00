"""heatmap aggregates

Per-firm latest contribution per questionnaire and quarter, and per-cell running sums (overall
and per stage) keyed by (questionnaire, quarter, district, industry, size class). See
app/models/heatmap.py.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import app.models.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
UTC = app.models.base.UTCDateTime(timezone=True)
RUNG_COLUMNS = ("ge_300", "ge_325", "ge_350", "ge_375", "ge_400")


def _key_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("questionnaire_id", sa.String(length=100), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("industry_code", sa.String(length=2), nullable=False),
        sa.Column("size_class", sa.String(length=10), nullable=False),
    ]


def _rung_columns() -> list[sa.Column[object]]:
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in RUNG_COLUMNS]


def upgrade() -> None:
    op.create_table(
        "heatmap_contribution",
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("questionnaire_id", sa.String(length=100), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("submitted_at", UTC, nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("industry_code", sa.String(length=2), nullable=False),
        sa.Column("size_class", sa.String(length=10), nullable=False),
        sa.Column("overall_c", sa.Integer(), nullable=True),
        sa.Column("rung_c", sa.Integer(), nullable=False),
        sa.Column("stages", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprise.id"],
            name=op.f("fk_heatmap_contribution_enterprise_id_enterprise"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "enterprise_id", "questionnaire_id", "quarter", name=op.f("pk_heatmap_contribution")
        ),
    )
    op.create_table(
        "heatmap_cell",
        *_key_columns(),
        sa.Column("firms", sa.BigInteger(), nullable=False),
        sa.Column("scored", sa.BigInteger(), nullable=False),
        sa.Column("overall_sum", sa.BigInteger(), nullable=False),
        *_rung_columns(),
        sa.PrimaryKeyConstraint(
            "questionnaire_id", "quarter", "district_code", "industry_code", "size_class",
            name=op.f("pk_heatmap_cell"),
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "heatmap_stage_cell",
        *_key_columns(),
        sa.Column("stage_id", sa.String(length=100), nullable=False),
        sa.Column("firms", sa.BigInteger(), nullable=False),
        sa.Column("score_sum", sa.BigInteger(), nullable=False),
        *_rung_columns(),
        sa.PrimaryKeyConstraint(
            "questionnaire_id", "quarter", "district_code", "industry_code", "size_class",
            "stage_id", name=op.f("pk_heatmap_stage_cell"),
        ),
        sqlite_with_rowid=False,
    )


    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enterprise_synthetic", ["synthetic"], unique=False,
            sqlite_where=sa.text("synthetic IS 1"),
            postgresql_where=sa.text("synthetic IS true"),
        )


def downgrade() -> None:
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.drop_index("ix_enterprise_synthetic")
    op.drop_table("heatmap_stage_cell")
    op.drop_table("heatmap_cell")
    op.drop_table("heatmap_contribution")
