"""The HTML pages, without the /api/v1 prefix and left out of the OpenAPI document."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from app.config import Settings
from app.routing import CommittingRoute


def build_pages_router() -> APIRouter:
    # Imported here so that importing `app.web.router` stays cheap and cycle-free.
    from app.accounts.pages import router as accounts_pages
    from app.assessments.pages import router as assessments_pages
    from app.enterprises.pages import router as enterprises_pages
    from app.heatmaps.pages import router as heatmaps_pages
    from app.verification.pages import router as verification_pages
    from app.web.pages import router as web_pages

    pages = APIRouter(route_class=CommittingRoute, include_in_schema=False)
    for router in (
        web_pages,
        accounts_pages,
        assessments_pages,
        enterprises_pages,
        heatmaps_pages,
        verification_pages,
    ):
        pages.include_router(router)
    return pages


def mount_pages(app: FastAPI, settings: Settings) -> None:
    """The pages and their static files (htmx vendored, CSS, a small script)."""
    app.mount("/static", StaticFiles(directory=settings.STATIC_DIR), name="static")
    app.include_router(build_pages_router())
