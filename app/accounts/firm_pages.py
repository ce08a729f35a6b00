"""Pages of a firm's people: colleagues (invite, remove), accepting an invitation link, asking to
join a registered firm, and deciding such requests (owners, district officials, admins)."""

from __future__ import annotations

import uuid

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from app.accounts import claims, members, service
from app.accounts.api import set_session_cookie
from app.accounts.forms import AnonymousPost, anonymous_page, too_many
from app.accounts.schemas import (
    ClaimCreate,
    ClaimDecision,
    InvitationAcceptance,
    MemberInvite,
)
from app.enterprises import service as enterprise_service
from app.kit.db import SessionDep
from app.kit.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from app.kit.guards import SESSION_COOKIE, CurrentPrincipal, client_address
from app.kit.i18n import N_, Lang, html_lang, tr
from app.kit.principal import Principal
from app.kit.routing import domain_router
from app.kit.settings import SettingsDep
from app.kit.web.csrf import check_same_origin
from app.kit.web.deps import (
    EnterpriseUser,
    FirmActionDep,
    FirmPost,
    FormDep,
    PageLang,
    SignedInPage,
    base_context,
    form_str,
)
from app.kit.web.flash import flash_message, flash_redirect
from app.kit.web.forms import form_errors
from app.kit.web.templating import render

router = domain_router(include_in_schema=False)

INVITED = flash_message("member.invited", N_("Invitation sent. The link works once."))
REMOVED = flash_message("member.removed", N_("The colleague was removed and signed out."))
WITHDRAWN = flash_message("member.withdrawn", N_("The invitation was withdrawn."))
WELCOME = flash_message("member.welcome", N_("Welcome! Your account is ready."))
APPROVED = flash_message(
    "claim.approved", N_("Request approved: the person was sent an invitation link.")
)
REFUSED = flash_message("claim.refused", N_("Request refused: the person was told why."))
IN_A_FIRM = flash_message(
    "claim.in_a_firm",
    N_(
        "You belong to a firm already, so there is nothing to ask to join. A colleague without "
        "an account asks its owner for an invitation."
    ),
)
SIGNED_IN = flash_message(
    "claim.signed_in",
    N_(
        "Asking to join a firm creates a new account, and you are signed in with an account "
        "that belongs to no firm. To ask with another e-mail address, sign out first."
    ),
)


# --- colleagues -----------------------------------------------------------------------------------


def _members_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    lang: Lang,
    *,
    invite_email: str = "",
    invite_error: str | None = None,
    status_code: int = 200,
) -> Response:
    enterprise = enterprise_service.get_visible(session, principal, principal.own_enterprise_id)
    is_owner = principal.is_firm_owner
    context = base_context(request, principal, lang) | {
        "enterprise": enterprise,
        "members": members.members(session, principal, enterprise.id),
        "invitations": members.open_invitations(session, principal, enterprise.id)
        if is_owner
        else [],
        "claims": claims.listing(session, principal) if is_owner else [],
        "is_owner": is_owner,
        "invite_email": invite_email,
        "invite_error": invite_error,
    }
    return render(request, "pages/members.html", context, lang=lang, status_code=status_code)


@router.get("/settings/members", response_class=HTMLResponse, name="members")
def members_page(
    request: Request, session: SessionDep, principal: EnterpriseUser, lang: PageLang
) -> Response:
    return _members_page(request, session, principal, lang)


@router.post("/settings/members/invite", name="member_invite")
def invite(post: FirmPost) -> Response:
    email = post.field("email")
    error: str | None = None
    try:
        data = MemberInvite(email=email)
        members.invite_member(
            post.session, post.principal, post.settings, post.enterprise_id, data.email, post.lang
        )
    except ValidationError as exc:
        error = form_errors(post.lang, exc).get("email")
    except Conflict:
        post.session.rollback()
        error = tr(
            post.lang, "This e-mail address already has an account; a person belongs to one firm."
        )
    if error is not None:
        return _members_page(
            post.request,
            post.session,
            post.principal,
            post.lang,
            invite_email=email,
            invite_error=error,
            status_code=422,
        )
    return flash_redirect(post.request, "/settings/members", INVITED)


@router.post("/settings/members/{user_id}/remove", name="member_remove")
def remove(action: FirmActionDep, user_id: uuid.UUID) -> Response:
    members.remove_member(action.session, action.principal, action.enterprise_id, user_id)
    return flash_redirect(action.request, "/settings/members", REMOVED)


@router.post("/settings/invitations/{invitation_id}/withdraw", name="invitation_withdraw")
def withdraw(action: FirmActionDep, invitation_id: uuid.UUID) -> Response:
    members.withdraw_invitation(
        action.session, action.principal, action.enterprise_id, invitation_id
    )
    return flash_redirect(action.request, "/settings/members", WITHDRAWN)


# --- accepting an invitation ----------------------------------------------------------------------


def _invitation_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    lang: Lang,
    token: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    found = members.open_invitation(session, token)
    invitation, enterprise = found if found is not None else (None, None)
    return anonymous_page(
        request,
        principal,
        lang,
        "pages/invitation.html",
        status_code=status_code if found is not None else 404,
        invitation=invitation,
        enterprise=enterprise,
        token=token,
        values=values or {"email": invitation.email or "" if invitation else ""},
        errors=errors or {},
    )


@router.get("/invitations/{token}", response_class=HTMLResponse, name="invitation")
def invitation_form(
    request: Request, token: str, session: SessionDep, principal: CurrentPrincipal, lang: PageLang
) -> Response:
    return _invitation_page(request, session, principal, lang, token)


@router.post("/invitations/{token}", response_class=HTMLResponse)
def accept(post: AnonymousPost, token: str) -> Response:
    found = members.open_invitation(post.session, token)
    if found is None:
        return _invitation_page(post.request, post.session, post.principal, post.lang, token)
    invitation = found[0]
    values = {
        "email": invitation.email or form_str(post.form, "email"),
        "display_name": form_str(post.form, "display_name"),
    }
    password = post.form.get("password")
    errors: dict[str, str] = {}
    try:
        data = InvitationAcceptance(
            email=values["email"],
            display_name=values["display_name"],
            password=password if isinstance(password, str) else "",
            locale=html_lang(post.lang),
        )
    except ValidationError as exc:
        errors = form_errors(post.lang, exc)
    else:
        if data.password != post.form.get("password_again"):
            errors["password_again"] = tr(post.lang, "The two passwords differ.")
    if not errors:
        try:
            user = members.accept_invitation(post.session, post.principal, token, data)
        except NotFound:  # used by another request meanwhile: what a used link answers
            post.session.rollback()
            return _invitation_page(post.request, post.session, post.principal, post.lang, token)
        except (Conflict, InvalidInput) as exc:
            post.session.rollback()
            field = exc.errors[0].field.rsplit(".", 1)[-1] if exc.errors else "email"
            errors[field] = (
                tr(post.lang, "This e-mail address already has an account; sign in instead.")
                if isinstance(exc, Conflict) and exc.errors
                else tr(post.lang, "This invitation is for another e-mail address.")
                if exc.errors
                else tr(post.lang, "The firm already has an owner; ask them to invite you.")
            )
    if errors:
        return _invitation_page(
            post.request,
            post.session,
            post.principal,
            post.lang,
            token,
            values=values,
            errors=errors,
            status_code=422,
        )
    outcome = service.login(
        post.session,
        post.settings,
        user.email,
        data.password,
        address=client_address(post.request),
        replaces_token=post.request.cookies.get(SESSION_COOKIE),
        request_id=post.request.state.request_id,
    )
    response = flash_redirect(post.request, "/dashboard", WELCOME)
    set_session_cookie(post.request, response, outcome.token)
    return response


# --- asking to join a firm ------------------------------------------------------------------------


@router.get("/claim", response_class=HTMLResponse, name="claim")
def claim_form(request: Request, principal: CurrentPrincipal, lang: PageLang) -> Response:
    """The form is for people without an account, as registering is: someone signed in goes
    home (``service.home_path``), told why: a firm's member that they belong to one already (a
    colleague is invited by its owner), anyone else that the form would make another account."""
    if principal.kind == "user":
        why = IN_A_FIRM if principal.enterprise_id is not None else SIGNED_IN
        return flash_redirect(request, service.home_path(principal.role), why)
    values = {"credit_code": request.query_params.get("credit_code", "")[:30]}
    return anonymous_page(
        request, principal, lang, "pages/claim.html", values=values, errors={}, sent=False
    )


@router.get("/claim/sent", response_class=HTMLResponse, name="claim_sent")
def claim_sent(request: Request, principal: CurrentPrincipal, lang: PageLang) -> Response:
    """What a request to join answers (``claim``'s redirect), naming nothing that was sent."""
    return anonymous_page(
        request, principal, lang, "pages/claim.html", values={}, errors={}, sent=True
    )


@router.post("/claim", response_class=HTMLResponse)
def claim(post: AnonymousPost) -> Response:
    values = {
        name: form_str(post.form, name)
        for name in ("credit_code", "email", "display_name", "message")
    }
    errors: dict[str, str] = {}
    try:
        data = ClaimCreate(**values, locale=html_lang(post.lang))
        claims.file_claim(
            post.session, post.principal, post.settings, data, client_address(post.request)
        )
    except ValidationError as exc:
        errors = form_errors(post.lang, exc)
    except TooManyRequests as exc:
        response = post.page(
            "pages/claim.html",
            status_code=429,
            values=values,
            errors={"email": too_many(post.lang, exc)},
            sent=False,
        )
        response.headers.update(exc.headers)
        return response
    except InvalidInput:
        post.session.rollback()
        errors["credit_code"] = tr(
            post.lang, "No enterprise with this credit code is registered: register it instead."
        )
    if errors:
        return post.page(
            "pages/claim.html",
            status_code=422,
            values=values,
            errors=errors,
            sent=False,
        )
    return post.done("/claim/sent")


# --- deciding requests ----------------------------------------------------------------------------


@router.get("/claims", response_class=HTMLResponse, name="claims")
def claims_page(
    request: Request, session: SessionDep, principal: SignedInPage, lang: PageLang
) -> Response:
    context = base_context(request, principal, lang) | {
        "claims": claims.listing(session, principal),
        # Decided ones only: a waiting request is in the list above (it was listed twice, each
        # with its own "Decide" button).
        "decided": claims.listing(session, principal, statuses=claims.DECIDED, limit=20),
    }
    return render(request, "pages/claims.html", context, lang=lang)


def _claim_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    lang: Lang,
    claim_id: uuid.UUID,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = base_context(request, principal, lang) | {
        "view": claims.get(session, principal, claim_id),
        "error": error,
    }
    return render(request, "pages/claim_detail.html", context, lang=lang, status_code=status_code)


@router.get("/claims/{claim_id}", response_class=HTMLResponse, name="claim_detail")
def claim_page(
    request: Request,
    claim_id: uuid.UUID,
    session: SessionDep,
    principal: SignedInPage,
    lang: PageLang,
) -> Response:
    return _claim_page(request, session, principal, lang, claim_id)


@router.post("/claims/{claim_id}", name="claim_decide")
def decide(
    request: Request,
    claim_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: SignedInPage,
    lang: PageLang,
    form: FormDep,
) -> Response:
    check_same_origin(request)
    approve = form_str(form, "decision") == "approve"
    try:
        decision = ClaimDecision(approve=approve, reason=form_str(form, "reason"))
        claims.decide(session, principal, settings, claim_id, decision)
    except (ValidationError, InvalidInput):
        session.rollback()
        message = tr(
            lang, "Say why the request is refused (at most 500 characters): the person is told."
        )
        return _claim_page(
            request, session, principal, lang, claim_id, error=message, status_code=422
        )
    except Conflict:  # decided meanwhile (another tab, another decider): the page says how
        session.rollback()
        message = tr(lang, "This request was decided already.")
        return _claim_page(
            request, session, principal, lang, claim_id, error=message, status_code=409
        )
    back = (
        "/settings/members"
        if principal.is_enterprise_user
        else ("/admin" if principal.is_admin else "/claims")
    )
    return flash_redirect(request, back, APPROVED if approve else REFUSED)
