"""hardening (hard-b): throttled attempts as keyed hashes, webhook secrets encrypted at rest

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:00:00

``login_failure`` kept every e-mail tried, unknown ones included, in clear; ``auth_attempt``
keeps keyed hashes (HMAC) of the e-mail and the client address. The old rows are throttle
counters of the last LOGIN_THROTTLE_WINDOW_SECONDS and carry no address, so they are dropped,
not converted: no clear-text address survives the upgrade.

``webhook_endpoint.secret`` (plain) becomes ``secret_ciphertext`` + ``secret_key_id``: every
existing secret is sealed (AES-GCM, key derived from SECRET_KEY: ``app.integrators.sealing``)
under the settings the upgrade runs with; the secret itself is unchanged, so receivers keep
verifying. The downgrade opens them again (it needs the same key).

``score_feed_entry`` numbered every integrator's entries from one global counter (gaps showed
other integrators' activity); now each integrator has its own sequence (primary key
``(client_id, seq)``, a counter row ``feed:<client hex>``). The upgrade gives each integrator the
entries its feed showed (its own grant-time entries, and submissions of firms it holds a grant
for that it has no own entry of), renumbered 1..n in the old order. An integrator's cursor from
before the upgrade no longer points into the new numbers: read the feed from the start again
(entries are identified by ``assessment_id``). The downgrade puts every entry back into one
global sequence in the same order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

import app.models.base
from app.integrators import sealing
from app.kit.migrations import migration_settings

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The columns of webhook_endpoint the data steps read and write (both directions).
ENDPOINTS = sa.table(
    "webhook_endpoint",
    sa.column("id", sa.Uuid()),
    sa.column("secret", sa.String()),
    sa.column("secret_ciphertext", sa.String()),
    sa.column("secret_key_id", sa.String()),
)


OLD_FEED = sa.table(
    "score_feed_entry",
    sa.column("seq", sa.BigInteger()),
    sa.column("result_id", sa.Integer()),
    sa.column("client_id", sa.Uuid()),
    sa.column("assessment_id", sa.Uuid()),
    sa.column("enterprise_id", sa.Uuid()),
    sa.column("created_at", app.models.base.UTCDateTime(timezone=True)),
)
GRANTS = sa.table("grant", sa.column("client_id", sa.Uuid()), sa.column("enterprise_id", sa.Uuid()))
COUNTERS = sa.table("counter", sa.column("name", sa.String()), sa.column("value", sa.BigInteger()))


def _feed_table(per_client: bool) -> None:
    """score_feed_entry as each revision defines it (per integrator, or one global sequence)."""
    key = ["client_id", "seq"] if per_client else ["seq"]
    op.create_table(
        "score_feed_entry",
        sa.Column("client_id", sa.Uuid(), nullable=not per_client),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_score_feed_entry_assessment_id_assessment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["api_client.id"],
            name=op.f("fk_score_feed_entry_client_id_api_client"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_score_feed_entry_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["result.id"],
            name=op.f("fk_score_feed_entry_result_id_result"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_score_feed_entry")),
    )
    with op.batch_alter_table("score_feed_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_score_feed_entry_result_id"), ["result_id"])
        if not per_client:
            batch_op.create_index(batch_op.f("ix_score_feed_entry_client_id"), ["client_id"])
            batch_op.create_index("ix_score_feed_entry_enterprise_id_seq", ["enterprise_id", "seq"])


def _drop_feed_table(per_client: bool) -> None:
    with op.batch_alter_table("score_feed_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_score_feed_entry_result_id"))
        if not per_client:
            batch_op.drop_index(batch_op.f("ix_score_feed_entry_client_id"))
            batch_op.drop_index("ix_score_feed_entry_enterprise_id_seq")
    op.drop_table("score_feed_entry")


def _feed_per_client() -> None:
    """Each integrator gets the entries its feed showed, renumbered 1..n in the old order."""
    connection = op.get_bind()
    entries = connection.execute(sa.select(OLD_FEED).order_by(OLD_FEED.c.seq)).mappings().all()
    holders: dict[object, set[object]] = {}
    for client_id, enterprise_id in connection.execute(sa.select(GRANTS)).all():
        holders.setdefault(enterprise_id, set()).add(client_id)
    own = {(e["client_id"], e["result_id"]) for e in entries if e["client_id"] is not None}
    rows: list[dict[str, object]] = []
    counters: dict[object, int] = {}
    for entry in entries:
        readers = (
            [entry["client_id"]]
            if entry["client_id"] is not None
            else sorted(
                c
                for c in holders.get(entry["enterprise_id"], set())
                if (c, entry["result_id"]) not in own
            )
        )
        for client_id in readers:
            counters[client_id] = counters.get(client_id, 0) + 1
            rows.append({**entry, "client_id": client_id, "seq": counters[client_id]})
    _drop_feed_table(per_client=False)
    _feed_table(per_client=True)
    if rows:
        connection.execute(OLD_FEED.insert(), rows)
    connection.execute(COUNTERS.delete().where(COUNTERS.c.name == "score_feed"))
    if counters:
        connection.execute(
            COUNTERS.insert(),
            [{"name": f"feed:{c.hex}", "value": n} for c, n in counters.items()],  # type: ignore[attr-defined]
        )


def _feed_global() -> None:
    """Every entry back into one sequence, in the order they were made."""
    connection = op.get_bind()
    entries = connection.execute(
        sa.select(OLD_FEED).order_by(OLD_FEED.c.created_at, OLD_FEED.c.client_id, OLD_FEED.c.seq)
    ).mappings().all()
    rows = [{**entry, "seq": n} for n, entry in enumerate(entries, start=1)]
    _drop_feed_table(per_client=True)
    _feed_table(per_client=False)
    if rows:
        connection.execute(OLD_FEED.insert(), rows)
    connection.execute(COUNTERS.delete().where(COUNTERS.c.name.like("feed:%")))
    if rows:
        connection.execute(COUNTERS.insert(), [{"name": "score_feed", "value": len(rows)}])


def upgrade() -> None:
    _feed_per_client()
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

    with op.batch_alter_table("webhook_endpoint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret_ciphertext", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("secret_key_id", sa.String(length=16), nullable=True))
    settings = migration_settings(context.config)
    connection = op.get_bind()
    for endpoint_id, secret in connection.execute(
        sa.select(ENDPOINTS.c.id, ENDPOINTS.c.secret)
    ).all():
        sealed = sealing.seal(settings, endpoint_id, secret)
        connection.execute(
            ENDPOINTS.update()
            .where(ENDPOINTS.c.id == endpoint_id)
            .values(secret_ciphertext=sealed.ciphertext, secret_key_id=sealed.key_id)
        )
    with op.batch_alter_table("webhook_endpoint", schema=None) as batch_op:
        batch_op.alter_column("secret_ciphertext", nullable=False)
        batch_op.alter_column("secret_key_id", nullable=False)
        batch_op.drop_column("secret")


def downgrade() -> None:
    _feed_global()
    with op.batch_alter_table("webhook_endpoint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret", sa.String(length=100), nullable=True))
    settings = migration_settings(context.config)
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(ENDPOINTS.c.id, ENDPOINTS.c.secret_key_id, ENDPOINTS.c.secret_ciphertext)
    ).all()
    for endpoint_id, key_id, ciphertext in rows:
        secret = sealing.unseal(settings, endpoint_id, sealing.Sealed(key_id, ciphertext))
        connection.execute(
            ENDPOINTS.update().where(ENDPOINTS.c.id == endpoint_id).values(secret=secret)
        )
    with op.batch_alter_table("webhook_endpoint", schema=None) as batch_op:
        batch_op.alter_column("secret", nullable=False)
        batch_op.drop_column("secret_key_id")
        batch_op.drop_column("secret_ciphertext")

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
