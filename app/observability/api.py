from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.auth.security import constant_time_equals
from app.auth.service import Authenticator
from app.kit.db import SessionDep
from app.kit.errors import InvalidCredentials, NotFound, Unauthorized, problem_responses
from app.kit.guards import cookie_scheme
from app.kit.settings import settings_of
from app.observability.metrics import exposition

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics (admins, or a scraper with the metrics token)",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format"},
        **problem_responses(401, 404, 503),
    },
)
def metrics(
    request: Request,
    session: SessionDep,
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> Response:
    settings = settings_of(request)
    token = settings.METRICS_TOKEN.get_secret_value() if settings.METRICS_TOKEN else None
    presented = request.headers.get("authorization")
    if presented is not None:
        if token is None or not constant_time_equals(presented, f"Bearer {token}"):
            raise InvalidCredentials("The metrics token is wrong.")
    else:
        principal = Authenticator().from_cookie(session, cookie, request) if cookie else None
        if principal is None or principal.kind == "anonymous":
            raise Unauthorized("Sign in as an admin, or send the metrics token.")
        if not principal.is_admin:
            raise NotFound()
    body, content_type = exposition()
    return Response(body, media_type=content_type)
