"""The one clock: freezing it fixes every "now" the service reads, column defaults included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from app.kit import clock
from tests.factories import create_enterprise

AT = datetime(2026, 3, 31, 15, 59, 30, tzinfo=UTC)


def test_frozen_time_stands_still_and_moves_on_request() -> None:
    with clock.frozen(AT) as time:
        assert clock.utcnow() == AT
        time.advance(timedelta(minutes=2))
        assert clock.utcnow() == AT + timedelta(minutes=2)
    assert clock.utcnow() != AT + timedelta(minutes=2)
    assert clock.utcnow().tzinfo is UTC


def test_frozen_time_is_kept_in_utc() -> None:
    shanghai = timezone(timedelta(hours=8))
    with clock.frozen(datetime(2026, 4, 1, 0, 0, tzinfo=shanghai)):
        assert clock.utcnow() == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="tzinfo"), clock.frozen(datetime(2026, 4, 1)):
        pass


def test_rows_are_stamped_by_the_one_clock(db: Session) -> None:
    with clock.frozen(AT):
        enterprise = create_enterprise(db)
    db.expire_all()
    assert enterprise.created_at == AT
