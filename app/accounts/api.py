from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request, Response, status

from app.accounts import members, service
from app.accounts.schemas import (
    LoginRequest,
    OwnerInvitationRead,
    Registration,
    RegistrationAccepted,
    SessionRead,
    UserRead,
)
from app.kit.db import SessionDep
from app.kit.errors import problem_responses
from app.kit.guards import (
    PUBLIC_OPERATION,
    SESSION_COOKIE,
    CurrentPrincipal,
    IntegratorOrAdmin,
    SignedIn,
    client_address,
    scoped,
)
from app.kit.principal import Principal
from app.kit.routing import domain_router
from app.kit.settings import SettingsDep, settings_of

router = domain_router(tags=["accounts"])


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = settings_of(request)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.SESSION_ABSOLUTE_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


@router.post(
    "/accounts/register",
    operation_id="accounts_register",
    openapi_extra=PUBLIC_OPERATION,
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RegistrationAccepted,
    responses=problem_responses(409, 422),
    summary="Register an enterprise and its first user",
    description="Answers 202 with the same body whether or not the e-mail address already has "
    "an account (nothing to enumerate): a new address gets the firm and its owner account "
    "(sign in with `POST /session`); an address with an account gets nothing created, and "
    "its owner an e-mail. 409 when the credit code is registered already.",
)
def register(
    body: Registration, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> RegistrationAccepted:
    service.register(session, principal, settings, body)
    return RegistrationAccepted(email=body.user.email)


@router.post(
    "/session",
    operation_id="session_login",
    openapi_extra=PUBLIC_OPERATION,
    response_model=SessionRead,
    responses=problem_responses(401, 422, 429),
    summary="Sign in: sets an HttpOnly session cookie",
)
def login(
    body: LoginRequest, request: Request, response: Response, session: SessionDep
) -> SessionRead:
    outcome = service.login(
        session,
        settings_of(request),
        body.email,
        body.password,
        address=client_address(request),
        replaces_token=request.cookies.get(SESSION_COOKIE),
        request_id=request.state.request_id,
    )
    set_session_cookie(request, response, outcome.token)
    return SessionRead(user=UserRead.model_validate(outcome.user), csrf_token=outcome.csrf_token)


@router.delete(
    "/session",
    operation_id="session_logout",
    openapi_extra=PUBLIC_OPERATION,
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out",
)
def logout(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if principal.kind == "user" and token:
        service.logout(session, principal, token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get(
    "/me",
    operation_id="me_get",
    response_model=UserRead,
    summary="The signed-in user",
)
def me(session: SessionDep, principal: SignedIn) -> UserRead:
    return UserRead.model_validate(service.get_user(session, principal))


@router.post(
    "/enterprises/{enterprise_id}/owner-invitation",
    operation_id="owner_invitation_create",
    status_code=status.HTTP_201_CREATED,
    response_model=OwnerInvitationRead,
    responses=problem_responses(403, 409),
    summary="A single-use link that makes the firm's first user its owner (the integrator that "
    "registered the firm, or admins)",
    description="Hand the link to the firm you registered: the first person to open it and "
    "choose a password becomes the firm's owner, with an account of their own in which they "
    "see, and can revoke, the access they granted you. The link expires after "
    "`ZHIZAO_INVITATION_TTL_HOURS` (default a week); asking again withdraws the previous one. "
    "409 once the firm has an owner.",
)
def create_owner_invitation(
    enterprise_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(scoped("enterprises:write"))],
    _caller: IntegratorOrAdmin,
) -> OwnerInvitationRead:
    issued = members.issue_owner_invitation(session, principal, settings, enterprise_id)
    return OwnerInvitationRead(
        enterprise_id=enterprise_id, url=issued.url, expires_at=issued.invitation.expires_at
    )
