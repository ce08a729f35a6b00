"""Route class that commits the request's database session at the request boundary."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session


class CommittingRoute(APIRoute):
    """Commits the session opened by `app.kit.db.get_session` after the endpoint returns and before
    the response is sent, so a client never sees success for a write that failed to commit.

    (Code after ``yield`` in a dependency runs only after the response has gone out.)
    Services and repositories never commit.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def committing_handler(request: Request) -> Response:
            response = await handler(request)
            session: Session | None = getattr(request.state, "db_session", None)
            if session is not None and response.status_code < 400:
                await run_in_threadpool(session.commit)
            return response

        return committing_handler


def domain_router(**kwargs: Any) -> APIRouter:
    """The router every domain's ``api.py`` uses: its routes commit at the request boundary."""
    return APIRouter(route_class=CommittingRoute, **kwargs)
