"""What start-up leaves behind: the catalogues loaded, what it made set aside from the cyclic
garbage collector (outside tests), and a warning for each production setting that fits one
process only."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.kit.settings import Environment, Settings
from app.startup import warn_of_production_settings

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


# --- production settings that fit one process only -----------------------------------------------

_START_IN_PRODUCTION = """
import logging, sys
from fastapi.testclient import TestClient
from app.kit.settings import Environment, Settings
from app.main import create_app

logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(levelname)s %(message)s")
settings = Settings(
    ENV=Environment.production, DATABASE_URL=sys.argv[1], SECRET_KEY="s" * 43,
    WEBHOOK_WORKER="off", RATE_LIMIT_STORAGE_URI=sys.argv[2], SMTP_HOST="smtp.example.com",
)
with TestClient(create_app(settings)):
    pass
"""


def _warnings(caplog: pytest.LogCaptureFixture, **values: object) -> list[str]:
    """What ``warn_of_production_settings`` says of the test settings with ``values``."""
    settings = Settings(
        SECRET_KEY="s" * 43, SMTP_HOST="smtp.example.com", API_RATE_LIMIT="600/minute"
    ).model_copy(update=values)
    logger = logging.getLogger("zhizao.test-startup")
    with caplog.at_level(logging.WARNING, logger=logger.name):
        warn_of_production_settings(settings, logger)
    return [r.getMessage() for r in caplog.records if r.name == logger.name]


class TestProductionWarnings:
    def test_in_process_rate_limit_counters_in_production_are_warned_of(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Several app processes each counting in memory allow N times the limits, the failed-key
        budget too (it did not say so): a production start said nothing of it."""
        [warning] = _warnings(
            caplog,
            ENV=Environment.production,
            RATE_LIMIT_STORAGE_URI="memory://",
            API_KEY_FAILURE_LIMIT="30/minute",
        )
        assert "ZHIZAO_RATE_LIMIT_STORAGE_URI is memory:// in production" in warning
        assert "N times ZHIZAO_API_RATE_LIMIT (600/minute) per key" in warning
        assert "N times ZHIZAO_API_KEY_FAILURE_LIMIT (30/minute) per client address" in warning
        assert "redis://" in warning

    @pytest.mark.parametrize(
        "values",
        [
            {"ENV": Environment.production, "RATE_LIMIT_STORAGE_URI": "redis://redis:6379/0"},
            {"ENV": Environment.development, "RATE_LIMIT_STORAGE_URI": "memory://"},
            {"ENV": Environment.testing, "RATE_LIMIT_STORAGE_URI": "memory://", "SMTP_HOST": ""},
        ],
    )
    def test_shared_counters_or_another_environment_are_not(
        self, caplog: pytest.LogCaptureFixture, values: dict[str, object]
    ) -> None:
        assert _warnings(caplog, **values) == []

    def test_no_smtp_server_in_production_is_warned_of(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """The setting's comment promised it; nothing warned."""
        [warning] = _warnings(
            caplog,
            ENV=Environment.production,
            RATE_LIMIT_STORAGE_URI="redis://redis:6379/0",
            SMTP_HOST="",
        )
        assert warning.startswith("ZHIZAO_SMTP_HOST is empty in production")

    def test_a_production_start_logs_the_warning(self, engine: Engine, database_url: str) -> None:
        done = subprocess.run(
            [sys.executable, "-c", _START_IN_PRODUCTION, database_url, "memory://"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert "WARNING ZHIZAO_RATE_LIMIT_STORAGE_URI is memory:// in production" in done.stdout


@pytest.mark.parametrize("setting", ["API_RATE_LIMIT", "API_KEY_FAILURE_LIMIT"])
def test_a_rate_limit_that_does_not_parse_is_refused_at_start(setting: str) -> None:
    """It was accepted, and then every request carrying an API key failed with a 500."""
    with pytest.raises(
        ValueError, match=f"{setting}[\\s\\S]*not a rate limit in `limits` notation"
    ):
        Settings(**{setting: "600 a minute"})
    assert getattr(Settings(**{setting: "20/second;600/minute"}), setting) == "20/second;600/minute"
