from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.health import service
from app.kit.db import Database

router = APIRouter(tags=["health"])

#: A load balancer's probe gets its answer within this long, whatever the database does.
READINESS_SECONDS = 1.5


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: bool
    migrations_current: bool
    revision: str | None
    head: str | None


_ALIVE = Health(status="ok").model_dump_json().encode()


@router.get("/healthz", operation_id="health_alive", response_model=Health)
async def alive() -> Response:
    """The process is up. It touches nothing else (async, and its bytes made once: a probe
    costs the event loop as little as a request can)."""
    return Response(_ALIVE, media_type="application/json")


@router.get(
    "/readyz",
    operation_id="health_ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready"}},
)
async def ready(request: Request) -> JSONResponse:
    """The database answers and its schema is at the migrations' head; within
    ``READINESS_SECONDS`` either way (a database that does not answer by then is not ready)."""
    database: Database = request.app.state.database
    try:
        readiness = await asyncio.wait_for(
            run_in_threadpool(service.check_readiness, database.engine), READINESS_SECONDS
        )
    except TimeoutError:  # the check's thread ends by itself at the connect or ping timeout
        readiness = service.unavailable()
    body = Readiness.model_validate(readiness, from_attributes=True)
    return JSONResponse(body.model_dump(), status_code=200 if readiness.ready else 503)
