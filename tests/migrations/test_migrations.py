"""The four standard migration checks (pytest-alembic's), on SQLite and on PostgreSQL.

pytest-alembic's own collector does not run under pytest 9 (it is disabled in addopts), so the
checks are written here against Alembic's API: a single head; upgrade from an empty database one
revision at a time to head; the models match the migrated schema (autogenerate finds no
difference); every downgrade runs, down to an empty database and back up again. Each test gets a
fresh, empty database.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Engine, inspect

from app.kit.migrations import alembic_config, current_revision, downgrade, upgrade
from app.models import Base


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def _revisions_base_to_head() -> list[Script]:
    return list(reversed(list(_script().walk_revisions("base", "heads"))))


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return current_revision(connection)


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_single_head_revision() -> None:
    """Engine-independent: the history has one head, so `upgrade head` is unambiguous."""
    heads = _script().get_heads()
    assert len(heads) == 1, f"several heads, merge them: {heads}"


def test_upgrade_base_to_head_one_revision_at_a_time(empty_engine: Engine) -> None:
    revisions = _revisions_base_to_head()
    assert revisions, "no migrations"
    for script in revisions:
        upgrade(empty_engine, script.revision)
        assert _revision(empty_engine) == script.revision
    assert _revision(empty_engine) == _script().get_current_head()
    assert _tables(empty_engine) == set(Base.metadata.tables)


def test_model_definitions_match_ddl(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "target_metadata": Base.metadata},
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], (
        "the models and the migrations disagree; write a migration "
        f"(alembic revision --autogenerate): {differences}"
    )


def test_up_down_consistency(empty_engine: Engine) -> None:
    """Every downgrade runs, leaves no table behind at base, and head is reachable again."""
    upgrade(empty_engine)
    for script in reversed(_revisions_base_to_head()):
        down_to = script.down_revision
        assert down_to is None or isinstance(down_to, str), "merge revisions are not expected"
        downgrade(empty_engine, down_to or "base")
        assert _revision(empty_engine) == down_to
    assert _tables(empty_engine) == set(), "downgrade to base left tables behind"
    upgrade(empty_engine)
    assert _revision(empty_engine) == _script().get_current_head()
