"""Publications: stored, scheduled, read as published (issue #16): the empty state before the
first one, the publication time on every channel, closed quarters published once, the CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.heatmaps.publication import HeatmapPublisher
from app.kit import clock
from app.kit.db import Database
from app.kit.schedule import daily
from app.kit.settings import Settings
from app.models import HeatmapPublication, HeatmapPublishedTable
from tests.app.heatmaps.helpers import CATALOG, FULL, publish_now, submit, verified_firm
from tests.factories import create_user, login


def test_before_the_first_publication_an_empty_state_not_an_error(
    client: TestClient, db: Session
) -> None:
    for _ in range(6):
        submit(db, verified_firm(db, district_code="310117"), datetime.now(UTC))
    login(client, create_user(db, role="admin"))
    view = client.get("/api/v1/heatmaps", params={"lang": "en"})
    assert view.status_code == 200
    body = view.json()
    assert body["published_at"] is None and body["rows"] == [] and body["cells"] == []
    assert "Nothing has been published" in body["notes"][0]
    page = client.get("/heatmaps", params={"lang": "en"})
    assert page.status_code == 200 and "No heatmap has been published" in page.text
    assert "本季度的热力图尚未发布" in client.get("/heatmaps", params={"lang": "zh"}).text
    text = client.get("/api/v1/heatmaps.csv", params={"lang": "en"}).text
    assert text.lstrip("\ufeff").startswith("# Published: not published yet")


def test_the_publication_time_is_on_the_page_in_the_json_and_heads_the_csv(
    client: TestClient, db: Session
) -> None:
    # Read in the quarter published (the view defaults to the current quarter): on the wall
    # clock this read nothing once 2026Q4 was over.
    with clock.frozen(datetime(2026, 11, 29, 18, 0, tzinfo=UTC)) as time:  # 02:00 in Shanghai
        for _ in range(6):
            submit(db, verified_firm(db, district_code="310117"), time.now - timedelta(days=1))
        publish_now(db)
        time.advance(timedelta(hours=3))
        login(client, create_user(db, role="admin"))
        body = client.get("/api/v1/heatmaps").json()
        page = client.get("/heatmaps", params={"lang": "en"}).text
        lines = client.get("/api/v1/heatmaps.csv", params={"lang": "en"}).text.lstrip("\ufeff")
    assert datetime.fromisoformat(body["published_at"]) == datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
    assert "Published: <time" in page and "2026-11-30 02:00" in page
    assert lines.splitlines()[0] == "# Published: 2026-11-30 02:00 +0800"


def test_csv_empty_cells_are_blank_suppressed_x_and_a_zero_share_zero(
    client: TestClient, db: Session
) -> None:
    """Issue #16 (5): the CSV wrote 0 for a district with no firms and for a 0 % share alike."""
    for i in range(7):  # all below 3.50: a 0 % share at or above 3.50
        firm = verified_firm(db, district_code="310117", industry_code="39")
        submit(db, firm, datetime.now(UTC), overall=f"{3.0 + 0.05 * i:.2f}", rung="3.00")
    for _ in range(6):  # hidden with Pudong (complementary suppression)
        submit(db, verified_firm(db, district_code="310114"), datetime.now(UTC), overall="3.80")
    for _ in range(2):
        submit(db, verified_firm(db, district_code="310115", industry_code="39"), datetime.now(UTC))
    publish_now(db)
    login(client, create_user(db, role="admin"))
    text = client.get(
        "/api/v1/heatmaps.csv",
        params={"cut": "district-stage", "metric": "share", "rung": "3.50", "lang": "en"},
    ).text
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    first_table = lines[: lines.index(["# firms"])]
    rows = {r[0]: r[1:] for r in first_table if r}
    assert set(rows["Songjiang District"]) == {"0"}  # 0 % at every stage, and overall
    assert set(rows["Pudong New Area"]) == {"x"}  # two firms: suppressed
    assert set(rows["Minhang District"]) == {""}  # no firm: blank


def test_closed_quarters_are_published_once_and_never_recomputed(db: Session) -> None:
    firms = [verified_firm(db, district_code="310117") for _ in range(6)]
    q3 = datetime(2026, 8, 15, tzinfo=UTC)
    with clock.frozen(q3 + timedelta(days=1)):
        for firm in firms:
            submit(db, firm, q3)
        publish_now(db)  # Q3 is current: published, not closed
    with clock.frozen(datetime(2026, 10, 2, tzinfo=UTC)):
        publish_now(db)  # first publication after Q3 ended: Q3 closed
        later = verified_firm(db, district_code="310117")
        submit(db, later, datetime(2026, 9, 1, tzinfo=UTC))  # a back-dated Q3 submission
        publish_now(db)
    q3_tables = db.execute(
        select(HeatmapPublishedTable.publication_id, HeatmapPublishedTable.closed)
        .where(HeatmapPublishedTable.quarter == 20263, HeatmapPublishedTable.cut == "size-stage")
        .where(HeatmapPublishedTable.scope == "", HeatmapPublishedTable.questionnaire_id == FULL)
        .order_by(HeatmapPublishedTable.publication_id)
    ).all()
    first = db.scalar(select(func.min(HeatmapPublication.id)))
    # by publications 1 and 2, not by 3
    assert [(r[0] - first, r[1]) for r in q3_tables] == [(0, False), (1, True)]


def test_the_worker_publishes_daily_at_the_configured_time(settings: Settings, db: Session) -> None:
    assert daily("02:00")(datetime(2026, 11, 29, 18, 30, tzinfo=UTC)) == datetime(
        2026, 11, 29, 18, 0, tzinfo=UTC
    )
    assert daily("02:00")(datetime(2026, 11, 29, 17, 59, tzinfo=UTC)) == datetime(
        2026, 11, 28, 18, 0, tzinfo=UTC
    )
    database = Database(settings)
    job = HeatmapPublisher(
        database, settings.model_copy(update={"HEATMAP_PUBLISH_AT": "03:30"}), CATALOG
    )
    try:
        with clock.frozen(datetime(2026, 11, 29, 19, 0, tzinfo=UTC)) as now:  # 03:00 Shanghai
            assert job.run_once() == 1  # nothing published yet: the last due moment passed
            assert job.run_once() == 0
            now.advance(timedelta(minutes=29))  # 03:29
            assert job.run_once() == 0
            now.advance(timedelta(minutes=1))  # 03:30: due again
            assert job.run_once() == 1
            assert job.run_once() == 0
    finally:
        database.dispose()
    assert db.scalar(select(func.count()).select_from(HeatmapPublication)) == 2
