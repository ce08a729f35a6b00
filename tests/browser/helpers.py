"""What the browser tests share: the data a module's server starts with, its API signed in,
browser contexts in either language, signing in and filling forms through the page, waiting for
htmx to settle, and checks on a page's layout. (The ``new_page`` fixture is in conftest.py.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session

from app.accounts import claims
from app.accounts.schemas import ClaimCreate
from app.kit.db import create_db_engine, create_session_factory
from app.kit.principal import ANONYMOUS
from app.kit.settings import Environment, Settings
from app.models import Enterprise
from tests.factories import PASSWORD, login
from tests.live import Live, live_server

#: A browser's language: its locale and the Accept-Language it sends.
LANGUAGES = {"zh": ("zh-CN", "zh-CN,zh;q=0.9"), "en": ("en-GB", "en")}


@contextmanager
def database(url: str) -> Iterator[Session]:
    """A session on the database at ``url`` (a live server's, as ``prepare`` gets it), its
    engine disposed of afterwards."""
    engine = create_db_engine(url)
    try:
        with create_session_factory(engine)() as db:
            yield db
    finally:
        engine.dispose()


def server_settings(url: str) -> Settings:
    """Settings to prepare the database at ``url`` with (services that take settings)."""
    return Settings(ENV=Environment.testing, DATABASE_URL=url, SECRET_KEY="x" * 40)


def file_claim(db: Session, settings: Settings, firm: Enterprise, email: str) -> None:
    """刘会计 of the finance department, from ``email``, asks to join ``firm`` (committed)."""
    claims.file_claim(
        db,
        ANONYMOUS,
        settings,
        ClaimCreate(
            credit_code=firm.credit_code, email=email, display_name="刘会计", message="财务部主管"
        ),
        "127.0.0.1",
    )
    db.commit()


@contextmanager
def serve(
    directory: Path, prepare: Callable[[str], dict[str, Any]], **settings: str
) -> Iterator[tuple[Live, dict[str, Any]]]:
    """The app served from ``directory`` (``tests.live.live_server``, with ``settings``) once
    ``prepare`` has added its data to the database at the URL it gets: the server, and what
    ``prepare`` returned (objects it hands on are expunged from its session)."""
    prepared: dict[str, Any] = {}
    with live_server(
        directory, prepare=lambda url: prepared.update(prepare(url)), **settings
    ) as live:
        yield live, prepared


@contextmanager
def api_client(url: str, email: str) -> Iterator[httpx.Client]:
    """The live server at ``url``, signed in as ``email`` (the CSRF token sent with each
    request)."""
    with httpx.Client(base_url=url) as http:
        login(http, email)
        yield http


def new_context(browser: Any, lang: str = "zh", **options: Any) -> Any:
    """A browser context in ``lang`` ("zh" or "en"), 1280×900 unless ``options`` (Playwright's
    ``new_context`` arguments) say otherwise."""
    locale, accept = LANGUAGES[lang]
    defaults = {
        "locale": locale,
        "extra_http_headers": {"Accept-Language": accept},
        "viewport": {"width": 1280, "height": 900},
    }
    return browser.new_context(**(defaults | options))


def fill_form(page: Any, submit: str | None = None, /, **fields: str) -> None:
    """Type (or choose) each of ``fields`` in its field, ``#f-<name>`` as the form macros name
    them; with ``submit``, press the button so named."""
    for name, value in fields.items():
        field = page.locator(f"#f-{name}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    if submit is not None:
        page.get_by_role("button", name=submit).click()


def sign_in(page: Any, email: str, password: str = PASSWORD, *, at: str | None = None) -> None:
    """Sign in on the sign-in form the page shows, or, with ``at``, the one that address
    opens (``/login``, or a page that asks a visitor to sign in first)."""
    if at is not None:
        page.goto(at)
    fill_form(page, "登录", email=email, password=password)
    page.wait_for_load_state()


#: True once htmx has no request in flight and no swap under way on the page.
SETTLED = "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')"


def settle(page: Any) -> None:
    """Wait until htmx is done with the page's requests (an autosave, a what-if) and swaps."""
    page.wait_for_function(SETTLED)


def no_horizontal_scroll(page: Any) -> bool:
    return bool(
        page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    )
