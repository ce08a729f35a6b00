"""``zhizao aggregates verify | rebuild``: check (or rebuild) the heatmap aggregates against a
recomputation from the raw rows. ``zhizao heatmaps publish``: publish the heatmaps now."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from app.audit import service as audit
from app.heatmaps.publication import parameters_of, publish
from app.heatmaps.verify import rebuild, verify
from app.kit.cli import cli_session, load_settings
from app.kit.principal import CLI
from app.questionnaires.catalog import QuestionnaireCatalog

cli = typer.Typer()
aggregates_app = typer.Typer(
    help="Heatmap aggregates: verify against raw rows, or rebuild.", no_args_is_help=True
)
cli.add_typer(aggregates_app, name="aggregates")
heatmaps_app = typer.Typer(help="Heatmap publications.", no_args_is_help=True)
cli.add_typer(heatmaps_app, name="heatmaps")


@heatmaps_app.command("publish")
def publish_command() -> None:
    """Publish the heatmaps now (the worker does so daily at ZHIZAO_HEATMAP_PUBLISH_AT):
    officials then see the figures of this publication."""
    settings = load_settings()
    catalog = QuestionnaireCatalog.from_directory(settings.QUESTIONNAIRES_DIR)
    started = time.perf_counter()
    with cli_session(settings) as session:
        report = publish(session, catalog, parameters_of(settings))
        audit.record(
            session,
            CLI,
            "heatmap.publish",
            "heatmap",
            str(report.publication_id),
            detail={"tables": report.tables, "quarters": report.quarters},
        )
        session.commit()
    typer.echo(
        f"Published publication {report.publication_id}: {report.tables:,} tables "
        f"({', '.join(report.quarters) or 'no questionnaire'}) in "
        f"{time.perf_counter() - started:.1f} s."
    )


@aggregates_app.command("verify")
def verify_command(
    show: Annotated[int, typer.Option(help="Differences to print at most.")] = 50,
) -> None:
    """Recompute the aggregates from enterprises, submitted assessments and results, and report
    every difference from the maintained tables; exit 1 if there is any."""
    settings = load_settings()
    started = time.perf_counter()
    with cli_session(settings) as session:
        report = verify(session)
    seconds = time.perf_counter() - started
    typer.echo(
        f"Checked {report.firms:,} firms with {report.submissions:,} submitted assessments: "
        f"{report.contributions:,} contributions, {report.cells:,} cells, "
        f"{report.stage_cells:,} stage cells ({seconds:.1f} s)."
    )
    if report.difference_count == 0:
        typer.echo("No differences: the aggregates match the raw rows.")
        return
    typer.secho(f"{report.difference_count:,} differences:", err=True, fg=typer.colors.RED)
    for line in report.differences[:show]:
        typer.echo(f"  {line}", err=True)
    if report.difference_count > show:
        typer.echo(f"  … and {report.difference_count - show:,} more", err=True)
    typer.echo("Run `zhizao aggregates rebuild` to recompute them.", err=True)
    raise typer.Exit(1)


@aggregates_app.command("rebuild")
def rebuild_command(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the aggregates by a recomputation from the raw rows (one transaction)."""
    settings = load_settings()
    if not yes:
        typer.confirm("Rebuild the heatmap aggregates from the raw rows?", abort=True)
    started = time.perf_counter()
    with cli_session(settings) as session:
        report = rebuild(session)
        audit.record(
            session,
            CLI,
            "heatmap.rebuild",
            "heatmap",
            None,
            detail={"firms": report.firms, "contributions": report.contributions},
        )
        session.commit()
    typer.echo(
        f"Rebuilt from {report.firms:,} firms ({report.submissions:,} submissions): "
        f"{report.contributions:,} contributions, {report.cells:,} cells, "
        f"{report.stage_cells:,} stage cells ({time.perf_counter() - started:.1f} s)."
    )
