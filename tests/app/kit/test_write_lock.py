"""SQLite under concurrency: every write takes the write lock first, so that concurrent
registrations, sign-ins and signed-in reads wait for each other instead of failing with
503 "database is locked" (a live server, threads of clients)."""

from __future__ import annotations

import tempfile
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import text

from app.kit.db import create_db_engine
from tests.factories import enterprise_payload
from tests.live import live_server

CLIENTS = 16
PASSWORD = "a long enough password"


def _one_client(base: str, statuses: Counter[str], lock: threading.Lock) -> None:
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    with httpx.Client(base_url=base, timeout=60) as http:
        calls = [
            (
                "register",
                lambda: http.post(
                    "/api/v1/accounts/register",
                    json={
                        "enterprise": enterprise_payload(),
                        "user": {"email": email, "password": PASSWORD},
                    },
                ),
            )
        ]
        for _ in range(3):
            calls.append(
                (
                    "login",
                    lambda: http.post(
                        "/api/v1/session", json={"email": email, "password": PASSWORD}
                    ),
                )
            )
            calls.append(("me", lambda: http.get("/api/v1/me")))
        for name, call in calls:
            response = call()
            with lock:
                statuses[f"{name} {response.status_code}"] += 1


def test_concurrent_registrations_and_sign_ins_never_meet_a_locked_database() -> None:
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as directory, live_server(Path(directory)) as live:
        with ThreadPoolExecutor(CLIENTS) as pool:
            for future in [
                pool.submit(_one_client, live.url, statuses, lock) for _ in range(CLIENTS)
            ]:
                future.result()
    assert statuses == Counter(
        {"register 202": CLIENTS, "login 200": 3 * CLIENTS, "me 200": 3 * CLIENTS}
    )


def test_a_reader_that_then_writes_waits_for_the_lock(tmp_path: Path) -> None:
    """The SQLITE_BUSY_SNAPSHOT case, without a server: read, another writer commits, write."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'lock.db'}", statement_timeout=5)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        connection.execute(text("INSERT INTO counter VALUES (1, 0)"))
    with engine.connect() as reader, reader.begin():
        reader.execute(text("SELECT n FROM counter")).all()
        with engine.begin() as writer:
            writer.execute(text("UPDATE counter SET n = n + 1"))
        reader.execute(text("UPDATE counter SET n = n + 10"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM counter")).scalar() == 11
    engine.dispose()
