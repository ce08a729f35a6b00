"""Engine and session factories; the request session and its commit at the request boundary."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from app.kit.settings import PROJECT_ROOT, Settings


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite files get their directory and the pragmas the service relies on."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            (PROJECT_ROOT / path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; issue it ourselves so that
        # `BEGIN IMMEDIATE` is possible and SELECT ... then UPDATE is one transaction.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


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
    """The engine and session factory of one running app (tests build their own)."""

    def __init__(self, settings: Settings) -> None:
        self.engine = create_db_engine(settings.DATABASE_URL)
        self.sessions = create_session_factory(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def get_session(request: Request) -> Iterator[Session]:
    """The request's session. `app.kit.routing.CommittingRoute` commits it before the response
    is sent; anything left uncommitted (an error) is rolled back here."""
    database: Database = request.app.state.database
    session = database.sessions()
    request.state.db_session = session
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]
