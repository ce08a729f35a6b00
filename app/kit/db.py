"""Engine and session factories; the request session and its commit at the request boundary."""

from __future__ import annotations

import threading
import uuid
from functools import partial
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
import psycopg
from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event, make_url, select
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, TimeoutError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from app.kit.settings import PROJECT_ROOT, Settings

T = TypeVar("T")

#: A pooled PostgreSQL connection is pinged before each use; a database that does not answer
#: the ping within this long is unavailable (503 at once) rather than waited for.
PING_TIMEOUT_SECONDS = 2.0
#: How much longer than the statement timeout the client waits for any answer before it closes
#: the connection: the server cancels a slow statement itself at the timeout, so silence past
#: it means that the server or the network has stopped answering.
CLIENT_GRACE_SECONDS = 2.0
#: Connections a pool keeps, and the most it opens (no overflow): the bound SQLAlchemy's
#: default gives (5 kept + 10 overflow), without its churn. With the default, every connection
#: past the fifth was opened for one request and closed after it (SQLite: the file, WAL and the
#: pragmas; PostgreSQL: a new backend), which was ~13 % of a result GET at eight concurrent
#: requests (docs/benchmarks.md, "Endpoint speed, third pass").
POOL_SIZE = 15


def create_db_engine(
    url: str,
    *,
    connect_timeout: int = 5,
    pool_timeout: float = 5.0,
    statement_timeout: float | None = None,
    lock_timeout: float = 30.0,
    **kwargs: Any,
) -> Engine:
    """Create an engine whose every wait is bounded (the policy is the docstring of
    :class:`Database`); SQLite files get their directory and the pragmas the service relies on.
    ``statement_timeout`` None or 0: statements are not limited (migrations); ``lock_timeout``
    is SQLite's wait for the write lock."""
    if url.startswith("sqlite"):
        path = make_url(url).database
        busy_seconds = lock_timeout
        gate = None
        if path and path != ":memory:":  # a file (in memory: one connection, no pool wait)
            (PROJECT_ROOT / path).parent.mkdir(parents=True, exist_ok=True)
            kwargs.setdefault("pool_timeout", pool_timeout)
            _bounded_pool(kwargs)
            gate = _write_gate((PROJECT_ROOT / path).resolve())
        engine = create_engine(url, connect_args={"timeout": busy_seconds}, **kwargs)
        event.listen(engine, "connect", partial(_sqlite_pragmas, int(busy_seconds * 1000)))
        # pysqlite's own transaction handling defers BEGIN; issue it ourselves so that
        # `BEGIN IMMEDIATE` is possible and SELECT ... then UPDATE is one transaction.
        event.listen(engine, "begin", partial(_sqlite_begin, gate, busy_seconds))
        event.listen(
            engine, "before_cursor_execute", partial(_sqlite_write_lock, gate, busy_seconds)
        )
        if gate is not None:
            gate.watch(engine)
        return engine
    connect_args: dict[str, Any] = {"connect_timeout": connect_timeout}
    if statement_timeout:
        connect_args["options"] = f"-c statement_timeout={int(statement_timeout * 1000)}"
    if make_url(url).get_driver_name() != "psycopg":  # SQLAlchemy's own ping, without a bound
        kwargs["pool_pre_ping"] = True
    _bounded_pool(kwargs)
    engine = create_engine(url, connect_args=connect_args, pool_timeout=pool_timeout, **kwargs)
    if engine.dialect.driver != "psycopg":
        return engine
    deadline = statement_timeout + CLIENT_GRACE_SECONDS if statement_timeout else None
    event.listen(engine, "do_connect", partial(_connect_with_deadline, deadline))
    event.listen(engine, "checkout", partial(_ping, engine.dialect))
    return engine


def _bounded_pool(kwargs: dict[str, Any]) -> None:
    """:data:`POOL_SIZE` connections kept and at most that many open, unless the caller chose."""
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", 0)


class DatabaseNotAnswering(psycopg.OperationalError):
    """The server sent nothing within the connection's deadline; the connection is closed."""


class _DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection that waits at most ``deadline`` seconds for any answer (psycopg
    itself waits forever on a server that accepted the connection and then fell silent)."""

    deadline: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        try:
            return super().wait(gen, interval, self.deadline if timeout is None else timeout)
        except psycopg.errors._WaitTimeout as exc:  # the only way psycopg reports its timeout
            self.close()  # the server may still answer later: this connection is unusable
            raise DatabaseNotAnswering(f"no answer from the database within {exc}") from None


def _connect_with_deadline(
    deadline: float | None, _dialect: Any, record: Any, cargs: Any, cparams: Any
) -> _DeadlineConnection:
    connection = _DeadlineConnection.connect(*cargs, **cparams)
    connection.deadline = deadline
    record.info["fresh"] = True
    return connection


def _ping(dialect: Any, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """SQLAlchemy's pre-ping with a short bound: a connection the server closed (a restart) is
    replaced, as with ``pool_pre_ping``; a server that does not answer is a 503 now."""
    if record.info.pop("fresh", False):
        return
    before, dbapi_connection.deadline = dbapi_connection.deadline, PING_TIMEOUT_SECONDS
    try:
        dialect.do_ping(dbapi_connection)
    except DatabaseNotAnswering as exc:
        raise TimeoutError(f"the database did not answer within {PING_TIMEOUT_SECONDS} s") from exc
    except psycopg.Error as exc:
        raise DisconnectionError(str(exc)) from exc
    finally:
        dbapi_connection.deadline = before


def _sqlite_pragmas(busy_timeout_ms: int, dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class _WriteGate:
    """SQLite's write lock, queued for in this process first.

    A writer that finds the database locked sleeps in SQLite's busy handler, up to 100 ms at a
    time between tries, while others take the lock in between: with eight concurrent answer
    PUTs one in a hundred waited more than a second (docs/benchmarks.md). Every write
    transaction of this process (``BEGIN IMMEDIATE``, :func:`_sqlite_begin` and
    :func:`_sqlite_write_lock`) first takes this lock, held until its ``COMMIT`` or
    ``ROLLBACK`` (or its connection is invalidated or closed): writers of one process then
    wait for each other here and take SQLite's lock as soon as it is free. Other processes (a
    worker, a command) still meet SQLite's lock and its busy handler. One gate per database
    file, shared by every engine of the process on it; its wait is bounded like SQLite's
    (``lock_timeout``), then "database is locked": 503.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: The DBAPI connection whose transaction holds the gate (only its own thread ends it).
        self._owner: Any = None

    def acquire(self, dbapi_connection: Any, timeout: float) -> bool:
        if self._owner is dbapi_connection:
            return True
        if not self._lock.acquire(timeout=timeout):
            return False
        self._owner = dbapi_connection
        return True

    def release(self, connection: Any) -> None:
        """Release the gate if ``connection`` (a DBAPI connection, or the pool's proxy of one)
        holds it; a no-op otherwise."""
        dbapi_connection = getattr(connection, "dbapi_connection", connection)
        if dbapi_connection is not None and self._owner is dbapi_connection:
            self._owner = None
            self._lock.release()

    def watch(self, engine: Engine) -> None:
        """Release the gate wherever a transaction of ``engine`` ends: after the dialect's
        ``COMMIT`` and ``ROLLBACK`` (the pool's reset of a returned connection is one), and when
        a connection is invalidated or closed in a transaction."""
        dialect = engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi_connection: Any) -> None:
            try:
                commit(dbapi_connection)
            finally:
                self.release(dbapi_connection)

        def do_rollback(dbapi_connection: Any) -> None:
            try:
                rollback(dbapi_connection)
            finally:
                self.release(dbapi_connection)

        dialect.do_commit = do_commit  # type: ignore[method-assign]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign]
        for name in ("invalidate", "close", "close_detached", "checkin"):
            event.listen(engine, name, self._released_by_pool)

    def _released_by_pool(self, dbapi_connection: Any, *_args: Any) -> None:
        self.release(dbapi_connection)


_GATES: dict[Any, _WriteGate] = {}
_GATES_LOCK = threading.Lock()


def _write_gate(path: Any) -> _WriteGate:
    with _GATES_LOCK:
        gate = _GATES.get(path)
        if gate is None:
            gate = _GATES[path] = _WriteGate()
        return gate


def _take_gate(gate: _WriteGate | None, timeout: float, connection: Any, statement: str) -> None:
    """Take ``gate`` for ``connection``'s transaction, or fail as SQLite does when its lock is
    not had within the busy timeout (OperationalError "database is locked": 503)."""
    if gate is None:
        return
    dbapi = connection.dialect.loaded_dbapi
    if not gate.acquire(connection.connection.dbapi_connection, timeout):
        raise DBAPIError.instance(
            statement,
            None,
            dbapi.OperationalError("database is locked (waited for this process's writers)"),
            dbapi.Error,
            dialect=connection.dialect,
        )


def _sqlite_begin(gate: _WriteGate | None, timeout: float, connection: Any) -> None:
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"
    if immediate:
        _take_gate(gate, timeout, connection, statement)
    # On the driver's connection: through SQLAlchemy's execution (events, the write-lock
    # check, a cursor result) the BEGIN cost as much as a query. Its errors (the write lock
    # not had within the busy timeout) are wrapped as SQLAlchemy would (OperationalError: 503).
    dbapi = connection.dialect.loaded_dbapi
    raw = connection.connection.dbapi_connection
    try:
        raw.execute(statement)
    except dbapi.Error as exc:
        if gate is not None:
            gate.release(raw)
        raise DBAPIError.instance(
            statement, None, exc, dbapi.Error, dialect=connection.dialect
        ) from exc
    connection.info["sqlite_writer"] = immediate


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _sqlite_write_lock(
    gate: _WriteGate | None,
    timeout: float,
    connection: Any,
    _cursor: Any,
    statement: str,
    *_args: Any,
    **_kwargs: Any,
) -> None:
    """SQLite's write rule, whatever the caller: no transaction writes without the write lock.

    A deferred transaction that has read and then writes fails at once with "database is locked"
    (SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out) when another writer committed since
    its read. So the first write of a transaction that did not begin IMMEDIATE ends its read
    snapshot and takes the lock first (waiting up to the busy timeout). Requests that may write
    begin IMMEDIATE anyway (:func:`get_session`); this covers the housekeeping writes of reads
    (a session's last activity) and every other path, without a call each must remember.
    """
    if connection.info.get("sqlite_writer", True) or not connection.in_transaction():
        return
    if not statement.lstrip()[:7].upper().startswith(_WRITES) or connection.in_nested_transaction():
        return
    raw = connection.connection.dbapi_connection  # below SQLAlchemy: no events, no recursion
    raw.execute("COMMIT")  # nothing written yet: this only ends the read snapshot
    _take_gate(gate, timeout, connection, "BEGIN IMMEDIATE")
    try:
        raw.execute("BEGIN IMMEDIATE")
    except BaseException:
        if gate is not None:
            gate.release(raw)
        raise
    connection.info["sqlite_writer"] = True


def lock_row(session: Session, column: InstrumentedAttribute[Any], value: object) -> None:
    """Serialise the writers of one row's dependants (PostgreSQL: ``FOR NO KEY UPDATE`` on the
    row whose ``column`` is ``value``; SQLite's write lock already serialises whole writers).

    FOR NO KEY UPDATE, not FOR UPDATE: by the time a writer asks, its transaction may have
    inserted rows referencing this one (a result, jobs, feed entries), and each such foreign
    key holds FOR KEY SHARE on it; FOR UPDATE conflicts with another writer's KEY SHARE, so two
    of them each waited for the other (a deadlock). FOR NO KEY UPDATE ignores KEY SHARE and
    still queues a second writer until the first commits; under READ COMMITTED its next
    statement then sees what the first wrote."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(column).where(column == value).with_for_update(key_share=True))


def locked_row(session: Session, model: type[T], key: uuid.UUID) -> T | None:
    """The row of ``model`` whose id is ``key``, locked as :func:`lock_row` locks it and read
    after the lock (as the writer before committed it, even where the session had loaded it
    earlier); None once it is gone. For a check-then-change on the row itself (is the firm
    confirmed?) that a writer on another app instance could make at the same moment."""
    query = select(model).where(model.id == key)  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(key_share=True)
    return session.scalar(query.execution_options(populate_existing=True))


def refers_to_a_deleted_row(exc: IntegrityError) -> bool:
    """Whether the database refused a row because a row it refers to is not there: a foreign
    key (PostgreSQL's SQLSTATE 23503, SQLite's SQLITE_CONSTRAINT_FOREIGNKEY), such as a firm's
    row written while the firm's deletion committed (``kit.errors`` answers it 404)."""
    cause = exc.orig
    return (
        getattr(cause, "sqlstate", None) == "23503"
        or getattr(cause, "sqlite_errorname", None) == "SQLITE_CONSTRAINT_FOREIGNKEY"
    )


def begin_write(session: Session) -> None:
    """Make the session's transaction a writer's, before the write path reads anything.

    On SQLite a deferred transaction that reads and then writes fails with "database is locked"
    when another writer committed in between; taking the write lock first makes such
    read-check-write sequences wait for each other instead. A read-only transaction already
    open (authentication) is ended first. PostgreSQL needs nothing here: the version check in
    the UPDATE and its row lock do the same job.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        if session.connection().info.get("sqlite_writer"):
            return  # already holds the lock (a request that may write, or after a write)
        if session.new or session.dirty or session.deleted:
            # Already a writer (e.g. registration signing the new user in): the flush takes
            # the write lock within this transaction.
            session.flush()
            return
        session.commit()
    session.connection(execution_options={"sqlite_immediate": True})


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


class Database:
    """The engine and session factory of one running app or command (tests build their own).

    Every wait on the database is bounded, so that a sick database answers 503 problem+json
    (``app.kit.errors``) instead of holding requests: opening a connection
    (``DB_CONNECT_TIMEOUT_SECONDS``), waiting for a pooled one (``DB_POOL_TIMEOUT_SECONDS``),
    a ping before reusing one (:data:`PING_TIMEOUT_SECONDS`), a statement (``statement_timeout``
    on the server; the client gives up :data:`CLIENT_GRACE_SECONDS` later) and, on SQLite, the
    write lock (``DB_SQLITE_LOCK_TIMEOUT_SECONDS``). Requests and the
    worker use ``DB_STATEMENT_TIMEOUT_SECONDS``, commands ``DB_CLI_STATEMENT_TIMEOUT_SECONDS``.
    """

    def __init__(self, settings: Settings, *, command: bool = False) -> None:
        statement = (
            settings.DB_CLI_STATEMENT_TIMEOUT_SECONDS
            if command
            else settings.DB_STATEMENT_TIMEOUT_SECONDS
        )
        self.engine = create_db_engine(
            settings.DATABASE_URL,
            connect_timeout=settings.DB_CONNECT_TIMEOUT_SECONDS,
            pool_timeout=settings.DB_POOL_TIMEOUT_SECONDS,
            statement_timeout=statement,
            lock_timeout=settings.DB_SQLITE_LOCK_TIMEOUT_SECONDS,
        )
        self.sessions = create_session_factory(self.engine)
        #: Sessions whose every transaction begins IMMEDIATE on SQLite (a no-op elsewhere).
        self.write_sessions = create_session_factory(
            self.engine.execution_options(sqlite_immediate=True)
        )
        #: For routes whose every write is one statement (``app.kit.routing``'s
        #: ``single_statement_writes``): on PostgreSQL each statement commits by itself (no
        #: ``BEGIN``, no ``COMMIT``; the pool resets the connection when it is returned); on
        #: SQLite, whose write paths are several statements under the write lock, the write
        #: sessions.
        self.autocommit_sessions = (
            create_session_factory(self.engine.execution_options(isolation_level="AUTOCOMMIT"))
            if self.engine.dialect.name == "postgresql"
            else self.write_sessions
        )

    def dispose(self) -> None:
        self.engine.dispose()


async def get_session(request: Request) -> Session:
    """The request's session. `app.kit.routing.CommittingRoute` commits it before the response
    is sent; :func:`close_request_session` closes it when the request is done (the app's
    request middleware calls it), rolling back anything left uncommitted (an error).

    Async on purpose: making a session does no I/O (it connects at its first statement); as a
    sync dependency it was a trip through the thread pool on every request (docs/benchmarks.md,
    "Endpoint speed"). Not a generator either: FastAPI enters and exits a dependency with
    ``yield`` through an exit stack and two context managers per request, which cost more than
    the rest of the dependency together (docs/benchmarks.md, "ep-result").
    """
    database: Database = request.app.state.database
    # A request that may write takes SQLite's write lock before its first read, so that its
    # read-check-write sequences (a unique e-mail, a version) cannot interleave with another's.
    if request.method in ("GET", "HEAD", "OPTIONS"):
        session = database.sessions()
    elif getattr(request.scope.get("route"), "autocommit", False):
        session = database.autocommit_sessions()
    else:
        session = database.write_sessions()
    request.state.db_session = session
    return session


async def close_request_session(state: dict[str, Any]) -> None:
    """Close the session :func:`get_session` made for a request (``state`` is the ASGI scope's
    ``"state"``), if it made one. Closing one that holds no transaction (committed at the
    request boundary) does no I/O; one still in a transaction (an error) is rolled back in the
    thread pool: that talks to the database."""
    session: Session | None = state.pop("db_session", None)
    if session is None:
        return
    if session.in_transaction():
        # Shielded and outside the thread pool's limit, as FastAPI exits a sync dependency:
        # a cancelled request still returns its connection, and a full pool of threads
        # waiting for connections cannot keep this one from being returned.
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))
    else:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]
