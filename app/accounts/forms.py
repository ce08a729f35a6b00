"""Pages of the accounts domain with a form anyone may send (before sign-in)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.accounts.schemas import MIN_PASSWORD_LENGTH
from app.kit.db import SessionDep
from app.kit.errors import TooManyRequests
from app.kit.guards import CurrentPrincipal
from app.kit.i18n import Lang, tr
from app.kit.principal import Principal
from app.kit.settings import Settings, SettingsDep
from app.kit.web.csrf import attach_pre_session_cookie, check_form, pre_session_token
from app.kit.web.deps import FormDep, PageLang, base_context
from app.kit.web.htmx import redirect
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


@dataclass(frozen=True, slots=True)
class AnonymousForm:
    """A posted form anyone may send (register, sign in, forgot or reset a password, accept an
    invitation, ask to join a firm), its CSRF token already checked (``check_form``)."""

    request: Request
    session: Session
    settings: Settings
    principal: Principal
    lang: Lang
    form: FormData

    def page(self, template: str, status_code: int = 200, **values: object) -> Response:
        """The form's page again (``anonymous_page``)."""
        return anonymous_page(
            self.request, self.principal, self.lang, template, status_code, **values
        )

    def done(self, path: str) -> Response:
        """Post/Redirect/Get: 303 to ``path``, the page saying the form was taken, so that a
        reload there sends nothing again (no second e-mail). ``path`` carries nothing of what
        was posted; an explicit ``?lang=`` of the post is kept."""
        explicit = self.request.query_params.get("lang")
        return redirect(self.request, path + (f"?lang={self.lang}" if explicit else ""))


def anonymous_form(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    lang: PageLang,
    form: FormDep,
) -> AnonymousForm:
    check_form(request, principal, form)
    return AnonymousForm(request, session, settings, principal, lang, form)


AnonymousPost = Annotated[AnonymousForm, Depends(anonymous_form)]
