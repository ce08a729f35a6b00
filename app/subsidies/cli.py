"""``zhizao subsidies …``: catalogue commands."""

from __future__ import annotations

from pathlib import Path

import typer

from scoring.subsidy_loader import SubsidyLoadError, load_subsidies

subsidies_app = typer.Typer(
    help="Subsidy programme catalogue (subsidies/*.yaml).", no_args_is_help=True
)
cli = typer.Typer()
cli.add_typer(subsidies_app, name="subsidies")


@subsidies_app.callback()
def _main() -> None:
    """Subsidy programme catalogue (subsidies/*.yaml)."""


@subsidies_app.command("validate")
def validate(
    paths: list[Path] = typer.Argument(..., help="Programme files or directories of *.yaml files."),
) -> None:
    """Validate programme files; list every problem (file: path: message) and exit 1 if any."""
    missing = [path for path in paths if not path.exists()]
    for path in missing:
        typer.echo(f"{path}: no such file or directory", err=True)
    try:
        programmes = load_subsidies([path for path in paths if path.exists()])
    except SubsidyLoadError as exc:
        for issue in exc.issues:
            typer.echo(str(issue), err=True)
        count = len(exc.issues) + len(missing)
        typer.echo(f"{count} problem{'s' if count != 1 else ''} found", err=True)
        raise typer.Exit(1) from None
    if missing:
        raise typer.Exit(1)
    typer.echo(f"ok: {len(programmes)} programme{'s' if len(programmes) != 1 else ''}")
