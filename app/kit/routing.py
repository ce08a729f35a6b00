"""Route class that commits the request's database session at the request boundary."""

from __future__ import annotations

import functools
import inspect
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

    A sync endpoint that takes the session and returns its own ``Response`` (the status is then
    final) commits in the thread it ran in, right after it returns: the same commit at the same
    point, without one more trip through the thread pool (docs/benchmarks.md, "Endpoint speed,
    third pass"). Every other endpoint's session is committed by the route's handler.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint) and not hasattr(endpoint, "_commits"):
            endpoint = _committing_in_thread(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def committing_handler(request: Request) -> Response:
            response = await handler(request)
            session: Session | None = getattr(request.state, "db_session", None)
            # No transaction: nothing was read or written since the last commit (the endpoint's
            # own, above), so there is nothing to commit.
            if session is not None and response.status_code < 400 and session.in_transaction():
                await run_in_threadpool(session.commit)
            return response

        return committing_handler


def _committing_in_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint``, committing its session argument when it returns a ``Response`` below 400.
    (``functools.wraps``: FastAPI reads the parameters, name and docstring of the original.)"""

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        if isinstance(result, Response) and result.status_code < 400:
            for value in kwargs.values():
                if isinstance(value, Session) and value.in_transaction():
                    value.commit()
        return result

    run._commits = True  # type: ignore[attr-defined]  # wrapped once, however often included
    return run


def domain_router(**kwargs: Any) -> APIRouter:
    """The router every domain's ``api.py`` uses: its routes commit at the request boundary."""
    return APIRouter(route_class=CommittingRoute, **kwargs)
