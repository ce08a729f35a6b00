"""``zhizao subsidies …``: catalogue commands."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from app.kit.cli import load_settings
from app.kit.clock import shanghai_date
from scoring.subsidy_advice import audit_catalogue
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


@subsidies_app.command("audit")
def audit(
    paths: list[Path] | None = typer.Argument(
        None, help="Programme files or directories (default: the served catalogue)."
    ),
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="Audit as on this date (default: today)."
    ),
) -> None:
    """List programmes expired, unconfirmed for over 12 months or of unknown validity, or
    without an official URL (rules: scoring.subsidy_advice.audit_catalogue)."""
    on = as_of.date() if as_of else shanghai_date()
    try:
        programmes = load_subsidies(paths or [load_settings().SUBSIDIES_DIR])
    except SubsidyLoadError as exc:
        for issue in exc.issues:
            typer.echo(str(issue), err=True)
        raise typer.Exit(1) from None
    findings = audit_catalogue(programmes, as_of=on)
    for finding in findings:
        typer.echo(str(finding))
    kinds = [finding.kind for finding in findings]
    typer.echo(
        f"{len(programmes)} programmes audited as of {on}: {kinds.count('expired')} expired, "
        f"{kinds.count('stale')} unconfirmed for over 12 months, "
        f"{kinds.count('validity_unknown')} of unknown validity, "
        f"{kinds.count('no_url')} without an official URL"
    )
