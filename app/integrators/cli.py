"""``zhizao create-api-client``, ``zhizao api-keys ...`` (key rotation), ``zhizao webhooks ...``
(approval) and ``zhizao secrets rotate`` (re-encryption under a new SECRET_KEY). Writes are
audited with the actor ``app.kit.principal.CLI``."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from app.integrators import service
from app.integrators.sealing import SecretUnavailable
from app.kit.cli import cli_session, fail, load_settings
from app.kit.errors import AppError
from app.kit.principal import CLI
from app.models import SCOPES

__all__ = ["cli"]

cli = typer.Typer()
api_keys_app = typer.Typer(
    name="api-keys",
    help="API keys of integrators: list, issue (rotation, at most two live), revoke.",
    no_args_is_help=True,
    add_completion=False,
)
cli.add_typer(api_keys_app, name="api-keys")


@cli.command("create-api-client")
def create_api_client(
    name: Annotated[str, typer.Option(help="The integrator's name.")],
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope",
            help="A scope the key carries; repeat for several "
            "(enterprises:write, assessments:write, assessments:read, reports:read).",
        ),
    ],
    contact_email: Annotated[str, typer.Option(help="Who to contact about this client.")] = "",
) -> None:
    """Register an integrator and print its API key, once."""
    settings = load_settings()
    with cli_session(settings) as session:
        try:
            issued = service.create_api_client(
                session, CLI, settings, name=name, scopes=scope, contact_email=contact_email
            )
        except AppError as exc:
            raise fail(f"Not created: {exc.detail}", 2) from None
        session.commit()
    typer.echo(
        f"Created API client {issued.client.name!r} (id {issued.client.id}), "
        f"scopes: {', '.join(issued.key.scopes)}.",
        err=True,
    )
    typer.secho(
        "API key below: it is shown once and cannot be shown again (only its hash is stored). "
        "Store it now; send it as `Authorization: Bearer <key>`.",
        err=True,
        fg=typer.colors.YELLOW,
    )
    typer.echo(issued.plaintext)


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
    settings = load_settings()
    with cli_session(settings) as session:
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
            raise fail(exc.detail, 2) from None
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
    unknown = sorted(set(scope or []) - set(SCOPES))
    if unknown:
        raise fail(f"Unknown scopes: {', '.join(unknown)}; known: {', '.join(SCOPES)}", 2)
    settings = load_settings()
    with cli_session(settings) as session:
        try:
            new = service.issue_key(session, CLI, settings, _client_id(client), scope or None)
        except AppError as exc:
            raise fail(f"Not issued: {exc.detail}", 2) from None
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
    settings = load_settings()
    with cli_session(settings) as session:
        try:
            key = service.revoke_key(session, CLI, key_id)
        except AppError as exc:
            raise fail(f"Not revoked: {exc.detail}", 2) from None
        session.commit()
    typer.echo(f"Revoked key {key.key_id} of client {key.client_id}.")


webhooks_app = typer.Typer(
    name="webhooks",
    help="Integrators' webhook endpoints: list them, approve one (events are sent to it from "
    "then on), disable one.",
    no_args_is_help=True,
    add_completion=False,
)
cli.add_typer(webhooks_app, name="webhooks")


def _endpoint_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a webhook endpoint id (a UUID)") from None


@webhooks_app.command("list")
def list_webhooks(
    status: Annotated[
        str | None,
        typer.Option(help="Only endpoints in this state: pending, active or disabled."),
    ] = None,
) -> None:
    """List webhook endpoints (pending ones await your approval)."""
    if status is not None and status not in ("pending", "active", "disabled"):
        raise fail("--status is one of pending, active, disabled.", 2)
    with cli_session(load_settings()) as session:
        endpoints = []
        cursor: str | None = None
        while True:
            page = service.admin_list_endpoints(
                session, CLI, status=status, cursor=cursor, limit=200
            )
            endpoints.extend(page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    if not endpoints:
        typer.echo("No webhook endpoints.")
    for endpoint in endpoints:
        reason = f" ({endpoint.disabled_reason})" if endpoint.disabled_reason else ""
        typer.echo(
            f"{endpoint.id}  {endpoint.status + reason:<28} client {endpoint.client_id}  "
            f"{endpoint.url}  [{', '.join(endpoint.events)}]"
        )


@webhooks_app.command("approve")
def approve_webhook(
    endpoint: Annotated[str, typer.Argument(help="The endpoint id (see `zhizao webhooks list`).")],
) -> None:
    """Approve (or re-enable) an endpoint: events are sent to it from now on."""
    settings = load_settings()
    with cli_session(settings) as session:
        try:
            approved = service.approve_endpoint(session, CLI, settings, _endpoint_id(endpoint))
        except AppError as exc:
            raise fail(f"Not approved: {exc.detail}", 2) from None
        session.commit()
    typer.echo(f"Approved {approved.url} ({approved.id}); events are sent to it from now on.")


@webhooks_app.command("disable")
def disable_webhook(
    endpoint: Annotated[str, typer.Argument(help="The endpoint id.")],
) -> None:
    """Disable an endpoint: nothing more is sent to it until an admin approves it again."""
    with cli_session(load_settings()) as session:
        try:
            disabled = service.admin_disable_endpoint(session, CLI, _endpoint_id(endpoint))
        except AppError as exc:
            raise fail(f"Not disabled: {exc.detail}", 2) from None
        session.commit()
    typer.echo(f"Disabled {disabled.url} ({disabled.id}).")


secrets_app = typer.Typer(
    name="secrets",
    help="Secrets kept encrypted at rest (webhook signing secrets): re-encrypt after a key change.",
    no_args_is_help=True,
    add_completion=False,
)
cli.add_typer(secrets_app, name="secrets")


@secrets_app.command("rotate")
def rotate_secrets() -> None:
    """Re-encrypt every webhook signing secret under the current ZHIZAO_SECRET_KEY.

    After changing ZHIZAO_SECRET_KEY, list the previous one in ZHIZAO_OLD_SECRET_KEYS, run this,
    then drop it from ZHIZAO_OLD_SECRET_KEYS. The signing secrets themselves do not change
    (receivers keep verifying); only the key they are encrypted under does.
    """
    settings = load_settings()
    with cli_session(settings) as session:
        try:
            resealed, current = service.reseal_secrets(session, settings)
        except SecretUnavailable as exc:
            raise fail(f"Nothing re-encrypted: {exc}", 2) from None
        session.commit()
    typer.echo(
        f"Re-encrypted {resealed} webhook signing secret(s) under the current key; "
        f"{current} already were."
    )
