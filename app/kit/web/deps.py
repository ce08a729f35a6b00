"""Dependencies shared by the page routers: language, the signed-in enterprise user, form data
and the context every template gets."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.kit.db import SessionDep
from app.kit.errors import NotFound, Unauthorized
from app.kit.guards import CurrentPrincipal
from app.kit.i18n import Lang, negotiate_lang
from app.kit.principal import Principal
from app.kit.settings import Settings, settings_of
from app.kit.web.csrf import check_same_origin
from app.kit.web.flash import pending_flash


def page_lang(request: Request) -> Lang:
    """Cookie, then ``Accept-Language``, else Chinese (``?lang=`` wins for one page)."""
    return negotiate_lang(request, request.query_params.get("lang"))


PageLang = Annotated[Lang, Depends(page_lang)]


class LoginRequired(Unauthorized):
    """A page that needs a signed-in user; the HTML error handler sends the browser to sign in."""

    problem = "login-required"


def require_page_sign_in(principal: CurrentPrincipal) -> Principal:
    if principal.kind == "anonymous":
        raise LoginRequired("Sign in to continue.")
    return principal


#: Any signed-in caller; anonymous browsers are sent to sign in (pages' ``SignedIn``).
SignedInPage = Annotated[Principal, Depends(require_page_sign_in)]


def require_enterprise_user(principal: SignedInPage) -> Principal:
    if not principal.is_enterprise_user or principal.enterprise_id is None:
        # Admins and officials have no firm of their own: these pages do not exist for them.
        raise NotFound("These pages are for enterprise accounts.")
    return principal


EnterpriseUser = Annotated[Principal, Depends(require_enterprise_user)]


async def form_data(request: Request) -> FormData:
    """The submitted form (already parsed, and cached, when the CSRF check read it)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(form_data)]


def base_context(request: Request, principal: Principal, lang: Lang) -> dict[str, Any]:
    return {
        "principal": principal,
        "signed_in": principal.kind == "user",
        "csrf_token": principal.csrf_token or "",
        "path": request.url.path,
        "full_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "lang": lang,
        "flash": pending_flash(request, lang),
    }


def form_str(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class FirmAction:
    """A POST by an enterprise user about its own firm (grant or revoke an integrator's access,
    remove a colleague, ...), from this site: ``check_same_origin`` passed."""

    request: Request
    session: Session
    principal: Principal

    @property
    def enterprise_id(self) -> uuid.UUID:
        return self.principal.own_enterprise_id

    @property
    def settings(self) -> Settings:
        return settings_of(self.request)


def firm_action(request: Request, session: SessionDep, principal: EnterpriseUser) -> FirmAction:
    check_same_origin(request)
    return FirmAction(request, session, principal)


FirmActionDep = Annotated[FirmAction, Depends(firm_action)]


@dataclass(frozen=True, slots=True)
class FirmForm(FirmAction):
    """A form an enterprise user posts about its own firm (profile, facts, colleagues, deleting
    the data): a ``FirmAction`` with the page's language and the form."""

    lang: Lang
    form: FormData

    def field(self, name: str) -> str:
        return form_str(self.form, name)


def firm_form(
    request: Request,
    session: SessionDep,
    principal: EnterpriseUser,
    lang: PageLang,
    form: FormDep,
) -> FirmForm:
    check_same_origin(request)
    return FirmForm(request, session, principal, lang, form)


FirmPost = Annotated[FirmForm, Depends(firm_form)]
