"""The ``zhizao`` command: serve, migrate, administer. It reads the same settings as the server.

Every write it makes is audited with the actor ``app.kit.principal.CLI``.
"""

import ctypes.util
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from app.enterprises.privacy_cli import privacy_app
from app.heatmaps.cli import aggregates_app
from app.integrators.cli import api_keys_app, worker_command
from app.kit import migrations
from app.kit.db import Database, create_db_engine
from app.kit.settings import Settings
from app.questionnaires.cli import questionnaire_app, score_command
from app.subsidies.cli import subsidies_app
from app.verification.cli import verify_enterprise_command

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


# --- helpers -------------------------------------------------------------------------------------


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def load_settings() -> Settings:
    """Fresh settings from the environment (and ``.env``); a bad configuration ends the command."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        ]
        raise _fail("Invalid configuration:\n" + "\n".join(lines), 2) from None


def _shown_url(settings: Settings) -> str:
    return make_url(settings.DATABASE_URL).render_as_string(hide_password=True)


@contextmanager
def _database(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    try:
        yield database
    finally:
        database.dispose()


def _require_head(database: Database) -> None:
    try:
        with database.engine.connect() as connection:
            current = migrations.current_revision(connection)
    except SQLAlchemyError as exc:
        raise _fail(f"Cannot reach the database: {exc.__class__.__name__}: {exc}") from None
    if current != migrations.head_revision():
        raise _fail(
            f"The database is at revision {current or '(empty)'}, not at head "
            f"{migrations.head_revision()}: run `zhizao db upgrade` first."
        )


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
    typer.echo(f"zhizao ({settings.ENV}) on http://{host}:{port}  database: {_shown_url(settings)}")
    uvicorn.run(
        "app.main:app",
        host=host,
        port=port,
        reload=reload,
        log_level=settings.LOG_LEVEL.lower(),
    )


# --- db ------------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply migrations up to REVISION (default: head)."""
    settings = load_settings()
    engine = create_db_engine(settings.DATABASE_URL)
    try:
        with engine.connect() as connection:
            before = migrations.current_revision(connection)
        migrations.upgrade(engine, revision)
        with engine.connect() as connection:
            after = migrations.current_revision(connection)
    except SQLAlchemyError as exc:
        raise _fail(f"Migration failed on {_shown_url(settings)}: {exc}") from None
    finally:
        engine.dispose()
    if before == after:
        typer.echo(f"{_shown_url(settings)}: already at {after}.")
    else:
        typer.echo(f"{_shown_url(settings)}: upgraded {before or '(empty)'} -> {after}.")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Revert migrations down to REVISION. Dropping tables loses their data."""
    settings = load_settings()
    if not yes:
        typer.confirm(
            f"Downgrade {_shown_url(settings)} to {revision}? Data in dropped tables is lost",
            abort=True,
        )
    engine = create_db_engine(settings.DATABASE_URL)
    try:
        migrations.downgrade(engine, revision)
        with engine.connect() as connection:
            after = migrations.current_revision(connection)
    except SQLAlchemyError as exc:
        raise _fail(f"Downgrade failed on {_shown_url(settings)}: {exc}") from None
    finally:
        engine.dispose()
    typer.echo(f"{_shown_url(settings)}: now at {after or '(empty)'}.")


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the migrations' head; exit 1 unless they agree."""
    settings = load_settings()
    engine = create_db_engine(settings.DATABASE_URL)
    try:
        with engine.connect() as connection:
            current = migrations.current_revision(connection)
    except SQLAlchemyError as exc:
        raise _fail(f"Cannot reach {_shown_url(settings)}: {exc}") from None
    finally:
        engine.dispose()
    head = migrations.head_revision()
    state = "at head" if current == head else "NOT at head: run `zhizao db upgrade`"
    typer.echo(f"{_shown_url(settings)}: revision {current or '(empty)'}, head {head} ({state})")
    if current != head:
        raise typer.Exit(1)


# --- accounts ------------------------------------------------------------------------------------


class Role(StrEnum):
    enterprise = "enterprise"
    official = "official"
    admin = "admin"


@cli.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(help="Login e-mail address.")],
    role: Annotated[Role, typer.Option(help="What the user may see (design §7).")],
    enterprise_id: Annotated[
        str | None,
        typer.Option(help="Role enterprise: the enterprise's id or its credit code."),
    ] = None,
    district_code: Annotated[
        str | None,
        typer.Option(help="Role official: the district (e.g. 310115); omit for city-wide."),
    ] = None,
    display_name: Annotated[str, typer.Option(help="Name shown in the interface.")] = "",
) -> None:
    """Create a user; the password is asked for (hidden, twice)."""
    from app.accounts import service as accounts_service
    from app.accounts.schemas import MIN_PASSWORD_LENGTH, UserCreate
    from app.enterprises.classification import normalize_credit_code
    from app.enterprises.repository import EnterpriseRepository
    from app.kit.errors import AppError
    from app.kit.principal import CLI
    from app.kit.reference import DISTRICTS

    if role is Role.enterprise and enterprise_id is None:
        raise _fail("--enterprise-id is required for role enterprise.", 2)
    if role is not Role.enterprise and enterprise_id is not None:
        raise _fail("--enterprise-id applies to role enterprise only.", 2)
    if role is not Role.official and district_code is not None:
        raise _fail("--district-code applies to role official only.", 2)
    if district_code is not None and district_code not in DISTRICTS:
        raise _fail(f"--district-code {district_code} is not one of Shanghai's 16 districts.", 2)

    settings = load_settings()
    password = typer.prompt(
        f"Password (at least {MIN_PASSWORD_LENGTH} characters)",
        hide_input=True,
        confirmation_prompt=True,
    )
    try:
        checked = UserCreate(email=email, password=password, display_name=display_name)
    except ValidationError as exc:
        lines = [f"  {e['loc'][-1]}: {e['msg']}" for e in exc.errors()]
        raise _fail("Not created:\n" + "\n".join(lines), 2) from None

    with _database(settings) as database, database.sessions() as session:
        _require_head(database)
        enterprise_uuid: uuid.UUID | None = None
        if enterprise_id is not None:
            repository = EnterpriseRepository(session)
            try:
                enterprise = repository.get(uuid.UUID(enterprise_id))
            except ValueError:
                enterprise = repository.get_by_credit_code(normalize_credit_code(enterprise_id))
            if enterprise is None:
                raise _fail(f"No enterprise with id or credit code {enterprise_id}.", 2)
            enterprise_uuid = enterprise.id
        try:
            user = accounts_service.create_user(
                session,
                CLI,
                email=checked.email,
                password=checked.password,
                role=role.value,
                enterprise_id=enterprise_uuid,
                district_code=district_code,
                display_name=checked.display_name,
            )
        except AppError as exc:
            raise _fail(f"Not created: {exc.detail}") from None
        session.commit()
        typer.echo(f"Created {user.role} user {user.email} (id {user.id}).")


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
    from app.accounts import service as accounts_service
    from app.kit.principal import CLI

    settings = load_settings()
    with _database(settings) as database, database.sessions() as session:
        _require_head(database)
        try:
            issued = accounts_service.create_api_client(
                session, CLI, settings, name=name, scopes=scope, contact_email=contact_email
            )
        except ValueError as exc:
            raise _fail(f"Not created: {exc}", 2) from None
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


# --- demo ----------------------------------------------------------------------------------------


@cli.command("seed-demo")
def seed_demo(
    enterprises: Annotated[
        int,
        typer.Option(min=0, help="Also bulk-load synthetic firms (labelled synthetic) up to N."),
    ] = 0,
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic firms.")] = 1,
) -> None:
    """Create the demo accounts and firm (development only; safe to run again)."""
    from app.demo import service as demo
    from app.kit.principal import CLI

    settings = load_settings()
    if not settings.is_development:
        raise _fail(
            f"seed-demo runs in development only (ZHIZAO_ENV is {settings.ENV}); "
            "it creates accounts with published passwords."
        )
    with _database(settings) as database, database.sessions() as session:
        _require_head(database)
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
        from app.demo.synthetic_cli import seed_synthetic_firms

        seed_synthetic_firms(settings, enterprises=enterprises, seed=seed)


# --- doctor --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def check_harfbuzz_subset() -> Check:
    found = ctypes.util.find_library("harfbuzz-subset")
    if found:
        return Check("libharfbuzz-subset0", True, found)
    return Check(
        "libharfbuzz-subset0",
        False,
        "not found: PDF reports render several times slower",
        "apt-get install libharfbuzz-subset0",
    )


def check_cjk_font() -> Check:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return Check(
            "CJK font",
            False,
            "fontconfig (fc-list) not found",
            "apt-get install fontconfig fonts-noto-cjk",
        )
    listed = subprocess.run(
        [fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=False, timeout=30
    ).stdout.strip()
    if listed:
        families = sorted({line.split(",")[0] for line in listed.splitlines()})
        if "Noto Sans CJK SC" in families:  # the family the PDF report names first
            return Check("CJK font", True, "Noto Sans CJK SC (used by the PDF reports)")
        return Check(
            "CJK font",
            True,
            f"{', '.join(families[:3])}; Noto Sans CJK SC missing: reports may show "
            "Japanese glyph forms",
            "apt-get install fonts-noto-cjk",
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
            f"{_shown_url(settings)} unreachable: {exc.__class__.__name__}",
            "check ZHIZAO_DATABASE_URL",
        )
    finally:
        engine.dispose()
    head = migrations.head_revision()
    if current == head:
        return Check("database", True, f"{_shown_url(settings)} at head {head}")
    return Check(
        "database",
        False,
        f"{_shown_url(settings)} at {current or '(empty)'}, head {head}",
        "zhizao db upgrade",
    )


@cli.command()
def doctor() -> None:
    """Check what the service needs from this machine; exit 1 if anything is missing."""
    settings = load_settings()
    checks = [check_harfbuzz_subset(), check_cjk_font(), check_database(settings)]
    for check in checks:
        mark = (
            typer.style("ok  ", fg=typer.colors.GREEN)
            if check.ok
            else typer.style("FAIL", fg=typer.colors.RED)
        )
        typer.echo(f"{mark} {check.name}: {check.detail}")
        if not check.ok and check.fix:
            typer.echo(f"     fix: {check.fix}")
    if not all(check.ok for check in checks):
        raise typer.Exit(1)


# --- other packages' commands --------------------------------------------------------------------

cli.add_typer(questionnaire_app, name="questionnaire")
cli.add_typer(subsidies_app, name="subsidies")
cli.add_typer(aggregates_app, name="aggregates")
cli.add_typer(privacy_app, name="privacy")
cli.command("verify-enterprise")(verify_enterprise_command)
cli.command("score")(score_command)
cli.add_typer(api_keys_app, name="api-keys")
cli.command("worker")(worker_command)


if __name__ == "__main__":
    main()
