"""Route class that commits the request's database session at the request boundary."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

F = TypeVar("F", bound=Callable[..., Any])


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
        #: Its session runs in autocommit on PostgreSQL (:func:`single_statement_writes`).
        self.autocommit: bool = getattr(endpoint, "_autocommit", False)
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


def single_statement_writes(endpoint: F) -> F:
    """Marks an endpoint whose every database write is one statement (the answer PUT on
    PostgreSQL: ``AssessmentRepository.save_draft``): its request session then runs in
    autocommit there (``app.kit.db.get_session``), each statement its own transaction, which
    saves the ``BEGIN`` and ``COMMIT`` round trips. Nothing is lost by it: a single statement is
    atomic by itself, and under READ COMMITTED every statement of a transaction reads its own
    snapshot anyway. Housekeeping writes of authentication (a key's last use) are statements of
    their own and were committed on their own already. An endpoint that gains a second write
    must lose this mark."""
    endpoint._autocommit = True  # type: ignore[attr-defined]
    return endpoint


def domain_router(**kwargs: Any) -> APIRouter:
    """The router every domain's ``api.py`` uses: its routes commit at the request boundary."""
    return APIRouter(route_class=CommittingRoute, **kwargs)


def include_flat(parent: APIRouter, child: APIRouter) -> None:
    """``parent.include_router(child)``, with ``child``'s routes added to ``parent`` itself.

    The same operations with the same prefix, tags, dependencies, responses and order
    (``/openapi.json`` is byte-identical), and the route classes kept. Why: in recent FastAPI
    (0.165 here) an included router stays a nested router that matches its routes one by one,
    and every level does so twice per request (to find the route, then to run it); with the
    routes on the app's own router a request is matched once (docs/benchmarks.md,
    "ep-result"). Only ``APIRouter.add_api_route`` and the public attributes of ``APIRoute``
    are used, so this holds on any FastAPI the project accepts. A child with anything but API
    routes (a mount, a websocket) is refused rather than half copied.
    """
    for route in child.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"include_flat copies API routes only, not {route!r}")
        parent.add_api_route(
            route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=list(route.tags),
            dependencies=list(route.dependencies),
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=dict(route.responses),
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            route_class_override=type(route),
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
        )
