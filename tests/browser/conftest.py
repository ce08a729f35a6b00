"""Browser tests: Playwright (Python) driving Debian's chromium against a live uvicorn server.

The server runs on a free loopback port with a fresh SQLite database migrated by Alembic. No
browser is downloaded (``playwright install`` cannot reach its CDN here): Debian's ``chromium``
is launched by path. Without it these tests skip — except under ``CI=true``, where a missing
chromium fails the run (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.kit.db import create_db_engine
from app.kit.migrations import upgrade
from app.kit.settings import PROJECT_ROOT

CHROMIUM = os.environ.get("ZHIZAO_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require_browser() -> None:
    problem = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = "the playwright package is not installed (pip install -e '.[dev]')"
    if problem is None and not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        problem = f"chromium not found at {CHROMIUM} (apt-get install chromium)"
    if problem is not None:
        if IN_CI:
            pytest.fail(f"browser tests need a browser under CI=true: {problem}")
        pytest.skip(problem)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require_browser()
    database = tmp_path_factory.mktemp("browser-db") / "zhizao.db"
    url = f"sqlite:///{database}"
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "ZHIZAO_ENV": "testing",
        "ZHIZAO_DATABASE_URL": url,
        "ZHIZAO_SECRET_KEY": secrets.token_urlsafe(32),
        "ZHIZAO_LOG_LEVEL": "WARNING",
    }
    log = (tmp_path_factory.mktemp("browser-log") / "uvicorn.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if server.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {server.returncode}; see {log.name}")
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("uvicorn did not start within 30 s")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(live_server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def screenshots_dir(tmp_path: Path) -> Path:
    """docs/screenshots with ZHIZAO_SCREENSHOTS=1 (refreshes the committed ones), else tmp."""
    if os.environ.get("ZHIZAO_SCREENSHOTS") == "1":
        target = PROJECT_ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path
