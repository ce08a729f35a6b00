"""Running Alembic from the service (CLI, readiness, tests) without a shell."""

from __future__ import annotations

from functools import lru_cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from app.kit.settings import PROJECT_ROOT, Settings, get_settings


def alembic_config() -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return config


@lru_cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head", settings: Settings | None = None) -> None:
    """Migrate up; ``settings`` are those a data migration needs (SECRET_KEY to encrypt with),
    the process's own when None."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["settings"] = settings
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str, settings: Settings | None = None) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["settings"] = settings
        command.downgrade(config, revision)


def migration_settings(config: Config) -> Settings:
    """The settings a migration runs with (``upgrade``'s, or the process's)."""
    settings = config.attributes.get("settings")
    return settings if isinstance(settings, Settings) else get_settings()
