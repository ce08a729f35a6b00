"""Each migration test gets a new, empty database of each engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.kit.db import create_db_engine
from tests.databases import (
    ENGINES,
    create_postgres_database,
    drop_postgres_database,
    require_engine,
)


@pytest.fixture(params=ENGINES)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A new, empty database of each engine, for this test alone."""
    if request.param == "sqlite":
        engine = create_db_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
        yield engine
        engine.dispose()
        return
    require_engine(request.param)
    name, url = create_postgres_database()
    engine = create_db_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_postgres_database(name)
