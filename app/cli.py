"""The ``zhizao`` command (the CLI root): serve, migrate, check the machine, and every domain's
commands (``app/<domain>/cli.py``, mounted below with ``add_typer``). It reads the same settings
as the server; the helpers every command uses are in ``app.kit.cli``.
"""

import shutil
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

import typer
from limits.errors import ConfigurationError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app import hooks
from app.accounts.cli import cli as accounts_cli
from app.demo.cli import cli as demo_cli
from app.enterprises.cli import cli as enterprises_cli
from app.heatmaps.cli import cli as heatmaps_cli
from app.integrators.cli import cli as integrators_cli
from app.integrators.ratelimit import counted_per_process, storage_of
from app.kit import migrations
from app.kit.cli import fail, load_settings, migrated_database, shown_url
from app.kit.db import create_db_engine
from app.kit.settings import Settings
from app.observability.logging import configure_logging
from app.questionnaires.cli import cli as questionnaires_cli
from app.reports import system as report_system
from app.startup import production_warnings
from app.subsidies.cli import cli as subsidies_cli
from app.verification.cli import cli as verification_cli
from app.worker import worker_for

hooks.install()  # the commands' writes publish events too (app/hooks.py)

cli = typer.Typer(
    name="zhizao",
    help="zhizao (智造): smart-manufacturing maturity self-assessment service.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database migrations (Alembic).", no_args_is_help=True)
cli.add_typer(db_app, name="db")


def main() -> None:
    cli()


# --- serve ---------------------------------------------------------------------------------------


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Serve the web service and API with uvicorn (app.main:app)."""
    import uvicorn

    settings = load_settings()
    typer.echo(f"zhizao ({settings.ENV}) on http://{host}:{port}  database: {shown_url(settings)}")
    uvicorn.run(
        "app.main:app",
        host=host,
        port=port,
        reload=reload,
        log_level=settings.LOG_LEVEL.lower(),
        # The app logs every request itself with its route template; uvicorn's access log would
        # write full paths, and invitation and password-reset links carry their token there.
        access_log=False,
    )


# --- db ------------------------------------------------------------------------------------------


def _revisions(
    settings: Settings, failure: str, change: Callable[[Engine], None] | None = None
) -> tuple[str | None, str | None]:
    """The database's revision before and after ``change`` (without one: as it is, twice). A
    database error ends the command: ``failure`` names what failed, then the database and why."""
    engine = create_db_engine(settings.DATABASE_URL)
    try:
        with engine.connect() as connection:
            before = after = migrations.current_revision(connection)
        if change is not None:
            change(engine)
            with engine.connect() as connection:
                after = migrations.current_revision(connection)
    except SQLAlchemyError as exc:
        raise fail(f"{failure} {shown_url(settings)}: {exc}") from None
    finally:
        engine.dispose()
    return before, after


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply migrations up to REVISION (default: head)."""
    settings = load_settings()
    before, after = _revisions(
        settings,
        "Migration failed on",
        lambda engine: migrations.upgrade(engine, revision, settings),
    )
    if before == after:
        typer.echo(f"{shown_url(settings)}: already at {after}.")
    else:
        typer.echo(f"{shown_url(settings)}: upgraded {before or '(empty)'} -> {after}.")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Revert migrations down to REVISION. Dropping tables loses their data."""
    settings = load_settings()
    if not yes:
        typer.confirm(
            f"Downgrade {shown_url(settings)} to {revision}? Data in dropped tables is lost",
            abort=True,
        )
    _, after = _revisions(
        settings, "Downgrade failed on", lambda engine: migrations.downgrade(engine, revision)
    )
    typer.echo(f"{shown_url(settings)}: now at {after or '(empty)'}.")


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the migrations' head; exit 1 unless they agree."""
    settings = load_settings()
    current, _ = _revisions(settings, "Cannot reach")
    head = migrations.head_revision()
    state = "at head" if current == head else "NOT at head: run `zhizao db upgrade`"
    typer.echo(f"{shown_url(settings)}: revision {current or '(empty)'}, head {head} ({state})")
    if current != head:
        raise typer.Exit(1)


# --- worker ---------------------------------------------------------------------------------------


@cli.command("worker")
def worker_command(
    once: Annotated[bool, typer.Option("--once", help="Do what is due now, then exit.")] = False,
) -> None:
    """Deliver webhooks and e-mail from their outboxes, render the PDF reports of new
    submissions, publish the heatmaps and purge expired personal data on schedule, until stopped
    (SIGTERM/SIGINT). Any number of workers may run against PostgreSQL (docs/deployment.md); on
    SQLite the web process runs one itself (ZHIZAO_WEBHOOK_WORKER)."""
    settings = load_settings()
    # Logged as the app logs (ZHIZAO_LOG_LEVEL, ZHIZAO_LOG_JSON): a worker is its own process.
    configure_logging(settings.LOG_LEVEL, json=settings.LOG_JSON)
    with migrated_database(settings) as database:
        worker = worker_for(database, settings)
        try:
            if once:
                typer.echo(f"{worker.drain()} delivery attempt(s) made.")
                return
            stop = threading.Event()

            def _stop(signum: int, _frame: FrameType | None) -> None:
                stop.set()

            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
            jobs = ", ".join(job.name for job in worker.jobs)
            typer.echo(f"Worker running ({jobs}; poll every {settings.WEBHOOK_POLL_SECONDS} s).")
            worker.run_forever(stop)
            typer.echo("Worker stopped.")
        finally:
            worker.close()


# --- doctor --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    """One line of ``zhizao doctor``. A failed check (not ``ok``) makes the exit 1; a warning
    (``ok`` and ``warning``) passes but is said with its fix: the service runs, perhaps not as
    meant."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False


def check_harfbuzz_subset() -> Check:
    found = report_system.harfbuzz_subset_library()
    if found:
        return Check("libharfbuzz-subset0", True, found)
    return Check(
        "libharfbuzz-subset0",
        False,
        "not found: PDF reports render several times slower",
        "apt-get install libharfbuzz-subset0",
    )


def check_cjk_font() -> Check:
    if shutil.which("fc-list") is None:
        return Check(
            "CJK font",
            False,
            "fontconfig (fc-list) not found",
            "apt-get install fontconfig fonts-noto-cjk",
        )
    families = report_system.cjk_fonts()
    if families:
        if report_system.REPORT_FONT in families:
            return Check("CJK font", True, f"{report_system.REPORT_FONT} (used by the PDF reports)")
        return Check(
            "CJK font",
            True,
            f"{', '.join(families[:3])}; {report_system.REPORT_FONT} missing: reports may show "
            "Japanese glyph forms",
            "apt-get install fonts-noto-cjk",
            warning=True,
        )
    return Check(
        "CJK font",
        False,
        "no font covers Chinese: PDF reports show empty boxes",
        "apt-get install fonts-noto-cjk",
    )


def check_database(settings: Settings) -> Check:
    engine = create_db_engine(settings.DATABASE_URL)
    try:
        with engine.connect() as connection:
            current = migrations.current_revision(connection)
    except SQLAlchemyError as exc:
        return Check(
            "database",
            False,
            f"{shown_url(settings)} unreachable: {exc.__class__.__name__}",
            "check ZHIZAO_DATABASE_URL",
        )
    finally:
        engine.dispose()
    head = migrations.head_revision()
    if current == head:
        return Check("database", True, f"{shown_url(settings)} at head {head}")
    return Check(
        "database",
        False,
        f"{shown_url(settings)} at {current or '(empty)'}, head {head}",
        "zhizao db upgrade",
    )


def check_rate_limit_storage(settings: Settings) -> Check:
    """In-process counters (``memory://``) are a warning: right for one app process, N times
    the limits (``API_RATE_LIMIT``, ``API_KEY_FAILURE_LIMIT``) for N. A shared storage (Redis)
    must answer within ``REDIS_TIMEOUT_SECONDS``, or the check fails: while it does not, API-key
    requests go through uncounted (the rate limiter's policy, app/integrators/ratelimit.py)."""
    uri = _shown_storage_uri(settings.RATE_LIMIT_STORAGE_URI)
    if counted_per_process(settings):
        return Check(
            "rate-limit storage",
            True,
            f"{uri} counts in each app process: N app processes allow N times "
            f"ZHIZAO_API_RATE_LIMIT ({settings.API_RATE_LIMIT}) per key and N times "
            f"ZHIZAO_API_KEY_FAILURE_LIMIT ({settings.API_KEY_FAILURE_LIMIT}) per client address",
            "with more than one app process set ZHIZAO_RATE_LIMIT_STORAGE_URI to a shared Redis, "
            "e.g. redis://redis:6379/0",
            warning=True,
        )
    try:
        answered = storage_of(settings).check()
    except (ConfigurationError, ValueError) as exc:
        return Check(
            "rate-limit storage",
            False,
            f"ZHIZAO_RATE_LIMIT_STORAGE_URI {uri} is not a usable storage: {exc}",
            "check ZHIZAO_RATE_LIMIT_STORAGE_URI",
        )
    if answered:
        return Check("rate-limit storage", True, f"{uri} answered")
    return Check(
        "rate-limit storage",
        False,
        f"ZHIZAO_RATE_LIMIT_STORAGE_URI {uri} did not answer within "
        f"ZHIZAO_REDIS_TIMEOUT_SECONDS ({settings.REDIS_TIMEOUT_SECONDS} s), or refused: "
        "API-key requests go through uncounted",
        "check ZHIZAO_RATE_LIMIT_STORAGE_URI (host, port, password) and that its server is up",
    )


def _shown_storage_uri(uri: str) -> str:
    """``uri`` without its password, for messages."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def production_checks(settings: Settings) -> list[Check]:
    """The warnings a production start logs (``app.startup.production_warnings``), one line each;
    each says its fix."""
    return [
        Check("production setting", True, warning, warning=True)
        for warning in production_warnings(settings)
    ]


@cli.command()
def doctor(
    worker: Annotated[
        bool,
        typer.Option(
            "--worker",
            help="Check a worker's process: the rate-limit storage, which only the app "
            "processes use, is not checked.",
        ),
    ] = False,
) -> None:
    """Check what the service needs from this machine and its settings; exit 1 if anything is
    missing or does not answer. Warnings (settings that fit one process only, say) pass.

    ``--worker`` is a worker's health check (docker-compose.yml): a Redis that does not answer
    stops API-key counting in the app processes, not a worker's deliveries, renders or
    publications, so it does not make a worker unhealthy."""
    settings = load_settings()
    checks = [
        check_harfbuzz_subset(),
        check_cjk_font(),
        check_database(settings),
        *([] if worker else [check_rate_limit_storage(settings)]),
        *production_checks(settings),
    ]
    for check in checks:
        if not check.ok:
            mark = typer.style("FAIL", fg=typer.colors.RED)
        elif check.warning:
            mark = typer.style("WARN", fg=typer.colors.YELLOW)
        else:
            mark = typer.style("ok  ", fg=typer.colors.GREEN)
        typer.echo(f"{mark} {check.name}: {check.detail}")
        if (not check.ok or check.warning) and check.fix:
            typer.echo(f"     fix: {check.fix}")
    if not all(check.ok for check in checks):
        raise typer.Exit(1)


# --- every domain's commands --------------------------------------------------------------------

for domain_cli in (
    accounts_cli,
    enterprises_cli,
    questionnaires_cli,
    subsidies_cli,
    integrators_cli,
    heatmaps_cli,
    verification_cli,
    demo_cli,
):
    cli.add_typer(domain_cli)


if __name__ == "__main__":
    main()
