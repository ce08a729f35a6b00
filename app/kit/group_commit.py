"""Group commit: small rows of concurrent requests committed together, each before its response.

The rule: :meth:`GroupCommit.commit` returns only once a transaction that holds the caller's row
has committed. A caller that sends its response after it therefore never sends anything before
its row is durable (a ``kill -9`` of the server right after the response loses no row). If that
transaction fails, every caller whose row it held gets :class:`GroupCommitFailed` (an
``OperationalError``: 503 problem+json, ``app.kit.errors``) and sends nothing.

How: a caller whose row finds no flush under way becomes the flusher. It writes every row
pending by then in one transaction of its own session (on SQLite one take of the write lock),
commits, wakes the callers whose rows it held, and hands the next flush to the first caller that
queued meanwhile. A lone request so flushes its own row at once (no timer, no added wait), while
concurrent ones share one commit instead of queueing for the write lock one by one. A caller
whose transaction holds SQLite's write lock already (it has written, or began IMMEDIATE) writes
and commits its row itself at once: queued, it would wait for a flusher that waits for its lock.

The flusher writes through its own request's session: no connection beyond the ones the
requests already hold, so a pool full of waiting requests cannot starve it. Whatever that
session holds besides (the request's own reads or housekeeping writes) is committed with the
rows, as the request boundary would have committed it. Rows of different databases never mix:
each connection pool (one per database and app instance) has its own queue. Several app
instances each flush their own rows; the database orders them. A flush waits only on the
database, whose every wait is bounded (``app.kit.db.Database``), so a waiting caller is too.
Callers wait by blocking their thread: call it from a sync route (the thread pool), never on the
event loop.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

T = TypeVar("T")


class GroupCommitFailed(OperationalError):
    """The transaction that held the caller's row did not commit: the row is not recorded."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__("group commit", None, cause)


@dataclass(eq=False)
class _Waiter(Generic[T]):
    row: T
    woken: threading.Event = field(default_factory=threading.Event)
    #: Set by the flusher that handed this caller the next flush.
    flushes: bool = False
    error: BaseException | None = None


@dataclass(eq=False)
class _Queue(Generic[T]):
    """The rows of one database waiting for a flush, and whether one is under way."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: list[_Waiter[T]] = field(default_factory=list)
    flushing: bool = False


class GroupCommit(Generic[T]):
    """Commit rows written by ``write(session, rows)`` in groups (the rule: module docstring)."""

    def __init__(self, write: Callable[[Session, Sequence[T]], None]) -> None:
        self._write = write
        self._queues: weakref.WeakKeyDictionary[Pool, _Queue[T]] = weakref.WeakKeyDictionary()
        self._queues_lock = threading.Lock()

    def _queue(self, session: Session) -> _Queue[T]:
        pool = session.get_bind().engine.pool  # an engine with other options shares it
        with self._queues_lock:
            queue = self._queues.get(pool)
            if queue is None:
                queue = self._queues[pool] = _Queue()
            return queue

    def pending(self, session: Session) -> int:
        """How many rows of this session's database wait for a flush (tests)."""
        queue = self._queue(session)
        with queue.lock:
            return len(queue.pending)

    def commit(self, session: Session, row: T) -> None:
        """Return once ``row`` is committed; raise :class:`GroupCommitFailed` if it was not.
        ``session`` is the caller's own (a read-only request's is fine): it commits when this
        caller flushes, so nothing may be left in it that must not be committed."""
        if _holds_write_lock(session):
            self._flush_alone(session, row)
            return
        queue = self._queue(session)
        me = _Waiter(row)
        with queue.lock:
            queue.pending.append(me)
            flushes = not queue.flushing
            queue.flushing = True
        if not flushes:
            me.woken.wait()
            if not me.flushes:
                if me.error is not None:
                    raise GroupCommitFailed(me.error)
                return
        self._flush(queue, session, me)

    def _flush_alone(self, session: Session, row: T) -> None:
        try:
            self._write(session, [row])
            session.commit()
        except BaseException as exc:
            with contextlib.suppress(Exception):
                session.rollback()
            raise GroupCommitFailed(exc) from exc

    def _flush(self, queue: _Queue[T], session: Session, me: _Waiter[T]) -> None:
        with queue.lock:
            batch, queue.pending = queue.pending, []
        error: BaseException | None = None
        try:
            self._write(session, [waiter.row for waiter in batch])
            session.commit()
        except BaseException as exc:  # every row's caller must hear of it, whatever it was
            error = exc
            with contextlib.suppress(Exception):  # the error to report is the one above
                session.rollback()
        finally:
            with queue.lock:
                after = queue.pending[0] if queue.pending else None
                if after is None:
                    queue.flushing = False
                else:
                    after.flushes = True
            for waiter in batch:
                waiter.error = error
                waiter.woken.set()
            if after is not None:
                after.woken.set()
        if error is not None:
            raise GroupCommitFailed(error) from error


def _holds_write_lock(session: Session) -> bool:
    """Whether the session's transaction holds SQLite's write lock (``app.kit.db``)."""
    return session.in_transaction() and bool(session.connection().info.get("sqlite_writer"))
