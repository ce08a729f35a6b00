"""Languages: which one a response speaks (zh-CN by default, English on request) and the one
translation mechanism for every UI string, in pages, the PDF report and API texts.

UI strings are written in English in the code and templates and translated with the Babel
catalogs in ``app/kit/locale`` (``make messages`` extracts and compiles them)::

    tr(lang, "At least %(n)s characters.", n=10)  # in Python code
    {{ _("Sign in") }}                            # in templates
    TITLE = N_("Verify enterprises")              # marked here, translated later: tr(lang, TITLE)
    trc(lang, "report", "Rung")                   # the same English, said per context
    LABEL = NC_("report", "Rung")                 # marked with its context: trc(lang, *LABEL)

Texts that are data (questionnaires, subsidy programmes, district names) carry both languages
themselves and are not in the catalogs.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from babel.support import NullTranslations, Translations
from fastapi import Depends, Query, Request

Lang = Literal["zh", "en"]
#: Every language the service speaks, the default first.
LANGS: tuple[Lang, ...] = ("zh", "en")
LANG_COOKIE = "zhizao_lang"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: Babel locale per service language (catalog directory names).
BABEL_LOCALES = {"zh": "zh_CN", "en": "en"}
#: BCP 47 tag per service language (``<html lang>``, ``Content-Language``, SVG ``lang``).
HTML_LANG = {"zh": "zh-CN", "en": "en"}
#: A message with its context, as ``NC_`` marks it.
Message = tuple[str, str]


def html_lang(lang: str) -> str:
    """The BCP 47 tag of a service language: ``zh-CN`` or ``en``."""
    return HTML_LANG.get(lang, "zh-CN")


@lru_cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of ``lang`` (``zh`` or ``en``)."""
    return Translations.load(LOCALE_DIR, [BABEL_LOCALES.get(lang, "zh_CN")], domain="messages")


def N_(message: str) -> str:
    """Mark a UI string for extraction where it is translated later (``tr``)."""
    return message


def NC_(context: str, message: str) -> Message:
    """Mark a UI string with its context for extraction; translate it later with ``trc``."""
    return context, message


def translated(table: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """A (nested) table of ``NC_`` messages with each message translated: page texts by key."""
    return {
        key: trc(lang, *value) if isinstance(value, tuple) else translated(value, lang)
        for key, value in table.items()
    }


def tr(lang: str, message: str, **values: object) -> str:
    """A UI string from Python code in ``lang`` (msgids are English; extracted as ``tr:2``);
    ``values`` fill its ``%(name)s`` placeholders."""
    text = translations(lang).gettext(message)
    return text % values if values else text


def trc(lang: str, context: str, message: str, **values: object) -> str:
    """Like ``tr``, for a message whose translation depends on ``context`` (``pgettext``)."""
    text = str(translations(lang).pgettext(context, message))
    return text % values if values else text


def negotiate_lang(request: Request, explicit: str | None = None) -> Lang:
    """The language of a response: an explicit ``?lang=``, then the language cookie, then the
    first zh or en tag of ``Accept-Language`` (by q-value), else Chinese."""
    for choice in (explicit, request.cookies.get(LANG_COOKIE)):
        if choice:
            return "en" if choice.lower().startswith("en") else "zh"
    header = request.headers.get("accept-language", "")
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, index, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return "zh"
    return "zh"


async def lang_dependency(  # async: no I/O, so no trip through the thread pool
    request: Request,
    lang: Annotated[
        Literal["zh", "en"] | None,
        Query(description="Response language; default from Accept-Language, else zh."),
    ] = None,
) -> Lang:
    return negotiate_lang(request, lang)


LangDep = Annotated[Lang, Depends(lang_dependency)]
