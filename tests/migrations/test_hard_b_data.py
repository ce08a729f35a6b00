"""Data of migration hard_b_1 on both engines: plain webhook secrets become sealed ones that
still sign verifiably; clear-text failed-login e-mails are gone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from standardwebhooks import Webhook

import app.models.base
from app.integrators import sealing
from app.kit.migrations import downgrade, upgrade
from app.kit.settings import Environment, Settings

BEFORE = "0006"
PLAIN = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def settings_with(key: str) -> Settings:
    return Settings(ENV=Environment.testing, SECRET_KEY=key)


def _seed(engine: Engine) -> uuid.UUID:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    client_id, endpoint_id = uuid.uuid4(), uuid.uuid4()
    stamp = app.models.base.UTCDateTime(timezone=True)
    clients = sa.table(
        "api_client",
        sa.column("id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("contact_email", sa.String()),
        sa.column("created_at", stamp),
        sa.column("updated_at", stamp),
    )
    endpoints = sa.table(
        "webhook_endpoint",
        *(sa.column(name, sa.String()) for name in ("url", "description", "secret", "status")),
        sa.column("id", sa.Uuid()),
        sa.column("client_id", sa.Uuid()),
        sa.column("events", sa.JSON()),
        sa.column("created_at", stamp),
        sa.column("updated_at", stamp),
    )
    failures = sa.table("login_failure", sa.column("email", sa.String()), sa.column("at", stamp))
    with engine.begin() as connection:
        connection.execute(
            clients.insert().values(
                id=client_id, name="Acme", contact_email="", created_at=now, updated_at=now
            )
        )
        connection.execute(
            endpoints.insert().values(
                id=endpoint_id,
                client_id=client_id,
                url="https://hooks.example.com/x",
                description="",
                events=["assessment.submitted"],
                secret=PLAIN,
                status="active",
                created_at=now,
                updated_at=now,
            )
        )
        connection.execute(failures.insert().values(email="ghost@example.com", at=now))
    return endpoint_id


def test_plain_secrets_are_sealed_and_still_sign(empty_engine: Engine) -> None:
    upgrade(empty_engine, BEFORE)
    endpoint_id = _seed(empty_engine)
    settings = settings_with("the-deployment-secret-key-0123456789")
    upgrade(empty_engine, "head", settings)

    with empty_engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT secret_key_id, secret_ciphertext FROM webhook_endpoint")
        ).one()
        columns = {c["name"] for c in sa.inspect(connection).get_columns("webhook_endpoint")}
        tables = set(sa.inspect(connection).get_table_names())
    assert "secret" not in columns
    assert PLAIN not in row.secret_ciphertext and PLAIN[6:] not in row.secret_ciphertext
    assert row.secret_key_id == sealing.current_key_id(settings)
    opened = sealing.unseal(settings, endpoint_id, sealing.Sealed(*row))
    assert opened == PLAIN
    # A receiver holding the secret it was given verifies what the sender now signs.
    at = datetime.now(UTC)
    body = '{"type":"assessment.submitted"}'
    signature = Webhook(opened).sign("msg_1", at, body)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
    assert Webhook(PLAIN).verify(body, headers) == {"type": "assessment.submitted"}
    # Another key does not open it.
    with pytest.raises(sealing.SecretUnavailable):
        sealing.unseal(
            settings_with("another-key-entirely-0123456789"), endpoint_id, sealing.Sealed(*row)
        )
    # Failed logins kept in clear are gone; the new table keeps hashes only.
    assert "login_failure" not in tables and "auth_attempt" in tables

    downgrade(empty_engine, BEFORE, settings)
    with empty_engine.connect() as connection:
        assert connection.execute(sa.text("SELECT secret FROM webhook_endpoint")).scalar() == PLAIN
