from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.health import service
from app.kit.db import Database

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: bool
    migrations_current: bool
    revision: str | None
    head: str | None


@router.get("/healthz", operation_id="health_alive", response_model=Health)
def alive() -> Health:
    """The process is up. It touches nothing else."""
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="health_ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready"}},
)
async def ready(request: Request) -> JSONResponse:
    """The database answers and its schema is at the migrations' head."""
    database: Database = request.app.state.database
    readiness = await run_in_threadpool(service.check_readiness, database.engine)
    body = Readiness.model_validate(readiness, from_attributes=True)
    return JSONResponse(body.model_dump(), status_code=200 if readiness.ready else 503)
