"""Pages of the accounts domain with a form anyone may send (before sign-in)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from app.accounts.schemas import MIN_PASSWORD_LENGTH
from app.kit.errors import TooManyRequests
from app.kit.i18n import Lang, tr
from app.kit.principal import Principal
from app.kit.web.csrf import attach_pre_session_cookie, pre_session_token
from app.kit.web.deps import base_context
from app.kit.web.templating import render


def anonymous_page(
    request: Request,
    principal: Principal,
    lang: Lang,
    template: str,
    status_code: int = 200,
    **values: object,
) -> Response:
    """A page with a form anyone may send (the pre-session CSRF token and its cookie)."""
    context = base_context(request, principal, lang) | {
        "form_token": pre_session_token(request),
        "min_password": MIN_PASSWORD_LENGTH,
        **values,
    }
    response = render(request, template, context, lang=lang, status_code=status_code)
    attach_pre_session_cookie(request, response)
    return response


def too_many(lang: Lang, exc: TooManyRequests) -> str:
    """What a throttled form says (``app.accounts.throttle``)."""
    return tr(lang, "Too many attempts; try again in %(n)s seconds.", n=exc.headers["Retry-After"])
