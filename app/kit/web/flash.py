"""Flash confirmations: "Saved.", "Invitation sent.", shown once on the page a form redirects to.

A form handler answers with :func:`flash_redirect` (303, or ``HX-Redirect`` for htmx) naming a
registered message; the next page rendered for that browser shows it once (``base_context``
reads it, ``render`` clears the cookie). The cookie carries only the message's key, never text,
so nothing a third party puts in a link can show up as a confirmation. Domains register their
messages with :func:`flash_message` (marked for translation with ``N_``)::

    INVITED = flash_message("member.invited", N_("Invitation sent."))
    return flash_redirect(request, "/settings/members", INVITED)
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from app.kit.i18n import tr
from app.kit.web.htmx import redirect

FLASH_COOKIE = "zhizao_flash"
_MESSAGES: dict[str, str] = {}


def flash_message(key: str, message: str) -> str:
    """Register ``message`` (English msgid, marked with ``N_``) under ``key``; returns the key."""
    _MESSAGES[key] = message
    return key


def flash_redirect(request: Request, url: str, key: str) -> Response:
    if key not in _MESSAGES:
        raise KeyError(f"unregistered flash message {key!r}")
    response = redirect(request, url)
    response.set_cookie(
        FLASH_COOKIE,
        key,
        max_age=120,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


def pending_flash(request: Request, lang: str) -> str | None:
    """The confirmation to show on this page, translated, if the browser carries one."""
    message = _MESSAGES.get(request.cookies.get(FLASH_COOKIE, ""))
    return tr(lang, message) if message is not None else None


def clear_flash(request: Request, response: Response) -> None:
    """Shown once: a rendered page drops the cookie it displayed."""
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/")
