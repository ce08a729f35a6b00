"""Every heatmap view is audited, and nothing of it is sent before its audit row is committed
(issue 19: the rows of concurrent views share one commit, ``app.kit.group_commit``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.audit.repository import AuditRepository
from app.models import AuditEvent
from tests.app.heatmaps.test_api import populate
from tests.databases import World
from tests.factories import create_user, login

PATHS = {
    "json": "/api/v1/heatmaps?cut=district-industry",
    "csv": "/api/v1/heatmaps.csv?cut=district-industry",
    "page": "/heatmaps?cut=district-industry",
}


def _views(engine: Engine) -> int:
    """Committed heatmap views, read on a connection of its own."""
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).where(AuditEvent.action == "heatmap.view"))
    return int(count or 0)


@pytest.fixture
def official(app: FastAPI, db: Session, world: World) -> Iterator[dict[str, str]]:
    """The cookies of a signed-in city official, with published heatmaps to see."""
    world(populate)
    client = TestClient(app)  # not entered: the shared app is started already
    login(client, create_user(db, role="official"))
    yield dict(client.cookies)
    client.close()


@pytest.mark.parametrize("channel", sorted(PATHS))
def test_the_view_is_committed_before_its_first_byte_is_sent(
    app: FastAPI, engine: Engine, official: dict[str, str], channel: str
) -> None:
    """At the response's start, the view's row is already visible to another connection."""
    committed_at_start: list[int] = []

    async def probe(scope: Any, receive: Any, send: Any) -> None:
        async def watched(message: Any) -> None:
            if message["type"] == "http.response.start":
                committed_at_start.append(_views(engine))
            await send(message)

        await app(scope, receive, watched)

    before = _views(engine)
    client = TestClient(probe, cookies=official)
    response = client.get(PATHS[channel])
    assert response.status_code == 200
    assert committed_at_start == [before + 1]


def test_concurrent_views_share_one_transaction(
    app: FastAPI, engine: Engine, official: dict[str, str]
) -> None:
    """While one view's row is being written, the views that arrive queue and are then written
    and committed together: two audit inserts for six views, each view answered."""
    views = 6
    app_engine = app.state.database.engine
    inserts: list[int] = []
    probe_session = Session(app_engine)

    def on_insert(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.startswith("INSERT INTO audit_event") or "heatmap.view" not in str(
            parameters
        ):
            return
        rows = len(parameters) if isinstance(parameters, list) else 1
        inserts.append(rows)
        if len(inserts) == 1:  # the first flush waits until every other view has queued
            deadline = time.monotonic() + 20
            while audit.pending_reads(probe_session) < views - 1:
                assert time.monotonic() < deadline
                time.sleep(0.005)

    statuses: list[int] = []
    event.listen(app_engine, "before_cursor_execute", on_insert)
    try:

        def view() -> None:
            client = TestClient(app, cookies=official)
            statuses.append(client.get(PATHS["json"]).status_code)

        first = threading.Thread(target=view)
        first.start()
        deadline = time.monotonic() + 20
        while not inserts:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        others = [threading.Thread(target=view) for _ in range(views - 1)]
        for thread in others:
            thread.start()
        for thread in [first, *others]:
            thread.join(30)
    finally:
        event.remove(app_engine, "before_cursor_execute", on_insert)
    assert statuses == [200] * views
    assert inserts == [1, views - 1]
    assert _views(engine) == views


@pytest.mark.parametrize("channel", ["json", "page"])
def test_a_failed_audit_commit_is_a_503_and_sends_no_heatmap(
    app: FastAPI,
    engine: Engine,
    official: dict[str, str],
    channel: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(self: AuditRepository, rows: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(AuditRepository, "insert_rows", refuse)
    client = TestClient(app, cookies=official, raise_server_exceptions=False)
    response = client.get(PATHS[channel], headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Songjiang" not in response.text and "310117" not in response.text
    assert _views(engine) == 0
