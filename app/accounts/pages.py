"""Pages: register an enterprise and its first user, sign in, sign out."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from app.accounts import service
from app.accounts.api import set_session_cookie
from app.accounts.forms import AnonymousPost, anonymous_page, too_many
from app.accounts.schemas import Registration
from app.enterprises.schemas import cny_from_wan
from app.kit.db import SessionDep
from app.kit.errors import Conflict, TooManyRequests, Unauthorized
from app.kit.guards import SESSION_COOKIE, CurrentPrincipal, client_address
from app.kit.i18n import N_, Lang, html_lang, tr
from app.kit.reference import DISTRICTS, INDUSTRIES
from app.kit.routing import domain_router
from app.kit.web.csrf import (
    check_same_origin,
)
from app.kit.web.deps import PageLang, form_str
from app.kit.web.flash import flash_message, flash_redirect
from app.kit.web.forms import form_errors
from app.kit.web.htmx import redirect, safe_next

REGISTERED = flash_message(
    "account.registered",
    N_(
        "Registration received. Sign in with the password you chose. If this e-mail address "
        "already had an account, nothing was created and we e-mailed its owner instead."
    ),
)

router = domain_router(include_in_schema=False)

ENTERPRISE_FIELDS = (
    "credit_code",
    "name",
    "district_code",
    "industry_code",
    "employees",
    "annual_revenue_wan",
)

USER_FIELDS = ("email", "password", "display_name")


def _register_page(
    request: Request,
    principal: Any,
    lang: Lang,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
    claim_url: str | None = None,
) -> Response:
    return anonymous_page(
        request,
        principal,
        lang,
        "pages/register.html",
        status_code,
        values=values,
        errors=errors,
        districts=list(DISTRICTS.values()),
        industries=list(INDUSTRIES.values()),
        claim_url=claim_url,
    )


@router.get("/register", response_class=HTMLResponse, name="register")
def register_form(request: Request, principal: CurrentPrincipal, lang: PageLang) -> Response:
    if principal.kind == "user":
        return redirect(request, service.home_path(principal.role))
    return _register_page(request, principal, lang, {}, {})


@router.post("/register", response_class=HTMLResponse)
def register(post: AnonymousPost) -> Response:
    values = {name: form_str(post.form, name) for name in ENTERPRISE_FIELDS + USER_FIELDS}
    enterprise = {name: values[name] for name in ENTERPRISE_FIELDS}
    enterprise["annual_revenue_cny"] = cny_from_wan(enterprise.pop("annual_revenue_wan"))
    payload = {
        "enterprise": enterprise,
        "user": {
            "email": values["email"],
            "password": post.form.get("password")
            if isinstance(post.form.get("password"), str)
            else "",
            "display_name": values["display_name"],
            "locale": html_lang(post.lang),
        },
    }
    values.pop("password")
    errors: dict[str, str] = {}
    try:
        data = Registration.model_validate(payload)
    except ValidationError as exc:
        errors = form_errors(post.lang, exc)
        return _register_page(
            post.request, post.principal, post.lang, values, errors, status_code=422
        )
    try:
        service.register(post.session, post.principal, post.settings, data)
    except Conflict:
        post.session.rollback()
        errors["credit_code"] = tr(
            post.lang, "An enterprise with this credit code is already registered."
        )
        claim_url = "/claim?" + urlencode({"credit_code": data.enterprise.credit_code})
        return _register_page(
            post.request,
            post.principal,
            post.lang,
            values,
            errors,
            status_code=409,
            claim_url=claim_url,
        )
    # The same answer whether or not the address had an account (service.register): sign in.
    target = "/login?" + urlencode({"email": data.user.email, "next": "/dashboard?welcome=1"})
    return flash_redirect(post.request, target, REGISTERED)


def _login_page(
    request: Request,
    principal: Any,
    lang: Lang,
    *,
    email: str = "",
    next_url: str = "",
    error: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """``error``: why signing in failed; ``errors``: a field left blank, by field."""
    return anonymous_page(
        request,
        principal,
        lang,
        "pages/login.html",
        status_code,
        email=email,
        next_url=next_url,
        error=error,
        errors=errors or {},
    )


@router.get("/login", response_class=HTMLResponse, name="login")
def login_form(
    request: Request,
    principal: CurrentPrincipal,
    lang: PageLang,
    next: str | None = None,
    email: str = "",
) -> Response:
    if principal.kind == "user":
        return redirect(request, safe_next(next, service.home_path(principal.role)))
    return _login_page(request, principal, lang, email=email[:254], next_url=safe_next(next, ""))


@router.post("/login", response_class=HTMLResponse)
def login(post: AnonymousPost) -> Response:
    email = form_str(post.form, "email")
    password = post.form.get("password")
    next_url = safe_next(form_str(post.form, "next"), "")
    # A blank field is named as such; it is no attempt at an account (nothing to throttle),
    # and "wrong e-mail address or password" did not say what to do.
    blank = {
        name: tr(post.lang, "Required.")
        for name, value in (("email", email), ("password", password))
        if not isinstance(value, str) or not value
    }
    if blank:
        return _login_page(
            post.request,
            post.principal,
            post.lang,
            email=email,
            next_url=next_url,
            errors=blank,
            status_code=422,
        )
    try:
        outcome = service.login(
            post.session,
            post.settings,
            email.lower(),
            password if isinstance(password, str) else "",
            address=client_address(post.request),
            replaces_token=post.request.cookies.get(SESSION_COOKIE),
            request_id=post.request.state.request_id,
        )
    except (TooManyRequests, Unauthorized) as exc:
        response = _login_page(
            post.request,
            post.principal,
            post.lang,
            email=email,
            next_url=next_url,
            error=too_many(post.lang, exc)
            if isinstance(exc, TooManyRequests)
            else tr(post.lang, "Wrong e-mail address or password."),
            status_code=exc.status_code,
        )
        if isinstance(exc, TooManyRequests):
            response.headers.update(exc.headers)
        return response
    response = redirect(post.request, safe_next(next_url, service.home_path(outcome.user.role)))
    set_session_cookie(post.request, response, outcome.token)
    return response


@router.post("/logout", name="logout")
def logout(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    check_same_origin(request)
    token = request.cookies.get(SESSION_COOKIE)
    if principal.kind == "user" and token:
        service.logout(session, principal, token)
    response = redirect(request, "/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
