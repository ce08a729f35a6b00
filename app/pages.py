"""The HTML pages (composition): every domain's page router under one router without the /api/v1
prefix, left out of the OpenAPI document, and the pages no single domain owns: home, the
language switch, the dashboard."""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from app.accounts import service as accounts_service
from app.assessments import service as assessment_service
from app.assessments.pages import trend_points
from app.enterprises import service as enterprise_service
from app.kit.db import SessionDep
from app.kit.guards import CurrentPrincipal
from app.kit.i18n import LANG_COOKIE, negotiate_lang
from app.kit.routing import CommittingRoute, domain_router
from app.kit.settings import Settings, SettingsDep
from app.kit.web.deps import PageLang, SignedInPage, base_context
from app.kit.web.htmx import safe_next
from app.kit.web.security import content_security_policy
from app.kit.web.templating import render
from app.questionnaires.service import CatalogDep
from app.results import charts

router = domain_router(include_in_schema=False)


@router.get("/", response_class=HTMLResponse, name="home")
def home(request: Request, principal: CurrentPrincipal, lang: PageLang) -> Response:
    context = base_context(request, principal, lang) | {
        "home_path": accounts_service.home_path(principal.role)
        if principal.kind == "user"
        else None
    }
    return render(request, "pages/home.html", context, lang=lang)


@router.get("/favicon.ico", include_in_schema=False)
def favicon(settings: SettingsDep) -> FileResponse:
    """Browsers ask for it on every site whatever the page links: answer, not 404."""
    return FileResponse(
        settings.STATIC_DIR / "favicon.ico",
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=604800"},
    )


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
    principal: SignedInPage,
    catalog: CatalogDep,
    lang: PageLang,
) -> Response:
    if not principal.is_enterprise_user or principal.enterprise_id is None:
        # Officials and admins have no firm: their home is elsewhere.
        return RedirectResponse(accounts_service.home_path(principal.role), status_code=303)
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
    from app.accounts.account_pages import router as account_pages
    from app.accounts.firm_pages import router as firm_pages
    from app.accounts.pages import router as accounts_pages
    from app.admin.pages import router as admin_pages
    from app.assessments.pages import router as assessments_pages
    from app.enterprises.pages import router as enterprises_pages
    from app.heatmaps.pages import router as heatmaps_pages
    from app.integrators.pages import router as integrators_pages
    from app.portability.pages import router as portability_pages
    from app.verification.pages import router as verification_pages

    pages = APIRouter(route_class=CommittingRoute, include_in_schema=False)
    for domain_pages in (
        router,
        accounts_pages,
        account_pages,
        firm_pages,
        admin_pages,
        assessments_pages,
        enterprises_pages,
        heatmaps_pages,
        integrators_pages,
        portability_pages,
        verification_pages,
    ):
        pages.include_router(domain_pages)
    return pages


#: Swagger UI and ReDoc, bundled by the fastapi-offline package (served at /static/apidocs/).
API_DOCS_ASSETS = Path(str(importlib.resources.files("fastapi_offline") / "static"))


def api_docs_router(app: FastAPI) -> APIRouter:
    """/docs (Swagger UI) and /redoc (ReDoc) from the service's own static files: they load
    where a CDN is unreachable, under the same CSP as every page."""
    docs = APIRouter(include_in_schema=False)

    def page(template: str, *, inline_styles: bool = False) -> Callable[[Request], Response]:
        def show(request: Request) -> Response:
            context = {"title": app.title, "openapi_url": app.openapi_url}
            response = render(request, template, context, lang=negotiate_lang(request))
            policy = content_security_policy(inline_styles=inline_styles)
            response.headers["Content-Security-Policy"] = policy
            return response

        return show

    docs.add_api_route("/docs", page("apidocs/swagger.html"), methods=["GET"])
    docs.add_api_route("/redoc", page("apidocs/redoc.html", inline_styles=True), methods=["GET"])
    return docs


def mount_pages(app: FastAPI, settings: Settings) -> None:
    """The pages and their static files (htmx vendored, CSS, a small script), and the API
    docs."""
    app.mount("/static/apidocs", StaticFiles(directory=API_DOCS_ASSETS), name="apidocs")
    app.mount("/static", StaticFiles(directory=settings.STATIC_DIR), name="static")
    app.include_router(build_pages_router())
    app.include_router(api_docs_router(app))
