"""Browser tests: Playwright (Python) driving Debian's chromium against a live uvicorn server.

The server runs on a free loopback port with a fresh SQLite database migrated by Alembic
(``tests/live.py``). No
browser is downloaded (``playwright install`` cannot reach its CDN here): Debian's ``chromium``
is launched by path. Without it these tests skip — except under ``CI=true``, where a missing
chromium fails the run (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.kit.settings import PROJECT_ROOT
from tests.browser.helpers import new_context
from tests.factories import PASSWORD
from tests.live import live_server as live_server_process

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


@pytest.fixture(scope="module")
def chromium_available() -> None:
    """Skips (fails under CI=true) without a browser to drive."""
    _require_browser()


@pytest.fixture(scope="module")
def live_server(
    chromium_available: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The app served for a module's browser tests (a module may define its own)."""
    with live_server_process(tmp_path_factory.mktemp("browser")) as live:
        yield live.url


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
def new_page(browser: Any, live_server: str) -> Iterator[Callable[..., Any]]:
    """Opens pages: ``new_page(email, lang)`` is a page in ``lang`` (zh unless said; a context
    of its own), signed in as ``email`` if given; other arguments go to ``new_context``."""
    contexts: list[Any] = []

    def make(email: str | None = None, lang: str = "zh", **options: Any) -> Any:
        context = new_context(browser, lang, **options)
        contexts.append(context)
        if email is not None:
            signed_in = context.request.post(
                live_server + "/api/v1/session", data={"email": email, "password": PASSWORD}
            )
            assert signed_in.ok, signed_in.text()
        page = context.new_page()
        page.set_default_timeout(20_000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshots_dir(tmp_path: Path) -> Path:
    """docs/screenshots with ZHIZAO_SCREENSHOTS=1 (refreshes the committed ones), else tmp."""
    if os.environ.get("ZHIZAO_SCREENSHOTS") == "1":
        target = PROJECT_ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path
