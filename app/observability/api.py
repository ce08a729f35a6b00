from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.auth.dependencies import cookie_scheme, principal_from_cookie
from app.auth.security import constant_time_equals
from app.config import Settings
from app.db import SessionDep
from app.errors import NotFound
from app.observability.metrics import exposition

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics (admins, or a scraper with the metrics token)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
def metrics(
    request: Request,
    session: SessionDep,
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> Response:
    settings: Settings = request.app.state.settings
    token = settings.METRICS_TOKEN.get_secret_value() if settings.METRICS_TOKEN else None
    presented = request.headers.get("authorization", "")
    allowed = token is not None and constant_time_equals(presented, f"Bearer {token}")
    if not allowed and cookie:
        principal = principal_from_cookie(session, cookie, request)
        allowed = principal.kind == "user" and principal.is_admin
    if not allowed:
        raise NotFound()
    body, content_type = exposition()
    return Response(body, media_type=content_type)
