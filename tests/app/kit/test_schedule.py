"""Periodic jobs run once per period across workers (app/kit/schedule.py), on both engines: two
job objects stand for two workers sharing one database (the two-process proof is tests/multi)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.kit import clock, schedule
from app.kit.db import Database
from app.kit.principal import SYSTEM
from app.kit.settings import Settings
from app.models import AuditEvent, PeriodicRun

NAME = "test tick"
LEASE = timedelta(minutes=10)
START = datetime(2026, 11, 29, 19, 0, tzinfo=UTC)  # 03:00 China Standard Time


@pytest.fixture
def database(settings: Settings, engine: object) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.dispose()


def tick(session: Session, period: datetime) -> int:
    audit.record(session, SYSTEM, "test.tick", "schedule", detail={"period": period.isoformat()})
    return 1


def job(database: Database, work: schedule.Work = tick) -> schedule.PeriodicJob:
    return schedule.PeriodicJob(database, NAME, schedule.daily("02:00"), work, LEASE)


def ticks(db: Session) -> list[str]:
    db.expire_all()
    rows = db.scalars(select(AuditEvent).where(AuditEvent.action == "test.tick")).all()
    return sorted(row.detail["period"] for row in rows)


def test_once_per_period_across_workers(database: Database, db: Session) -> None:
    first, second = job(database), job(database)
    with clock.frozen(START) as now:
        assert first.run_once() == 1
        assert second.run_once() == 0
        assert first.run_once() == 0
        now.advance(timedelta(hours=22, minutes=59))  # 01:59 the next day: same period
        assert second.run_once() == 0
        now.advance(timedelta(minutes=1))  # 02:00: a new period, run by whoever looks first
        assert second.run_once() == 1
        assert first.run_once() == 0
    assert ticks(db) == ["2026-11-30T02:00:00+08:00", "2026-12-01T02:00:00+08:00"]
    row = db.get(PeriodicRun, NAME)
    assert row is not None and row.lease_token is None and row.lease_until is None
    assert row.done_period == datetime(2026, 11, 30, 18, 0, tzinfo=UTC)


def test_a_worker_killed_mid_run_leaves_the_period_to_be_retried(
    database: Database, db: Session
) -> None:
    with clock.frozen(START) as now:
        # A worker claimed the period and died before committing its work (as SIGKILL leaves it).
        with database.write_sessions() as session:
            period = schedule.daily("02:00")(START)
            assert schedule.claim(session, NAME, period, LEASE) is not None
            session.commit()
        survivor = job(database)
        assert survivor.run_once() == 0  # the lease still holds: maybe it is only slow
        now.advance(LEASE)
        assert survivor.run_once() == 1  # the lease ran out: the period runs again
        assert survivor.run_once() == 0
    assert ticks(db) == ["2026-11-30T02:00:00+08:00"]


def test_a_run_that_outlived_its_lease_is_rolled_back_not_done_twice(
    database: Database, db: Session
) -> None:
    other = job(database)

    def slow(session: Session, period: datetime) -> int:
        # Past our lease another worker takes the period over and completes it; our work,
        # written after, must not be committed beside it.
        frozen.advance(LEASE + timedelta(seconds=1))
        assert other.run_once() == 1
        return tick(session, period)

    with clock.frozen(START) as frozen:
        assert job(database, slow).run_once() == 0
    assert ticks(db) == ["2026-11-30T02:00:00+08:00"]


def test_a_failing_run_is_retried_after_a_short_delay(database: Database, db: Session) -> None:
    attempts: list[int] = []

    def flaky(session: Session, period: datetime) -> int:
        attempts.append(1)
        tick(session, period)
        session.flush()
        if len(attempts) == 1:
            raise RuntimeError("database hiccup")
        return 1

    flaky_job = job(database, flaky)
    with clock.frozen(START) as now:
        with pytest.raises(RuntimeError):
            flaky_job.run_once()
        assert flaky_job.run_once() == 0  # not in a tight loop
        now.advance(timedelta(seconds=schedule.RETRY_SECONDS))
        assert flaky_job.run_once() == 1
    assert ticks(db) == ["2026-11-30T02:00:00+08:00"]  # the failed attempt's write rolled back
    assert db.scalar(select(func.count()).select_from(PeriodicRun)) == 1
