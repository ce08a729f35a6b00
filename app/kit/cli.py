"""What every ``zhizao`` command needs: settings, the database at head, failing with a message.

A domain's CLI module (``app/<domain>/cli.py``) builds its commands on these helpers; the CLI
root (``app/cli.py``) mounts them. A typical command::

    settings = load_settings()
    with cli_session(settings) as session:
        ...
        session.commit()

Writes a command makes are audited with the actor ``app.kit.principal.CLI``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.kit import migrations
from app.kit.db import Database
from app.kit.settings import Settings

__all__ = ["cli_session", "fail", "load_settings", "migrated_database", "shown_url"]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` in red on stderr; ``raise fail(...)`` ends the command with ``code``."""
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def load_settings() -> Settings:
    """Fresh settings from the environment (and ``.env``); a bad configuration ends the command
    with exit code 2 and one line per bad setting."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        ]
        raise fail("Invalid configuration:\n" + "\n".join(lines), 2) from None


def shown_url(settings: Settings) -> str:
    """The database URL without its password, for messages."""
    return make_url(settings.DATABASE_URL).render_as_string(hide_password=True)


def _require_head(database: Database) -> None:
    try:
        with database.engine.connect() as connection:
            current = migrations.current_revision(connection)
    except SQLAlchemyError as exc:
        raise fail(f"Cannot reach the database: {exc.__class__.__name__}: {exc}") from None
    if current != migrations.head_revision():
        raise fail(
            f"The database is at revision {current or '(empty)'}, not at head "
            f"{migrations.head_revision()}: run `zhizao db upgrade` first."
        )


@contextmanager
def migrated_database(settings: Settings) -> Iterator[Database]:
    """The database of ``settings``, checked to be at the migrations' head (else the command
    ends, saying so); disposed of afterwards."""
    database = Database(settings, command=True)
    try:
        _require_head(database)
        yield database
    finally:
        database.dispose()


@contextmanager
def cli_session(settings: Settings) -> Iterator[Session]:
    """A session on the migrated database. The command commits what it wants kept."""
    with migrated_database(settings) as database, database.sessions() as session:
        yield session
