"""heatmap publication: record keys, cell keys, stored publications, verification rules

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 12:00:00

Every firm gets its record secret (32 random bytes); every contribution the keys derived from it;
every cell row the sums of those keys. Firms an integrator had marked verified become attested:
recorded, but not counted until an admin or their district official confirms them (issue #16,
attack 4). The cell rows are then recomputed from the contributions of the verified firms, so
that they hold both the keys and no integrator-attested firm.
"""

import hashlib
import os
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUNGS = (300, 325, 350, 375, 400)
KEY_COLUMNS = ("count_key", "value_key", *(f"ge_{t}_key" for t in RUNGS))
CELL_KEY = ("questionnaire_id", "quarter", "district_code", "industry_code", "size_class")
CELL_COLUMNS = ("firms", "scored", "overall_sum", *(f"ge_{t}" for t in RUNGS), *KEY_COLUMNS)
STAGE_COLUMNS = ("firms", "score_sum", *(f"ge_{t}" for t in RUNGS), *KEY_COLUMNS)
KEY_RANGE = 1 << 32
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _derive(secret: bytes, label: str) -> int:
    # As app.heatmaps.perturbation._derive, frozen here so that this migration keeps meaning
    # what it meant when it ran.
    digest = hashlib.blake2b(label.encode(), key=secret, digest_size=8, person=b"zhizao-record")
    return int.from_bytes(digest.digest(), "big") % KEY_RANGE


def _key_columns(table: str) -> None:
    # Added in place (no table rebuild: the cell tables are WITHOUT ROWID on SQLite), with the
    # server default the model declares.
    for name in KEY_COLUMNS:
        op.add_column(table, sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))


def upgrade() -> None:
    op.create_table(
        "heatmap_publication",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("published_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("includes_synthetic", sa.Boolean(), nullable=False),
        sa.Column("tables", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_heatmap_publication")),
    )
    op.create_table(
        "heatmap_published_table",
        sa.Column("questionnaire_id", sa.String(length=100), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("cut", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=6), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["heatmap_publication.id"],
            name=op.f("fk_heatmap_published_table_publication_id_heatmap_publication"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "questionnaire_id",
            "quarter",
            "cut",
            "scope",
            "publication_id",
            name=op.f("pk_heatmap_published_table"),
        ),
        sqlite_with_rowid=False,
    )
    # Plain ADD COLUMN, never a batch rebuild of enterprise: on SQLite rebuilding it drops the
    # old table, and with foreign keys on that deletes every row that cascades from a firm.
    for column in (
        sa.Column("attested_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("flagged_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("flagged_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("flag_reason", sa.String(length=500), nullable=True),
        sa.Column(
            "verification_changed_at", app.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("record_secret", sa.LargeBinary(length=32), nullable=True),
    ):
        op.add_column("enterprise", column)
    for name in ("count_key", "submission_key"):
        op.add_column(
            "heatmap_contribution",
            sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"),
        )
    _key_columns("heatmap_cell")
    _key_columns("heatmap_stage_cell")
    _backfill(op.get_bind())


def _backfill(bind: Any) -> None:
    meta = sa.MetaData()
    enterprise = sa.Table("enterprise", meta, autoload_with=bind)
    contribution = sa.Table("heatmap_contribution", meta, autoload_with=bind)
    cell = sa.Table("heatmap_cell", meta, autoload_with=bind)
    stage_cell = sa.Table("heatmap_stage_cell", meta, autoload_with=bind)
    # Integrator attestations stop counting as verification.
    bind.execute(
        enterprise.update()
        .where(enterprise.c.verified_method == "integrator")
        .values(
            verified=False,
            verified_method=None,
            verified_by_client_id=None,
            attested_at=enterprise.c.verified_at,
            verified_at=None,
        )
    )
    firms = bind.execute(sa.select(enterprise.c.id, enterprise.c.verified)).all()
    secrets = {row.id: os.urandom(32) for row in firms}
    verified = {row.id for row in firms if row.verified}
    if secrets:
        bind.execute(
            enterprise.update()
            .where(enterprise.c.id == sa.bindparam("firm"))
            .values(record_secret=sa.bindparam("secret")),
            [{"firm": k, "secret": v} for k, v in secrets.items()],
        )
    rows = bind.execute(
        sa.select(contribution).order_by(
            contribution.c.enterprise_id, contribution.c.questionnaire_id, contribution.c.quarter
        )
    ).all()
    updates = []
    cells: dict[tuple[Any, ...], list[int]] = {}
    stages: dict[tuple[Any, ...], list[int]] = {}
    previous: Any = None
    for row in rows:
        secret = secrets[row.enterprise_id]
        count_key = _derive(secret, "count")
        # As the app writes it (str of a UUID, with hyphens): reflected on SQLite the column
        # reads back as 32 hex digits.
        submission_key = _derive(secret, f"submission:{uuid.UUID(str(row.assessment_id))}")
        updates.append(
            {
                "firm": row.enterprise_id,
                "qid": row.questionnaire_id,
                "q": row.quarter,
                "ck": count_key,
                "sk": submission_key,
            }
        )
        state = (row, count_key, submission_key)
        same = previous is not None and (previous[0].enterprise_id, previous[0].questionnaire_id) == (
            row.enterprise_id,
            row.questionnaire_id,
        )
        if row.enterprise_id in verified:
            _add(cells, stages, row.quarter, state, +1)
            if same:
                _add(cells, stages, row.quarter, previous, -1)
        previous = state
    if updates:
        bind.execute(
            contribution.update()
            .where(
                contribution.c.enterprise_id == sa.bindparam("firm"),
                contribution.c.questionnaire_id == sa.bindparam("qid"),
                contribution.c.quarter == sa.bindparam("q"),
            )
            .values(count_key=sa.bindparam("ck"), submission_key=sa.bindparam("sk")),
            updates,
        )
    bind.execute(cell.delete())
    bind.execute(stage_cell.delete())
    for table, key, columns, data in (
        (cell, CELL_KEY, CELL_COLUMNS, cells),
        (stage_cell, (*CELL_KEY, "stage_id"), STAGE_COLUMNS, stages),
    ):
        values = [
            {**dict(zip(key, k, strict=True)), **dict(zip(columns, v, strict=True))}
            for k, v in data.items()
            if any(v)
        ]
        if values:
            bind.execute(table.insert(), values)


def _add(
    cells: dict[tuple[Any, ...], list[int]],
    stages: dict[tuple[Any, ...], list[int]],
    quarter: int,
    state: Any,
    sign: int,
) -> None:
    """A contribution's sums and keys, added to its cell rows of ``quarter`` and of the running
    total (quarter 0), as app.heatmaps.sums.Contribution counts them."""
    row, count_key, submission_key = state

    def values(level: int, value: int | None) -> list[int]:
        valued = value is not None
        return [
            *(int(level >= t) for t in RUNGS),
            count_key,
            submission_key if valued else 0,
            *(count_key if level >= t else 0 for t in RUNGS),
        ]

    overall = [1, int(row.overall_c is not None), row.overall_c or 0]
    overall += values(row.rung_c, row.overall_c)
    for q in (quarter, 0):
        key = (row.questionnaire_id, q, row.district_code, row.industry_code, row.size_class)
        _accumulate(cells, key, overall, sign)
        for stage_id, score in (row.stages or {}).items():
            _accumulate(
                stages, (*key, stage_id), [1, int(score), *values(int(score), int(score))], sign
            )


def _accumulate(target: dict[tuple[Any, ...], list[int]], key: Any, values: list[int], sign: int) -> None:
    current = target.setdefault(key, [0] * len(values))
    for index, value in enumerate(values):
        current[index] += sign * value


def downgrade() -> None:
    for table in ("heatmap_stage_cell", "heatmap_cell"):
        for name in KEY_COLUMNS:
            op.drop_column(table, name)
    for name in ("submission_key", "count_key"):
        op.drop_column("heatmap_contribution", name)
    for name in (
        "record_secret",
        "verification_changed_at",
        "flag_reason",
        "flagged_by_user_id",
        "flagged_at",
        "attested_at",
    ):
        op.drop_column("enterprise", name)  # SQLite ≥ 3.35 drops in place (no rebuild)
    op.drop_table("heatmap_published_table")
    op.drop_table("heatmap_publication")
