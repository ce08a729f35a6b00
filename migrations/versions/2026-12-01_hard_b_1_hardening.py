"""hardening (hard-b): throttled attempts as keyed hashes, webhook secrets encrypted at rest

Revision ID: hard_b_1
Revises: 0006
Create Date: 2026-12-01 10:00:00

``login_failure`` kept every e-mail tried, unknown ones included, in clear; ``auth_attempt``
keeps keyed hashes (HMAC) of the e-mail and the client address. The old rows are throttle
counters of the last LOGIN_THROTTLE_WINDOW_SECONDS and carry no address, so they are dropped,
not converted: no clear-text address survives the upgrade.

``webhook_endpoint.secret`` (plain) becomes ``secret_ciphertext`` + ``secret_key_id``: every
existing secret is sealed (AES-GCM, key derived from SECRET_KEY: ``app.integrators.sealing``)
under the settings the upgrade runs with; the secret itself is unchanged, so receivers keep
verifying. The downgrade opens them again (it needs the same key).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

import app.models.base
from app.integrators import sealing
from app.kit.migrations import migration_settings

revision: str = "hard_b_1"
down_revision: str | None = "0006"
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
