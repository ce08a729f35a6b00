"""Periodic jobs that run once per period across every worker, on SQLite and PostgreSQL alike.

A periodic job has a name, a *period* (a function from now to the start of the current period,
e.g. :func:`daily` "02:00 China Standard Time, today or yesterday") and its work. Its row in
``periodic_run`` is the schedule, and the rules are:

1. **Claim** (a short transaction of its own): a conditional UPDATE takes the row when its
   ``done_period`` is before the current period and no unexpired lease is on it, writing a new
   lease token and ``lease_until = now + lease``. One worker's UPDATE matches; every other sees
   the row taken (PostgreSQL re-checks the WHERE after the row lock; SQLite's one writer
   serialises), so the others carry on with their other jobs instead of waiting.
2. **Work and complete in one transaction**: the job's writes and
   ``done_period = period`` (only while the row still carries *our* token) commit together.
   If our lease had expired and another worker took the row over, the completion matches no row
   and everything we did is rolled back: a period's work is committed at most once.
3. **A worker killed mid-job** (SIGKILL, a lost machine) commits nothing; the row keeps its lease
   until ``lease_until`` and the first worker to look after that runs the period again. So the
   lease (``PERIODIC_LEASE_SECONDS``) must exceed the job's longest run.
4. **A job that fails** (an exception) rolls back and shortens its lease to
   :data:`RETRY_SECONDS`: retried soon, not in a tight loop.

This replaces the heatmaps' PostgreSQL-only advisory lock: the same guarantee on both engines,
and the schedule's state is visible (``SELECT * FROM periodic_run``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.kit.clock import SHANGHAI, utcnow
from app.kit.db import Database
from app.models import PeriodicRun

logger = logging.getLogger("zhizao.schedule")
#: After a failed run, the next attempt waits this long.
RETRY_SECONDS = 60

#: The job's work, in the transaction that completes it (the caller commits); how many things it
#: did (0 is fine: a period with nothing to do is still done).
Work = Callable[[Session, datetime], int]


def daily(at: str) -> Callable[[datetime], datetime]:
    """A period of one day starting at ``at`` (HH:MM) China Standard Time: for a moment ``now``,
    the latest such start at or before it (today's or yesterday's)."""
    hour, minute = (int(part) for part in at.split(":"))

    def period_of(now: datetime) -> datetime:
        local = now.astimezone(SHANGHAI)
        start = datetime.combine(local.date(), time(hour, minute), SHANGHAI)
        if start > local:
            start -= timedelta(days=1)
        return start

    return period_of


def _ensure_row(session: Session, name: str) -> None:
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(PeriodicRun).values(name=name).on_conflict_do_nothing())


def claim(session: Session, name: str, period: datetime, lease: timedelta) -> str | None:
    """Take the job's row for ``period`` (the caller commits): the lease token, or None when the
    period is done or another worker holds an unexpired lease."""
    now = utcnow()
    if (row := session.get(PeriodicRun, name)) is None:
        _ensure_row(session, name)
    elif row.done_period is not None and row.done_period >= period:
        return None  # the common case, without a write
    token = secrets.token_hex(16)
    taken = session.execute(
        update(PeriodicRun)
        .where(
            PeriodicRun.name == name,
            or_(PeriodicRun.done_period.is_(None), PeriodicRun.done_period < period),
            or_(PeriodicRun.lease_until.is_(None), PeriodicRun.lease_until <= now),
        )
        .values(lease_token=token, lease_until=now + lease, started_at=now)
        .execution_options(synchronize_session=False)
    )
    return token if cast(CursorResult[Any], taken).rowcount == 1 else None


def complete(session: Session, name: str, period: datetime, token: str) -> bool:
    """Mark ``period`` done in the work's transaction, if the lease is still ours."""
    done = session.execute(
        update(PeriodicRun)
        .where(PeriodicRun.name == name, PeriodicRun.lease_token == token)
        .values(done_period=period, lease_token=None, lease_until=None, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], done).rowcount == 1


def _postpone(session: Session, name: str, token: str) -> None:
    session.execute(
        update(PeriodicRun)
        .where(PeriodicRun.name == name, PeriodicRun.lease_token == token)
        .values(lease_until=utcnow() + timedelta(seconds=RETRY_SECONDS))
        .execution_options(synchronize_session=False)
    )


def done_period(session: Session, name: str) -> datetime | None:
    return session.scalar(select(PeriodicRun.done_period).where(PeriodicRun.name == name))


class PeriodicJob:
    """A worker job (``app.worker.Job``) running ``work`` once per period across all workers."""

    def __init__(
        self,
        database: Database,
        name: str,
        period_of: Callable[[datetime], datetime],
        work: Work,
        lease: timedelta,
    ) -> None:
        self.database = database
        self.name = name
        self.period_of = period_of
        self.work = work
        self.lease = lease

    def run_once(self) -> int:
        """1 when this worker ran the current period, 0 when it was done or someone else's."""
        period = self.period_of(utcnow())
        with self.database.write_sessions() as session:
            token = claim(session, self.name, period, self.lease)
            session.commit()
        if token is None:
            return 0
        try:
            with self.database.sessions() as session:
                did = self.work(session, period)
                if not complete(session, self.name, period, token):
                    session.rollback()
                    logger.warning("%s: lease lost to another worker; rolled back", self.name)
                    return 0
                session.commit()
        except Exception:
            with self.database.write_sessions() as session:
                _postpone(session, self.name, token)
                session.commit()
            raise
        logger.info("%s: period %s done (%s)", self.name, period.isoformat(), did)
        return 1

    def close(self) -> None:
        return None
