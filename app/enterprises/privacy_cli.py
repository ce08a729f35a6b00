"""``zhizao privacy purge``: delete contact persons past their retention date."""

from __future__ import annotations

import typer

privacy_app = typer.Typer(help="Privacy (PIPL): retention of personal data.", no_args_is_help=True)


@privacy_app.command("purge")
def purge_command() -> None:
    """Delete every contact person past its retention date (CONTACT_RETENTION_DAYS)."""
    from app.cli import _database, _require_head, load_settings
    from app.enterprises.privacy import purge_expired_contacts
    from app.kit.principal import CLI

    settings = load_settings()
    with _database(settings) as database, database.sessions() as session:
        _require_head(database)
        deleted = purge_expired_contacts(session, CLI)
        session.commit()
    typer.echo(f"Deleted {deleted} contact(s) past their retention date.")
