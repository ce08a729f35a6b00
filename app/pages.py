"""The HTML pages (composition): every domain's page router under one router without the /api/v1
prefix, left out of the OpenAPI document, and the pages no single domain owns: home, the
language switch, the dashboard."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from app.assessments import service as assessment_service
from app.assessments.pages import trend_points
from app.enterprises import service as enterprise_service
from app.kit.db import SessionDep
from app.kit.guards import CurrentPrincipal
from app.kit.i18n import LANG_COOKIE
from app.kit.routing import CommittingRoute, domain_router
from app.kit.settings import Settings
from app.kit.web.deps import EnterpriseUser, PageLang, base_context
from app.kit.web.htmx import safe_next
from app.kit.web.templating import render
from app.questionnaires.service import CatalogDep
from app.results import charts

router = domain_router(include_in_schema=False)


@router.get("/", response_class=HTMLResponse, name="home")
def home(request: Request, principal: CurrentPrincipal, lang: PageLang) -> Response:
    return render(request, "pages/home.html", base_context(request, principal, lang), lang=lang)


@router.get("/lang/{code}", name="set_language")
def set_language(request: Request, code: str, next: str | None = None) -> Response:
    """Remember a language choice (a preference cookie, no server state) and go back."""
    lang = "en" if code.lower().startswith("en") else "zh"
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=365 * 24 * 3600,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.get("/dashboard", response_class=HTMLResponse, name="dashboard")
def dashboard(
    request: Request,
    session: SessionDep,
    principal: EnterpriseUser,
    catalog: CatalogDep,
    lang: PageLang,
) -> Response:
    assert principal.enterprise_id is not None
    enterprise = enterprise_service.get_visible(session, principal, principal.enterprise_id)
    page = assessment_service.history(
        session, principal, catalog, enterprise.id, cursor=None, limit=50, lang=lang
    )
    submitted = [item for item in page.items if item.status == "submitted"]
    latest = submitted[0] if submitted else None
    context = base_context(request, principal, lang) | {
        "enterprise": enterprise,
        "items": page.items,
        "latest": latest,
        "drafts": [item for item in page.items if item.status == "draft"],
        "trend_svg": charts.trend_svg(trend_points(submitted), lang=lang)
        if len(submitted) > 1
        else None,
    }
    return render(request, "pages/dashboard.html", context, lang=lang)


def build_pages_router() -> APIRouter:
    from app.accounts.pages import router as accounts_pages
    from app.assessments.pages import router as assessments_pages
    from app.enterprises.pages import router as enterprises_pages
    from app.heatmaps.pages import router as heatmaps_pages
    from app.integrators.pages import router as integrators_pages
    from app.verification.pages import router as verification_pages

    pages = APIRouter(route_class=CommittingRoute, include_in_schema=False)
    for domain_pages in (
        router,
        accounts_pages,
        assessments_pages,
        enterprises_pages,
        heatmaps_pages,
        integrators_pages,
        verification_pages,
    ):
        pages.include_router(domain_pages)
    return pages


def mount_pages(app: FastAPI, settings: Settings) -> None:
    """The pages and their static files (htmx vendored, CSS, a small script)."""
    app.mount("/static", StaticFiles(directory=settings.STATIC_DIR), name="static")
    app.include_router(build_pages_router())
