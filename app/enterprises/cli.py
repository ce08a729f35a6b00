"""``zhizao privacy purge``: delete contact persons past their retention date."""

from __future__ import annotations

import typer

from app.enterprises import privacy
from app.kit.cli import cli_session, load_settings
from app.kit.principal import CLI

cli = typer.Typer()
privacy_app = typer.Typer(help="Privacy (PIPL): retention of personal data.", no_args_is_help=True)
cli.add_typer(privacy_app, name="privacy")


@privacy_app.command("purge")
def purge_command() -> None:
    """Delete every contact person past its retention date (CONTACT_RETENTION_DAYS)."""
    with cli_session(load_settings()) as session:
        deleted = privacy.purge_expired_contacts(session, CLI)
        session.commit()
    typer.echo(f"Deleted {deleted} contact(s) past their retention date.")
