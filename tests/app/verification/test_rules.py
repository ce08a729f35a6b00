"""Verification that cannot be gamed (issue #16): only an admin withdraws a confirmation, an
official flags instead, changes to one firm are rate-limited, counted and audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.kit import clock
from app.models import AuditEvent, Enterprise
from app.observability.metrics import VERIFICATION_CHANGES, VERIFICATION_RATE_LIMITED
from tests.factories import create_enterprise, create_user, login

START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def put(client: TestClient, firm: Enterprise, verified: bool):  # type: ignore[no-untyped-def]
    return client.put(f"/api/v1/verification/enterprises/{firm.id}", json={"verified": verified})


def flag(client: TestClient, firm: Enterprise, flagged: bool, reason: str | None = None):  # type: ignore[no-untyped-def]
    return client.put(
        f"/api/v1/verification/enterprises/{firm.id}/flag",
        json={"flagged": flagged, "reason": reason},
    )


def test_an_official_confirms_but_cannot_withdraw_and_flags_instead(
    client: TestClient, db: Session
) -> None:
    firm = create_enterprise(db, district_code="310117")
    login(client, create_user(db, role="official", district_code="310117"))
    client.headers["Accept-Language"] = "en"  # the problem's English detail is asserted
    with clock.frozen(START) as now:
        assert put(client, firm, True).json()["verified"] is True
        now.advance(timedelta(days=2))
        refused = put(client, firm, False)
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "Only an admin can withdraw" in refused.json()["detail"]
        flagged = flag(client, firm, True, "no such factory at this address")
        assert flagged.status_code == 200, flagged.text
        assert flagged.json()["verified"] is True and flagged.json()["flagged_at"] is not None
        assert flag(client, firm, False).status_code == 403  # clearing it is an admin's
    db.expire_all()
    stored = db.get(Enterprise, firm.id)
    assert stored is not None and stored.verified and stored.flag_reason
    actions = db.scalars(
        select(AuditEvent.action).where(AuditEvent.enterprise_id == firm.id).order_by(AuditEvent.id)
    ).all()
    assert [a for a in actions if a != "enterprise.create"] == [
        "enterprise.verify",
        "enterprise.flag",
    ]


def test_an_admin_withdraws_and_clears_the_flag(client: TestClient, db: Session) -> None:
    firm = create_enterprise(db, district_code="310117")
    login(client, create_user(db, role="admin"))
    with clock.frozen(START) as now:
        assert put(client, firm, True).status_code == 200
        assert flag(client, firm, True, "doubtful").status_code == 200
        now.advance(timedelta(hours=25))
        assert put(client, firm, False).json()["verified"] is False
        cleared = flag(client, firm, False)
        assert cleared.status_code == 200 and cleared.json()["flagged_at"] is None


def test_repeated_changes_to_one_firm_are_refused_with_429_and_counted(
    client: TestClient, db: Session
) -> None:
    firm = create_enterprise(db, district_code="310117")
    other = create_enterprise(db, district_code="310117")
    login(client, create_user(db, role="admin"))
    client.headers["Accept-Language"] = "en"  # the problem's English detail is asserted
    refused_before = VERIFICATION_RATE_LIMITED.labels("unverify")._value.get()
    changes_before = VERIFICATION_CHANGES.labels("verify")._value.get()
    with clock.frozen(START) as now:
        assert put(client, firm, True).status_code == 200
        now.advance(timedelta(hours=23))
        again = put(client, firm, False)
        assert again.status_code == 429
        assert again.headers["content-type"].startswith("application/problem+json")
        assert 3600 <= int(again.headers["Retry-After"]) <= 3601
        assert "less than 24 hours ago" in again.json()["detail"]
        assert put(client, other, True).status_code == 200  # per firm, not per caller
        now.advance(timedelta(hours=1))
        assert put(client, firm, False).status_code == 200
    assert VERIFICATION_RATE_LIMITED.labels("unverify")._value.get() == refused_before + 1
    assert VERIFICATION_CHANGES.labels("verify")._value.get() == changes_before + 2
    body = client.get("/metrics").text
    assert 'zhizao_verification_rate_limited_total{action="unverify"}' in body
    assert 'zhizao_verification_changes_total{action="verify"}' in body


def test_unknown_flag_fields_are_named(client: TestClient, db: Session) -> None:
    firm = create_enterprise(db, district_code="310117")
    login(client, create_user(db, role="admin"))
    response = client.put(
        f"/api/v1/verification/enterprises/{firm.id}/flag", json={"flagged": "maybe", "x": 1}
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"body.flagged", "body.x"} <= fields
