"""kit.group_commit: each caller returns once a transaction holding its row has committed;
concurrent callers share one transaction; a failed flush fails every caller whose row it held."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import pytest
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.kit.db import create_session_factory
from app.kit.group_commit import GroupCommit, GroupCommitFailed
from app.models import AuditEvent


def _committed(engine: Engine, target: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.scalar(
                select(func.count()).where(
                    AuditEvent.action == "test.row", AuditEvent.target_id == target
                )
            )
            or 0
        )


def _writer(
    batches: list[list[str]], before: Callable[[Sequence[str]], None] = lambda rows: None
) -> Callable[[Session, Sequence[str]], None]:
    def write(session: Session, rows: Sequence[str]) -> None:
        batches.append(list(rows))
        before(rows)
        session.connection().execute(
            insert(AuditEvent),
            [
                {"actor_type": "system", "action": "test.row", "target_type": "t", "target_id": r}
                for r in rows
            ],
        )

    return write


def _in_threads(engine: Engine, work: Callable[[Session, str], None], names: list[str]) -> None:
    errors: list[BaseException] = []

    def run(name: str) -> None:
        with create_session_factory(engine)() as session:
            try:
                session.execute(select(1))  # a request's read transaction, already open
                work(session, name)
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    if errors:
        raise errors[0]


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the other callers never queued"
        time.sleep(0.005)


def test_a_lone_row_is_committed_at_once_by_its_own_caller(engine: Engine, db: Session) -> None:
    batches: list[list[str]] = []
    group: GroupCommit[str] = GroupCommit(_writer(batches))
    db.execute(select(1))
    group.commit(db, "alone")
    assert batches == [["alone"]]
    assert not db.in_transaction()  # committed in the caller's session
    assert _committed(engine, "alone") == 1
    assert group.pending(db) == 0


def _first_then_the_others(
    engine: Engine, others: list[str]
) -> tuple[list[list[str]], dict[str, BaseException | None]]:
    """ "first" flushes alone; ``others`` queue while it runs (its write waits for them). A
    batch holding "bad" fails. The batches written, and what each caller got."""
    batches: list[list[str]] = []
    outcome: dict[str, BaseException | None] = {}
    sessions: dict[str, Session] = {}

    def work(session: Session, name: str) -> None:
        if name == "first":
            sessions[name] = session
        else:
            _wait_for(lambda: bool(batches))  # "first" is flushing
        try:
            group.commit(session, name)
        except GroupCommitFailed as exc:
            outcome[name] = exc
            assert _committed(engine, name) == 0
        else:
            outcome[name] = None
            assert _committed(engine, name) == 1  # committed before commit() returned

    def hold_first(rows: Sequence[str]) -> None:
        if rows == ["first"]:
            _wait_for(lambda: group.pending(sessions["first"]) == len(others))
        if "bad" in rows:
            raise RuntimeError("disk full")

    group: GroupCommit[str] = GroupCommit(_writer(batches, hold_first))
    _in_threads(engine, work, ["first", *others])
    return batches, outcome


def test_concurrent_rows_share_one_transaction_and_each_caller_waits_for_it(
    engine: Engine,
) -> None:
    """While a flush runs, the rows handed in queue; the next flush writes them all in one
    transaction, and no caller returns before the transaction holding its row committed."""
    others = [f"r{i}" for i in range(5)]
    batches, outcome = _first_then_the_others(engine, others)
    assert batches[0] == ["first"]
    assert sorted(batches[1]) == others and len(batches) == 2
    assert outcome == dict.fromkeys(["first", *others])


def test_a_failed_flush_fails_every_row_it_held_and_the_next_flush_runs(
    engine: Engine, db: Session
) -> None:
    others = ["bad", "r1", "r2"]
    batches, outcome = _first_then_the_others(engine, others)
    assert outcome["first"] is None
    assert len(batches) == 2
    for name in others:  # one flush held them all: none is recorded, each caller heard
        assert isinstance(outcome[name], GroupCommitFailed), name
    group: GroupCommit[str] = GroupCommit(_writer([]))
    group.commit(db, "good")
    assert _committed(engine, "good") == 1
    assert isinstance(GroupCommitFailed(RuntimeError()), OperationalError)  # 503 in a request


def test_a_caller_holding_sqlites_write_lock_commits_its_row_itself(engine: Engine) -> None:
    """Queued, it would wait for the flusher, and the flusher for its lock (until the busy
    timeout failed them both): it writes and commits its own row at once instead."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    batches: list[list[str]] = []
    writer_done = threading.Event()

    def first_waits_for_the_writer(rows: Sequence[str]) -> None:
        if rows == ["first"]:
            assert writer_done.wait(10), "the writer waited behind the flush"

    group: GroupCommit[str] = GroupCommit(_writer(batches, first_waits_for_the_writer))

    def work(session: Session, name: str) -> None:
        if name == "writer":
            _wait_for(lambda: bool(batches))  # "first" is flushing
            session.execute(update(AuditEvent).where(AuditEvent.id == -1).values(action="x"))
            group.commit(session, name)  # holds the write lock: must not queue
            writer_done.set()
        else:
            group.commit(session, name)

    _in_threads(engine, work, ["first", "writer"])
    assert batches == [["first"], ["writer"]]
    assert _committed(engine, "first") == _committed(engine, "writer") == 1
