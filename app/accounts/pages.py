"""Pages: register an enterprise and its first user, sign in, sign out."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from app.accounts import service
from app.accounts.api import set_session_cookie
from app.accounts.schemas import MIN_PASSWORD_LENGTH, Registration
from app.kit.db import SessionDep
from app.kit.errors import Conflict, TooManyRequests, Unauthorized
from app.kit.guards import SESSION_COOKIE, CurrentPrincipal
from app.kit.i18n import Lang, html_lang, tr
from app.kit.reference import DISTRICTS, INDUSTRIES
from app.kit.routing import domain_router
from app.kit.settings import settings_of
from app.kit.web.csrf import (
    attach_pre_session_cookie,
    check_pre_session_token,
    check_same_origin,
    pre_session_token,
)
from app.kit.web.deps import FormDep, PageLang, base_context, form_str
from app.kit.web.htmx import redirect, safe_next
from app.kit.web.templating import render

router = domain_router(include_in_schema=False)

ENTERPRISE_FIELDS = (
    "credit_code",
    "name",
    "district_code",
    "industry_code",
    "employees",
    "annual_revenue_cny",
)
USER_FIELDS = ("email", "password", "display_name")


def field_message(lang: Lang, field: str, error: dict[str, Any]) -> str:
    """A pydantic error on a registration field, said in ``lang``."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return tr(lang, "Required.")
    if field == "credit_code" and kind == "value_error":
        return tr(
            lang,
            "Not a valid unified social credit code: 18 characters with a correct check digit.",
        )
    if field == "district_code":
        return tr(lang, "Choose one of Shanghai's districts.")
    if field == "industry_code":
        return tr(lang, "Choose a manufacturing industry (GB/T 4754 divisions 13–43).")
    if field == "email":
        return tr(lang, "Enter an e-mail address such as name@example.com.")
    if field == "password" and kind == "string_too_short":
        return tr(lang, "At least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    if kind == "string_too_short":
        return tr(lang, "Too short: at least %(n)s characters.", n=ctx.get("min_length", 1))
    if kind == "string_too_long":
        return tr(lang, "Too long: at most %(n)s characters.", n=ctx.get("max_length", 0))
    if kind in ("greater_than_equal", "greater_than"):
        return tr(lang, "Must not be negative.")
    if kind in ("less_than_equal", "less_than"):
        return tr(lang, "This figure is too large; check the unit.")
    if kind.startswith(("int_", "decimal_", "float_")) or kind == "value_error":
        return tr(lang, "Enter a number (digits only).")
    return tr(lang, "This value is not valid.")


def _register_page(
    request: Request,
    principal: Any,
    lang: Lang,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    context = base_context(request, principal, lang) | {
        "form_token": pre_session_token(request),
        "values": values,
        "errors": errors,
        "districts": list(DISTRICTS.values()),
        "industries": list(INDUSTRIES.values()),
        "min_password": MIN_PASSWORD_LENGTH,
    }
    response = render(request, "pages/register.html", context, lang=lang, status_code=status_code)
    attach_pre_session_cookie(request, response)
    return response


@router.get("/register", response_class=HTMLResponse, name="register")
def register_form(request: Request, principal: CurrentPrincipal, lang: PageLang) -> Response:
    if principal.is_enterprise_user:
        return redirect(request, "/dashboard")
    return _register_page(request, principal, lang, {}, {})


@router.post("/register", response_class=HTMLResponse)
def register(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: PageLang,
    form: FormDep,
) -> Response:
    check_same_origin(request)
    if principal.csrf_token is None:
        check_pre_session_token(request, form.get("csrf_token"))
    values = {name: form_str(form, name) for name in ENTERPRISE_FIELDS + USER_FIELDS}
    payload = {
        "enterprise": {name: values[name] for name in ENTERPRISE_FIELDS},
        "user": {
            "email": values["email"],
            "password": form.get("password") if isinstance(form.get("password"), str) else "",
            "display_name": values["display_name"],
            "locale": html_lang(lang),
        },
    }
    values.pop("password")
    errors: dict[str, str] = {}
    try:
        data = Registration.model_validate(payload)
    except ValidationError as exc:
        for error in exc.errors():
            field = str(error["loc"][-1]) if error["loc"] else ""
            errors.setdefault(field, field_message(lang, field, dict(error)))
        return _register_page(request, principal, lang, values, errors, status_code=422)
    try:
        user, _ = service.register(session, principal, data)
    except Conflict as exc:
        for field_error in exc.errors:
            field = field_error.field.rsplit(".", 1)[-1]
            errors[field] = (
                tr(lang, "An enterprise with this credit code is already registered.")
                if field == "credit_code"
                else tr(lang, "This e-mail address already has an account; sign in instead.")
            )
        session.rollback()
        return _register_page(request, principal, lang, values, errors, status_code=409)
    outcome = service.login(
        session,
        settings_of(request),
        user.email,
        data.user.password,
        replaces_token=request.cookies.get(SESSION_COOKIE),
        request_id=request.state.request_id,
    )
    response = redirect(request, "/dashboard?welcome=1")
    set_session_cookie(request, response, outcome.token)
    return response


def _login_page(
    request: Request,
    principal: Any,
    lang: Lang,
    *,
    email: str = "",
    next_url: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = base_context(request, principal, lang) | {
        "form_token": pre_session_token(request),
        "email": email,
        "next_url": next_url,
        "error": error,
    }
    response = render(request, "pages/login.html", context, lang=lang, status_code=status_code)
    attach_pre_session_cookie(request, response)
    return response


@router.get("/login", response_class=HTMLResponse, name="login")
def login_form(
    request: Request, principal: CurrentPrincipal, lang: PageLang, next: str | None = None
) -> Response:
    if principal.is_enterprise_user:
        return redirect(request, safe_next(next, "/dashboard"))
    return _login_page(request, principal, lang, next_url=safe_next(next, ""))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: PageLang,
    form: FormDep,
) -> Response:
    check_same_origin(request)
    if principal.csrf_token is None:
        check_pre_session_token(request, form.get("csrf_token"))
    email = form_str(form, "email")
    password = form.get("password")
    next_url = safe_next(form_str(form, "next"), "")
    try:
        outcome = service.login(
            session,
            settings_of(request),
            email.lower(),
            password if isinstance(password, str) else "",
            replaces_token=request.cookies.get(SESSION_COOKIE),
            request_id=request.state.request_id,
        )
    except TooManyRequests as exc:
        message = tr(lang, "Too many failed sign-ins for this account; try again later.")
        response = _login_page(
            request, principal, lang, email=email, next_url=next_url, error=message, status_code=429
        )
        response.headers.update(exc.headers)
        return response
    except Unauthorized:
        message = tr(lang, "Wrong e-mail address or password.")
        return _login_page(
            request, principal, lang, email=email, next_url=next_url, error=message, status_code=401
        )
    default = "/dashboard" if outcome.user.role == "enterprise" else "/"
    response = redirect(request, safe_next(next_url, default))
    set_session_cookie(request, response, outcome.token)
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
