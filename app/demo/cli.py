"""``zhizao seed-demo``: the demo accounts and firm, and optionally bulk synthetic firms."""

from __future__ import annotations

from typing import Annotated

import typer

from app.demo import service as demo
from app.demo import synthetic_cli
from app.heatmaps import service as heatmaps
from app.kit.cli import cli_session, fail, load_settings
from app.kit.principal import CLI
from app.questionnaires.catalog import QuestionnaireCatalog

cli = typer.Typer()


@cli.command("seed-demo")
def seed_demo(
    enterprises: Annotated[
        int,
        typer.Option(min=0, help="Also bulk-load synthetic firms (labelled synthetic) up to N."),
    ] = 0,
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic firms.")] = 1,
) -> None:
    """Create the demo accounts and firm (development only; safe to run again)."""
    settings = load_settings()
    if not settings.is_development:
        raise fail(
            f"seed-demo runs in development only (ZHIZAO_ENV is {settings.ENV}); "
            "it creates accounts with published passwords."
        )
    with cli_session(settings) as session:
        outcome = demo.seed_demo(session, CLI)
        session.commit()
    if outcome.created:
        typer.echo("Demo data created: " + "; ".join(outcome.created) + ".")
    else:
        typer.echo("Demo data already present; nothing changed.")
    typer.echo("Demo logins (development only):")
    for login in outcome.logins:
        typer.echo(f"  {login.role:<10} {login.email:<28} password: {login.password}")
    if enterprises:
        synthetic_cli.seed_synthetic_firms(settings, enterprises=enterprises, seed=seed)
    # Officials read only published heatmaps: publish once so that the demo shows tables.
    catalog = QuestionnaireCatalog.from_directory(settings.QUESTIONNAIRES_DIR)
    with cli_session(settings) as session:
        report = heatmaps.publish(session, catalog, heatmaps.parameters_of(settings))
        session.commit()
    typer.echo(f"Heatmaps published ({report.tables:,} tables).")
