"""Language choice: zh-CN is the default; English on request."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query, Request

Lang = Literal["zh", "en"]
#: Every language the service speaks, the default first.
LANGS: tuple[Lang, ...] = ("zh", "en")
LANG_COOKIE = "zhizao_lang"


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


def lang_dependency(
    request: Request,
    lang: Annotated[
        Literal["zh", "en"] | None,
        Query(description="Response language; default from Accept-Language, else zh."),
    ] = None,
) -> Lang:
    return negotiate_lang(request, lang)


LangDep = Annotated[Lang, Depends(lang_dependency)]
