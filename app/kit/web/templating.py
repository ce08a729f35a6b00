"""The one Jinja2 environment: pages, partials and the PDF report render from it.

``environment()`` (no language) keeps gettext as the identity, as the PDF report expects (its
texts come translated in its view-model); ``environment("zh")`` / ``environment("en")`` install
the catalogs of ``app.kit.i18n`` (UI strings only: the questionnaire's own texts are data, in
both languages). One environment
per language, built once: installing translations per request on a shared environment would
race between threads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.templating import Jinja2Templates

from app.kit.clock import SHANGHAI
from app.kit.dates import format_day
from app.kit.i18n import BABEL_LOCALES, html_lang, translations
from app.kit.settings import PROJECT_ROOT
from app.kit.web.flash import clear_flash
from app.kit.web.htmx import is_htmx
from scoring.ladder import rung_label

TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "app" / "static"


def _score(value: object) -> str:
    """A score as shown everywhere: two decimals (the engine already rounded half-up)."""
    if value is None:
        return "—"
    return f"{Decimal(str(value)):.2f}"


def _rung(value: object, lang: str) -> str:
    """A rung as the result page names it, number and name (``scoring.ladder.rung_label``:
    ``3.50集成级`` / ``3.50 Integrated``); ``—`` for none."""
    if value is None:
        return "—"
    return rung_label(Decimal(str(value)), lang)


@lru_cache
def _static_versions() -> dict[str, str]:
    return {}


def static_url(path: str) -> str:
    """``/static/<path>?v=<mtime>``: cache-busting without a build step."""
    versions = _static_versions()
    if path not in versions:
        try:
            versions[path] = str(int((STATIC_DIR / path).stat().st_mtime))
        except OSError:
            versions[path] = "0"
    return f"/static/{path}?v={versions[path]}"


@lru_cache
def environment(lang: str | None = None) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    if lang is None:
        env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
        return env
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    locale = BABEL_LOCALES.get(lang, "zh_CN")
    env.globals.update(
        lang=lang,
        html_lang=html_lang(lang),
        static_url=static_url,
    )
    env.filters.update(
        score=_score,
        rung=lambda value: _rung(value, lang),
        percent=lambda value: format_percent(value or 0, locale=locale),
        number=lambda value: format_decimal(value, locale=locale),
        date=lambda value: "" if value is None else format_day(value, lang),
        datetime=lambda value: "" if value is None else _datetime(value, locale),
        local_datetime=lambda value: "" if value is None else _datetime(_shanghai(value), locale),
        t=lambda text: "" if text is None else text.get(lang),
    )
    return env


def _datetime(value: datetime, locale: str) -> str:
    """A moment as it is stored (UTC: the admin pages say so); ``local_datetime`` shows it on
    Shanghai's clock, as a firm reads the dates beside it (``date``)."""
    return f"{format_date(value, 'medium', locale=locale)} {value:%H:%M}"


def _shanghai(value: datetime) -> datetime:
    """``value`` on Shanghai's clock (a naive one is taken as UTC, as ``calendar_day`` does)."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(SHANGHAI)


@lru_cache
def templates() -> Jinja2Templates:
    return Jinja2Templates(env=environment())


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    lang: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page or partial in ``lang`` with the request in its context."""
    html = environment(lang).get_template(name).render({"request": request, **context})
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["Content-Language"] = html_lang(lang)
    response.headers.setdefault("Cache-Control", "no-store")
    # Full pages and htmx partials differ for the same URL.
    response.headers["Vary"] = "HX-Request, Cookie, Accept-Language"
    if context.get("flash") and not is_htmx(request):
        clear_flash(request, response)
    return response
