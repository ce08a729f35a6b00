"""The schedule of periodic jobs (``app/kit/schedule.py``): one row per job, claimed with a lease
by the worker that runs the job's current period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class PeriodicRun(Base):
    __tablename__ = "periodic_run"

    #: The job's name ("heatmap publication", "privacy purge").
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    #: The latest period done: its run committed together with this value.
    done_period: Mapped[datetime | None]
    #: The worker running the job now, and until when it may (its lease); NULL when none.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
