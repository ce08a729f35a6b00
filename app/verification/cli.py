"""``zhizao verify-enterprise``: confirm a firm (or withdraw the confirmation) as an admin."""

from __future__ import annotations

from typing import Annotated

import typer

from app.enterprises import service as enterprise_service
from app.kit.cli import cli_session, fail, load_settings
from app.kit.principal import CLI
from app.verification import service

cli = typer.Typer()


@cli.command("verify-enterprise")
def verify_enterprise_command(
    enterprise: Annotated[str, typer.Argument(help="The enterprise's id or credit code.")],
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Withdraw the confirmation instead.")
    ] = False,
) -> None:
    """Confirm an enterprise is real (admin verification): from then on it counts in the
    heatmaps. Audited with the CLI as the actor."""
    with cli_session(load_settings()) as session:
        found = enterprise_service.find(session, enterprise)
        if found is None:
            raise fail(f"No enterprise with id or credit code {enterprise}.", 2)
        was = found.verified
        updated = service.set_verified(session, CLI, found.id, not revoke)
        session.commit()
    if was == updated.verified:
        state = "verified" if updated.verified else "not verified"
        typer.echo(f"{updated.name} ({updated.credit_code}) is already {state}; nothing changed.")
    elif updated.verified:
        typer.echo(
            f"Verified {updated.name} ({updated.credit_code}) at "
            f"{updated.verified_at:%Y-%m-%d %H:%M} UTC; it now counts in the heatmaps."
        )
    else:
        typer.echo(
            f"Withdrew the verification of {updated.name} ({updated.credit_code}); "
            "it no longer counts in the heatmaps."
        )
