"""Webhook signing secrets are encrypted at rest (``app.integrators.sealing``) and survive a
change of SECRET_KEY through OLD_SECRET_KEYS and ``zhizao secrets rotate``."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from standardwebhooks import Webhook
from typer.testing import CliRunner

from app.cli import cli
from app.integrators import sealing
from app.integrators.worker import WebhookWorker
from app.kit.db import Database
from app.kit.settings import Settings
from app.models import WebhookDelivery, WebhookEndpoint
from tests.app.integrators.helpers import Integrator, Receiver, register_firm, submitted
from tests.app.integrators.test_webhooks import approve, register_endpoint


def stored(db: Session) -> WebhookEndpoint:
    db.rollback()
    db.expire_all()
    endpoint = db.scalar(select(WebhookEndpoint))
    assert endpoint is not None
    return endpoint


def deliver(settings: Settings) -> None:
    database = Database(settings)
    worker = WebhookWorker(database, settings)
    try:
        worker.run_once()
    finally:
        worker.close()
        database.dispose()


def test_the_secret_is_stored_encrypted_under_the_current_key(
    client: TestClient, db: Session, integrator: Integrator, settings: Settings
) -> None:
    endpoint = register_endpoint(client, integrator, "https://hooks.example.com/x")
    row = db.execute(text("SELECT * FROM webhook_endpoint")).mappings().one()
    plain = endpoint["secret"]
    assert all(plain not in str(value) and plain[6:] not in str(value) for value in row.values())
    assert row["secret_key_id"] == sealing.current_key_id(settings)
    assert (
        sealing.unseal(
            settings,
            uuid.UUID(endpoint["id"]),
            sealing.Sealed(row["secret_key_id"], row["secret_ciphertext"]),
        )
        == plain
    )


def test_a_sealed_secret_does_not_open_on_another_endpoint(settings: Settings) -> None:
    sealed = sealing.seal(settings, uuid.uuid4(), "whsec_abc")
    with pytest.raises(sealing.SecretUnavailable):
        sealing.unseal(settings, uuid.uuid4(), sealed)


def test_after_a_key_change_old_keys_open_and_rotate_reseals(
    client: TestClient,
    db: Session,
    integrator: Integrator,
    receiver: Receiver,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint = register_endpoint(client, integrator, receiver.url)
    approve(client, db, endpoint["id"])
    old_key_id = stored(db).secret_key_id
    firm = register_firm(client, integrator.headers)

    # SECRET_KEY changed and the old one forgotten: nothing is signed with a wrong secret.
    new_key = "a-brand-new-secret-key-0123456789abcdef"
    forgetful = settings.model_copy(update={"SECRET_KEY": SecretStr(new_key)})
    submitted(client, integrator.headers, firm["id"])
    deliver(forgetful)
    assert receiver.received == []
    db.rollback()
    [delivery] = db.scalars(select(WebhookDelivery))
    assert delivery.status == "pending" and "OLD_SECRET_KEYS" in (delivery.last_error or "")

    # The old key listed: `zhizao secrets rotate` re-seals under the new one.
    monkeypatch.setenv("ZHIZAO_DATABASE_URL", settings.DATABASE_URL)
    monkeypatch.setenv("ZHIZAO_ENV", settings.ENV.value)
    monkeypatch.setenv("ZHIZAO_SECRET_KEY", new_key)
    refused = CliRunner().invoke(cli, ["secrets", "rotate"])
    assert refused.exit_code == 2 and "OLD_SECRET_KEYS" in refused.output
    monkeypatch.setenv("ZHIZAO_OLD_SECRET_KEYS", f'["{settings.SECRET_KEY.get_secret_value()}"]')
    rotated = CliRunner().invoke(cli, ["secrets", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert "Re-encrypted 1" in rotated.output
    assert stored(db).secret_key_id == sealing.current_key_id(forgetful) != old_key_id

    # Now the new key alone opens it, and the receiver verifies with the secret it was given.
    db.execute(
        WebhookDelivery.__table__.update().values(next_attempt_at=delivery.created_at)  # type: ignore[attr-defined]
    )
    db.commit()
    deliver(forgetful)
    [got] = receiver.received
    assert Webhook(endpoint["secret"]).verify(got.body, got.headers)["type"] == (
        "assessment.submitted"
    )
