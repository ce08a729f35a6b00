"""Pages of one's own account: name and language, changing the password, and "forgot
password" (a link by e-mail, then a new password)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from app.accounts import passwords, service
from app.accounts.forms import AnonymousPost, anonymous_page, too_many
from app.accounts.schemas import (
    MIN_PASSWORD_LENGTH,
    PasswordChange,
    PasswordResetCompletion,
    PasswordResetRequest,
    ProfileUpdate,
)
from app.kit.db import SessionDep
from app.kit.errors import InvalidInput, NotFound, TooManyRequests
from app.kit.guards import SESSION_COOKIE, CurrentPrincipal, client_address
from app.kit.i18n import N_, Lang, tr
from app.kit.principal import Principal
from app.kit.routing import domain_router
from app.kit.settings import settings_of
from app.kit.web.csrf import check_same_origin
from app.kit.web.deps import FormDep, PageLang, SignedInPage, base_context, form_str
from app.kit.web.flash import flash_message, flash_redirect
from app.kit.web.forms import form_errors
from app.kit.web.templating import render

router = domain_router(include_in_schema=False)

PROFILE_SAVED = flash_message("account.profile", N_("Your details were saved."))
PASSWORD_CHANGED = flash_message(
    "account.password",
    N_("Your password was changed. Your other sessions were signed out."),
)
FORGOT_PAGE = "pages/password_forgot.html"

PASSWORD_RESET = flash_message(
    "account.reset", N_("Your password was reset. Sign in with the new one.")
)


def _password(form: FormDep, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _account_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    lang: Lang,
    *,
    profile_errors: dict[str, str] | None = None,
    profile_values: dict[str, str] | None = None,
    password_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """``profile_values``: what was typed into the details form when it was refused (shown
    again instead of the stored details)."""
    user = service.get_user(session, principal)
    context = base_context(request, principal, lang) | {
        "user": user,
        "profile_errors": profile_errors or {},
        "profile_values": profile_values or {},
        "password_errors": password_errors or {},
        "min_password": MIN_PASSWORD_LENGTH,
    }
    return render(request, "pages/account.html", context, lang=lang, status_code=status_code)


@router.get("/account", response_class=HTMLResponse, name="account")
def account_page(
    request: Request, session: SessionDep, principal: SignedInPage, lang: PageLang
) -> Response:
    return _account_page(request, session, principal, lang)


@router.post("/account/profile", name="account_profile")
def update_profile(
    request: Request, session: SessionDep, principal: SignedInPage, lang: PageLang, form: FormDep
) -> Response:
    check_same_origin(request)
    typed = {"display_name": form_str(form, "display_name"), "locale": form_str(form, "locale")}
    try:
        data = ProfileUpdate(
            display_name=typed["display_name"],
            locale="en" if typed["locale"] == "en" else "zh-CN",
        )
    except ValidationError as exc:
        return _account_page(
            request,
            session,
            principal,
            lang,
            profile_errors=form_errors(lang, exc),
            profile_values=typed,
            status_code=422,
        )
    service.update_profile(session, principal, data)
    return flash_redirect(request, "/account", PROFILE_SAVED)


@router.post("/account/password", name="account_password")
def change_password(
    request: Request, session: SessionDep, principal: SignedInPage, lang: PageLang, form: FormDep
) -> Response:
    check_same_origin(request)
    errors: dict[str, str] = {}
    try:
        data = PasswordChange(
            current_password=_password(form, "current_password"),
            new_password=_password(form, "password"),
        )
    except ValidationError as exc:
        errors = form_errors(lang, exc)
    else:
        if data.new_password != _password(form, "password_again"):
            errors["password_again"] = tr(lang, "The two new passwords differ.")
    if not errors:
        try:
            passwords.change_password(
                session,
                principal,
                settings_of(request),
                data.current_password,
                data.new_password,
                address=client_address(request),
                keep_token=request.cookies.get(SESSION_COOKIE),
            )
        except InvalidInput:
            session.rollback()
            errors["current_password"] = tr(lang, "The current password is wrong.")
        except TooManyRequests as exc:
            session.rollback()
            response = _account_page(
                request,
                session,
                principal,
                lang,
                password_errors={"current_password": too_many(lang, exc)},
                status_code=429,
            )
            response.headers.update(exc.headers)
            return response
    if errors:
        return _account_page(
            request, session, principal, lang, password_errors=errors, status_code=422
        )
    return flash_redirect(request, "/account", PASSWORD_CHANGED)


# --- forgot password ------------------------------------------------------------------------------


def _reset_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    lang: Lang,
    token: str,
    errors: dict[str, str],
    status_code: int,
) -> Response:
    """The new-password form of a reset link; a link that is unknown, used or expired is 404."""
    valid = passwords.open_reset(session, token) is not None
    return anonymous_page(
        request,
        principal,
        lang,
        "pages/password_reset.html",
        status_code=status_code if valid else 404,
        valid=valid,
        token=token,
        errors=errors,
    )


@router.get("/password/forgot", response_class=HTMLResponse, name="password_forgot")
def forgot_form(request: Request, principal: CurrentPrincipal, lang: PageLang) -> Response:
    return anonymous_page(request, principal, lang, FORGOT_PAGE, sent=False, email="", error=None)


@router.get("/password/forgot/sent", response_class=HTMLResponse, name="password_forgot_sent")
def forgot_sent(request: Request, principal: CurrentPrincipal, lang: PageLang) -> Response:
    """What a request for a link answers (``forgot``'s redirect): the same words whoever asks,
    naming no address."""
    return anonymous_page(request, principal, lang, FORGOT_PAGE, sent=True, email="", error=None)


@router.post("/password/forgot", response_class=HTMLResponse)
def forgot(post: AnonymousPost) -> Response:
    email = form_str(post.form, "email")
    try:
        data = PasswordResetRequest(email=email)
    except ValidationError as exc:
        error = form_errors(post.lang, exc).get("email")
        return post.page(FORGOT_PAGE, 422, sent=False, email=email, error=error)
    try:
        passwords.request_reset(
            post.session,
            post.principal,
            post.settings,
            data.email,
            post.lang,
            address=client_address(post.request),
        )
    except TooManyRequests as exc:
        error = too_many(post.lang, exc)
        response = post.page(FORGOT_PAGE, 429, sent=False, email=email, error=error)
        response.headers.update(exc.headers)
        return response
    return post.done("/password/forgot/sent")


@router.get("/password/reset/{token}", response_class=HTMLResponse, name="password_reset")
def reset_form(
    request: Request, token: str, session: SessionDep, principal: CurrentPrincipal, lang: PageLang
) -> Response:
    return _reset_page(request, session, principal, lang, token, {}, 200)


@router.post("/password/reset/{token}", response_class=HTMLResponse)
def reset(post: AnonymousPost, token: str) -> Response:
    errors: dict[str, str] = {}
    try:
        data = PasswordResetCompletion(new_password=_password(post.form, "password"))
    except ValidationError as exc:
        errors = form_errors(post.lang, exc)
    else:
        if data.new_password != _password(post.form, "password_again"):
            errors["password_again"] = tr(post.lang, "The two new passwords differ.")
    if errors or passwords.open_reset(post.session, token) is None:
        return _reset_page(
            post.request, post.session, post.principal, post.lang, token, errors, 422
        )
    try:
        passwords.reset_password(post.session, post.principal, token, data.new_password)
    except NotFound:  # used by another request meanwhile: what a used link answers
        post.session.rollback()
        return _reset_page(post.request, post.session, post.principal, post.lang, token, {}, 404)
    response = flash_redirect(post.request, "/login", PASSWORD_RESET)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
