"""The aggregates are maintained in the submit and verification transactions and always equal a
recomputation from raw rows (``zhizao aggregates verify``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.heatmaps import quarters
from app.heatmaps.repository import HeatmapRepository
from app.heatmaps.verify import rebuild, verify
from app.kit import events
from app.kit.db import create_session_factory
from app.kit.events import EnterpriseChanged
from app.kit.principal import CLI
from app.models import Contact, HeatmapCell, HeatmapContribution
from app.verification import service as verification
from tests.app.heatmaps.helpers import FULL, submit, verified_firm
from tests.factories import create_enterprise

NOW = datetime.now(UTC)
Q = quarters.quarter_of(NOW)


def at_quarter(quarter: int, day: int = 10) -> datetime:
    return quarters.start_of(quarter) + timedelta(days=day)


def totals(db: Session, until: int = Q) -> dict[str, int]:
    rows = HeatmapRepository(db).sums("cell", FULL, until, [])
    firms, scored, overall_sum, *ge = (int(v or 0) for v in rows[0])
    return {"firms": firms, "scored": scored, "overall_sum": overall_sum, "ge_350": ge[2]}


def assert_consistent(db: Session) -> None:
    report = verify(db)
    assert report.differences == []


def test_a_submission_counts_once_and_a_resubmission_replaces_it(db: Session) -> None:
    firm = verified_firm(db)
    submit(db, firm, NOW - timedelta(minutes=5), overall="3.10", rung="3.00")
    assert totals(db) == {"firms": 1, "scored": 1, "overall_sum": 310, "ge_350": 0}
    submit(db, firm, NOW, overall="3.62", rung="3.50")
    assert totals(db) == {"firms": 1, "scored": 1, "overall_sum": 362, "ge_350": 1}
    assert len(db.scalars(select(HeatmapContribution)).all()) == 1
    assert_consistent(db)


def test_only_verified_firms_count(db: Session) -> None:
    firm = create_enterprise(db)
    submit(db, firm, NOW, overall="3.30")
    assert totals(db)["firms"] == 0
    verification.set_verified(db, CLI, firm.id, True)
    db.commit()
    assert totals(db) == {"firms": 1, "scored": 1, "overall_sum": 330, "ge_350": 0}
    assert_consistent(db)
    verification.set_verified(db, CLI, firm.id, False)
    db.commit()
    assert totals(db)["firms"] == 0
    assert_consistent(db)


def test_each_quarter_counts_the_latest_submission_as_of_its_end(db: Session) -> None:
    q1 = quarters.previous(quarters.previous(Q))
    q2 = quarters.previous(Q)
    firm = verified_firm(db)
    submit(db, firm, at_quarter(q1), overall="3.00", rung="3.00")
    submit(db, firm, at_quarter(Q, day=1), overall="3.80", rung="3.75")
    assert totals(db, quarters.previous(q1))["firms"] == 0
    assert totals(db, q1)["overall_sum"] == 300
    assert totals(db, q2)["overall_sum"] == 300  # no submission in q2: q1's still counts
    assert totals(db, Q)["overall_sum"] == 380
    # A back-dated row between them (e.g. a clock fix) takes over only for its quarter.
    submit(db, firm, at_quarter(q2), overall="3.40", rung="3.25")
    assert [totals(db, q)["overall_sum"] for q in (q1, q2, Q)] == [300, 340, 380]
    assert all(totals(db, q)["firms"] == 1 for q in (q1, q2, Q))
    assert_consistent(db)


def test_profile_change_moves_the_history(db: Session) -> None:
    firm = verified_firm(db, district_code="310115")
    submit(db, firm, NOW)
    firm.district_code = "310117"
    events.publish(db, EnterpriseChanged(firm))
    db.commit()
    by_district = {
        row[0]: int(row[1])
        for row in HeatmapRepository(db).sums("cell", FULL, Q, ["district_code"])
    }
    assert by_district.get("310115", 0) == 0 and by_district["310117"] == 1
    assert_consistent(db)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_histories_match_a_recomputation(db: Session, seed: int) -> None:
    rng = random.Random(seed)
    span = quarters.last_n(Q, 4)
    firms = [
        create_enterprise(
            db,
            district_code=rng.choice(["310115", "310117"]),
            industry_code=rng.choice(["34", "36", "39"]),
        )
        for _ in range(6)
    ]
    for _ in range(25):
        firm = rng.choice(firms)
        action = rng.random()
        if action < 0.7:
            quarter = rng.choice(span)
            moment = min(NOW, at_quarter(quarter, rng.randrange(0, 80)))
            overall = f"{rng.uniform(2.75, 4.0):.2f}"
            stages = {
                s: round(rng.uniform(2.75, 4.0), 2)
                for s in rng.sample(["digitization", "automation", "cloud_adoption"], 2)
            }
            submit(
                db,
                firm,
                moment,
                overall=overall,
                rung=rng.choice(["2.75", "3.00", "3.25", "3.50"]),
                stages=stages,
                questionnaire_id=rng.choice([FULL, "quick-check"]),
            )
        else:
            verification.set_verified(db, CLI, firm.id, not firm.verified)
            db.commit()
    assert_consistent(db)
    before = sorted(tuple(row) for row in db.execute(select(HeatmapCell.__table__)).all())
    rebuild(db)
    db.commit()
    after = sorted(tuple(row) for row in db.execute(select(HeatmapCell.__table__)).all())

    def nonzero(rows: list[Any]) -> list[Any]:
        return [r for r in rows if any(r[5:])]

    assert nonzero(before) == nonzero(after)
    assert_consistent(db)


def test_verify_reports_a_tampered_cell(db: Session) -> None:
    firm = verified_firm(db)
    submit(db, firm, NOW)
    cell = db.scalars(select(HeatmapCell).where(HeatmapCell.quarter == Q)).one()
    cell.overall_sum += 1
    db.commit()
    report = verify(db)
    assert report.difference_count == 1
    assert "overall_sum" in report.differences[0]


def test_two_writers_of_one_firm_queue_on_its_lock_without_deadlock(engine: Engine) -> None:
    """Regression: concurrent submits of one firm deadlocked on PostgreSQL (`make bench`: eight
    concurrent submits, one a second, 503s). Each had already inserted rows referencing the firm
    (a foreign key takes FOR KEY SHARE on it) when upkeep asked for FOR UPDATE, which conflicts
    with the other's KEY SHARE: each waited for the other. The per-firm lock is FOR NO KEY
    UPDATE: it ignores KEY SHARE and still queues a second upkeep of the same firm."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's (SQLite's write lock serialises whole writers)")
    sessions = create_session_factory(engine)
    with sessions() as setup:
        firm_id = create_enterprise(setup).id
        setup.commit()
    with sessions() as first, sessions() as second:
        for writer in (first, second):
            writer.execute(text("SET LOCAL lock_timeout = '2s'"))
            writer.add(
                Contact(enterprise_id=firm_id, name="质量部", retain_until=datetime.now(UTC))
            )
            writer.flush()  # both now hold FOR KEY SHARE on the firm, as a submit does

        HeatmapRepository(first).lock_enterprise(firm_id)  # before: lock timeout
        second.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            HeatmapRepository(second).lock_enterprise(firm_id)  # still one upkeep at a time
        first.rollback()
        second.rollback()
