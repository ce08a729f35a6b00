"""SQLite under concurrency: every write takes the write lock first, so that concurrent
registrations, sign-ins and signed-in reads wait for each other instead of failing with
503 "database is locked" (a live server, threads of clients); the writers of one process queue
for it in the process (``app.kit.db._WriteGate``), and every way a transaction ends lets the
next one in."""

from __future__ import annotations

import tempfile
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError

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


def _counter_db(path: Path, *, busy_handler: bool = True, **options: float) -> Engine:
    """``busy_handler`` False: SQLite's own wait is off on the engine's connections, so a writer
    that meets the lock fails at once instead of sleeping in the busy handler."""
    engine = create_db_engine(f"sqlite:///{path}", statement_timeout=5, **options)
    if not busy_handler:
        event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA busy_timeout=0"))
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY)"))
    return engine


def test_writers_of_one_process_queue_for_the_lock_in_the_process(tmp_path: Path) -> None:
    """A second writer waits for the first one's COMMIT before it asks SQLite for the lock (it
    slept in SQLite's busy handler, up to 100 ms a try: seconds at the tail under load). With
    SQLite's own wait off, asking while the first holds the lock would fail at once."""
    holder = _counter_db(tmp_path / "gate.db")
    second = _counter_db(tmp_path / "gate.db", busy_handler=False)
    holding, waiting = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def write_second() -> None:
        try:
            waiting.set()
            with second.execution_options(sqlite_immediate=True).begin() as connection:
                connection.execute(text("INSERT INTO counter (id) VALUES (2)"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    with holder.execution_options(sqlite_immediate=True).begin() as connection:
        connection.execute(text("INSERT INTO counter (id) VALUES (1)"))
        holding.set()
        thread = threading.Thread(target=write_second)
        thread.start()
        waiting.wait(5)
        thread.join(0.3)  # it is waiting, not failing
        assert thread.is_alive() and not errors
    thread.join(10)
    assert not errors, errors
    with holder.connect() as connection:
        assert connection.execute(text("SELECT id FROM counter ORDER BY id")).scalars().all() == [
            1,
            2,
        ]
    holder.dispose()
    second.dispose()


def test_a_transaction_ended_any_way_lets_the_next_writer_in(tmp_path: Path) -> None:
    """Rolled back, failed, or its connection invalidated mid-transaction: the next writer of the
    process gets the lock at once (it would wait its whole lock timeout, then 503)."""
    engine = _counter_db(tmp_path / "ended.db", lock_timeout=2)
    writers = engine.execution_options(sqlite_immediate=True)

    def write(row: int) -> None:
        with writers.begin() as connection:
            connection.execute(text("INSERT INTO counter (id) VALUES (:id)"), {"id": row})

    with writers.connect() as connection:
        connection.begin()
        connection.execute(text("INSERT INTO counter (id) VALUES (10)"))
        connection.rollback()
    write(1)
    with pytest.raises(IntegrityError), writers.begin() as connection:
        connection.execute(text("INSERT INTO counter (id) VALUES (1)"))  # a duplicate: rolled back
    write(2)
    connection = writers.connect()
    connection.begin()
    connection.execute(text("INSERT INTO counter (id) VALUES (20)"))
    connection.invalidate()
    connection.close()
    write(3)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id FROM counter ORDER BY id")).scalars().all() == [
            1,
            2,
            3,
        ]
    engine.dispose()


def test_a_writer_waits_for_the_others_no_longer_than_the_lock_timeout(tmp_path: Path) -> None:
    """Past ``lock_timeout`` it fails as SQLite does when its lock is not had: OperationalError
    "database is locked" (503 problem+json)."""
    holder = _counter_db(tmp_path / "timeout.db")
    impatient = _counter_db(tmp_path / "timeout.db", lock_timeout=0.2)
    with holder.execution_options(sqlite_immediate=True).begin() as connection:
        connection.execute(text("INSERT INTO counter (id) VALUES (1)"))
        with (
            impatient.execution_options(sqlite_immediate=True).connect() as waiting,
            pytest.raises(OperationalError, match="database is locked"),
        ):
            waiting.begin()
    with impatient.execution_options(sqlite_immediate=True).begin() as connection:
        connection.execute(text("INSERT INTO counter (id) VALUES (2)"))
    holder.dispose()
    impatient.dispose()
