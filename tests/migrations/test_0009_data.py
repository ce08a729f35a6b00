"""Data of migration 0009 on both engines: plain webhook secrets become sealed ones that
still sign verifiably; clear-text failed-login e-mails are gone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, select
from standardwebhooks import Webhook

import app.models.base
from app.integrators import sealing
from app.integrators.repository import FeedRepository
from app.kit.db import create_session_factory
from app.kit.migrations import downgrade, upgrade
from app.kit.settings import Environment, Settings
from app.models import ApiClient, Assessment, Counter, FeedEntry, Grant, Result
from tests.factories import create_enterprise

BEFORE = "0008"
OLD_FEED = sa.table(
    "score_feed_entry",
    sa.column("seq", sa.BigInteger()),
    sa.column("result_id", sa.Integer()),
    sa.column("client_id", sa.Uuid()),
    sa.column("assessment_id", sa.Uuid()),
    sa.column("enterprise_id", sa.Uuid()),
    sa.column("created_at", app.models.base.UTCDateTime(timezone=True)),
)
COUNTERS = sa.table("counter", sa.column("name", sa.String()), sa.column("value", sa.BigInteger()))
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


def test_the_feed_is_renumbered_per_integrator_in_the_old_order(empty_engine: Engine) -> None:
    """Before: one global sequence, a submission's entry shared (client_id NULL) and a grant's
    entry for one integrator. After: each integrator has the entries it saw, numbered 1..n."""
    upgrade(empty_engine, "head")
    with create_session_factory(empty_engine)() as db:
        a, b = ApiClient(name="A"), ApiClient(name="B")
        db.add_all([a, b])
        db.flush()
        first, second = create_enterprise(db), create_enterprise(db)
        for client, firm in ((a, first), (b, first), (b, second)):
            db.add(Grant(enterprise_id=firm.id, client_id=client.id, method="api"))
        results = []
        for firm in (first, second, first):
            assessment = Assessment(
                enterprise_id=firm.id,
                questionnaire_id="quick-check",
                questionnaire_version=1,
                questionnaire_hash="0" * 64,
                status="submitted",
            )
            db.add(assessment)
            db.flush()
            result = Result(
                assessment_id=assessment.id,
                enterprise_id=firm.id,
                rung=Decimal("3.00"),
                stages={},
                payload={},
            )
            db.add(result)
            db.flush()
            results.append((result.id, assessment.id, firm.id))
        db.commit()
        client_a, client_b = a.id, b.id
    downgrade(empty_engine, BEFORE)

    now = datetime(2026, 11, 30, tzinfo=UTC)
    old = [  # (seq, result, client): three submissions, then A's grant-time entry of the first
        (1, results[0], None),
        (2, results[1], None),
        (3, results[2], None),
        (4, results[0], client_a),
    ]
    with empty_engine.begin() as connection:
        connection.execute(
            OLD_FEED.insert(),
            [
                {
                    "seq": seq,
                    "result_id": result_id,
                    "assessment_id": assessment_id,
                    "enterprise_id": enterprise_id,
                    "client_id": client,
                    "created_at": now,
                }
                for seq, (result_id, assessment_id, enterprise_id), client in old
            ],
        )
        connection.execute(COUNTERS.insert().values(name="score_feed", value=4))
    upgrade(empty_engine, "head")

    with create_session_factory(empty_engine)() as db:
        feed = {
            client: [
                (e.seq, e.result_id)
                for e in db.scalars(
                    select(FeedEntry).where(FeedEntry.client_id == client).order_by(FeedEntry.seq)
                )
            ]
            for client in (client_a, client_b)
        }
        # A saw the third submission, then the first at its grant's place.
        assert feed[client_a] == [(1, results[2][0]), (2, results[0][0])]
        assert feed[client_b] == [(1, results[0][0]), (2, results[1][0]), (3, results[2][0])]
        assert FeedRepository(db).next_seq(client_a) == 3
        assert FeedRepository(db).next_seq(client_b) == 4
        assert db.scalar(select(Counter).where(Counter.name == "score_feed")) is None
