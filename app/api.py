"""The JSON API under /api/v1: every domain's router, with the committing route class."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.kit.errors import problem_responses
from app.kit.routing import CommittingRoute, include_flat


def build_api_router() -> APIRouter:
    # Imported here so that importing `app.api` stays cheap and cycle-free.
    from app.accounts.api import router as accounts_router
    from app.assessments.api import router as assessments_router
    from app.audit.api import router as audit_router
    from app.enterprises.api import facts_router
    from app.enterprises.api import router as enterprises_router
    from app.enterprises.privacy_api import router as privacy_router
    from app.heatmaps.api import router as heatmaps_router
    from app.integrators.api import router as integrators_router
    from app.integrators.ratelimit import rate_limit
    from app.portability.api import router as portability_router
    from app.questionnaires.api import router as questionnaires_router
    from app.reports.api import router as reports_router
    from app.subsidies.api import router as subsidies_router
    from app.verification.api import router as verification_router

    api_router = APIRouter(
        prefix="/api/v1",
        route_class=CommittingRoute,
        responses=problem_responses(401, 404, 429, 500, 503),
        # Per-API-key rate limit (429 problem+json with Retry-After); users are not counted.
        # Every operation reads the database (authentication at least): 503 when it is away.
        dependencies=[Depends(rate_limit)],
    )
    for router in (
        accounts_router,
        enterprises_router,
        facts_router,
        privacy_router,
        portability_router,
        questionnaires_router,
        assessments_router,
        reports_router,
        subsidies_router,
        integrators_router,
        heatmaps_router,
        verification_router,
        audit_router,
    ):
        include_flat(api_router, router)
    return api_router
