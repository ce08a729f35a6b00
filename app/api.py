"""The JSON API under /api/v1: every domain's router, with the committing route class."""

from __future__ import annotations

from fastapi import APIRouter

from app.errors import problem_responses
from app.routing import CommittingRoute


def build_api_router() -> APIRouter:
    # Imported here so that importing `app.api` stays cheap and cycle-free.
    from app.accounts.api import router as accounts_router
    from app.assessments.api import router as assessments_router
    from app.enterprises.api import router as enterprises_router
    from app.questionnaires.api import router as questionnaires_router

    api_router = APIRouter(
        prefix="/api/v1",
        route_class=CommittingRoute,
        responses=problem_responses(401, 404, 500),
    )
    for router in (
        accounts_router, enterprises_router, questionnaires_router, assessments_router
    ):
        api_router.include_router(router)
    return api_router
