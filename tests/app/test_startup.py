"""What start-up leaves behind: the catalogues loaded, and what it made set aside from the
cyclic garbage collector (outside tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parents[2]

# Run in a process of its own: freezing objects in the test process would keep them for good.
_START_AND_REPORT = """
import gc, sys
from fastapi.testclient import TestClient
from app.kit.settings import Environment, Settings
from app.main import create_app

settings = Settings(
    ENV=Environment(sys.argv[1]), DATABASE_URL=sys.argv[2], SECRET_KEY="s" * 43,
    WEBHOOK_WORKER="off",
)
app = create_app(settings)
with TestClient(app):
    catalogue = app.state.questionnaires
    collected = any(o is catalogue for generation in range(3) for o in gc.get_objects(generation))
    print(gc.get_freeze_count(), collected)
"""


def _start(environment: str, database_url: str) -> tuple[int, bool]:
    done = subprocess.run(
        [sys.executable, "-c", _START_AND_REPORT, environment, database_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    frozen, collected = done.stdout.split()
    return int(frozen), collected == "True"


def test_start_up_objects_are_out_of_the_collectors_passes(
    engine: Engine, database_url: str
) -> None:
    frozen, catalogue_collected = _start("development", database_url)
    # The whole app: modules, catalogues, templates (~280,000 objects), not a handful.
    assert frozen > 100_000
    assert not catalogue_collected


def test_tests_keep_the_collector_as_it_is(engine: Engine, database_url: str) -> None:
    frozen, catalogue_collected = _start("testing", database_url)
    assert frozen == 0
    assert catalogue_collected
