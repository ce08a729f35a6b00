"""``zhizao api-keys ...`` (key rotation) and ``zhizao worker`` (webhook delivery), wired into
``app/cli.py``. Writes are audited with the actor ``app.kit.principal.CLI``."""

from __future__ import annotations

import signal
import threading
import uuid
from types import FrameType
from typing import Annotated

import typer

__all__ = ["api_keys_app", "worker_command"]

api_keys_app = typer.Typer(
    name="api-keys",
    help="API keys of integrators: list, issue (rotation, at most two live), revoke.",
    no_args_is_help=True,
    add_completion=False,
)


def _client_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an API client id (a UUID)") from None


@api_keys_app.command("list")
def list_keys(
    client: Annotated[str | None, typer.Argument(help="API client id; omit for all.")] = None,
) -> None:
    """List API clients and their keys (never the secrets)."""
    from app.cli import _database, _fail, _require_head, load_settings
    from app.integrators import service
    from app.kit.errors import AppError
    from app.kit.principal import CLI

    settings = load_settings()
    with _database(settings) as database, database.sessions() as session:
        _require_head(database)
        try:
            if client is not None:
                clients = [service.get_client(session, CLI, _client_id(client))]
            else:
                clients, cursor = [], None
                while True:
                    page = service.list_clients(session, CLI, cursor=cursor, limit=200)
                    clients.extend(page.items)
                    if page.next_cursor is None:
                        break
                    cursor = page.next_cursor
        except AppError as exc:
            raise _fail(exc.detail, 2) from None
    for item in clients:
        state = " (disabled)" if item.disabled_at else ""
        typer.echo(f"{item.id}  {item.name}{state}")
        for key in item.keys:
            status = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "live"
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            typer.echo(
                f"    {key.key_id}  {status:<24} last used {used:<16}  {' '.join(key.scopes)}"
            )


@api_keys_app.command("create")
def create_key(
    client: Annotated[str, typer.Argument(help="API client id.")],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="Scope of the new key (repeat); default: the live key's."),
    ] = None,
) -> None:
    """Issue a new key for a client (rotation): give it to the integrator, then revoke the old."""
    from app.cli import _database, _fail, _require_head, load_settings
    from app.integrators import service
    from app.kit.errors import AppError
    from app.kit.principal import CLI
    from app.models import SCOPES

    unknown = sorted(set(scope or []) - set(SCOPES))
    if unknown:
        raise _fail(f"Unknown scopes: {', '.join(unknown)}; known: {', '.join(SCOPES)}", 2)
    settings = load_settings()
    with _database(settings) as database, database.sessions() as session:
        _require_head(database)
        try:
            new = service.issue_key(session, CLI, settings, _client_id(client), scope or None)
        except AppError as exc:
            raise _fail(f"Not issued: {exc.detail}", 2) from None
        session.commit()
    typer.echo(f"Issued key {new.key.key_id} (scopes: {', '.join(new.key.scopes)}).", err=True)
    typer.secho(
        "API key below: shown once, only its hash is stored. Revoke the old key once the "
        "integrator has switched: `zhizao api-keys revoke <key id>`.",
        err=True,
        fg=typer.colors.YELLOW,
    )
    typer.echo(new.plaintext)


@api_keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key id (16 hex after the prefix).")],
) -> None:
    """Revoke a key at once: the next request with it answers 401."""
    from app.cli import _database, _fail, _require_head, load_settings
    from app.integrators import service
    from app.kit.errors import AppError
    from app.kit.principal import CLI

    settings = load_settings()
    with _database(settings) as database, database.sessions() as session:
        _require_head(database)
        try:
            key = service.revoke_key(session, CLI, key_id)
        except AppError as exc:
            raise _fail(f"Not revoked: {exc.detail}", 2) from None
        session.commit()
    typer.echo(f"Revoked key {key.key_id} of client {key.client_id}.")


def worker_command(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit.")
    ] = False,
) -> None:
    """Deliver webhooks from the outbox until stopped (SIGTERM/SIGINT). Several workers may run
    against PostgreSQL; on SQLite the web process delivers by itself (ZHIZAO_WEBHOOK_WORKER)."""
    from app.cli import _database, _require_head, load_settings
    from app.integrators.worker import WebhookWorker

    settings = load_settings()
    with _database(settings) as database:
        _require_head(database)
        worker = WebhookWorker(database, settings)
        try:
            if once:
                total = 0
                while (done := worker.run_once()) > 0:
                    total += done
                typer.echo(f"{total} delivery attempt(s) made.")
                return
            stop = threading.Event()

            def _stop(signum: int, _frame: FrameType | None) -> None:
                stop.set()

            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
            typer.echo(f"Webhook worker running (poll every {settings.WEBHOOK_POLL_SECONDS} s).")
            worker.run_forever(stop)
            typer.echo("Webhook worker stopped.")
        finally:
            worker.close()
