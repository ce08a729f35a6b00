"""Pages not owned by one domain: home, the language switch, the dashboard."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.assessments import service as assessment_service
from app.auth.dependencies import CurrentPrincipal
from app.db import SessionDep
from app.enterprises import service as enterprise_service
from app.i18n import LANG_COOKIE
from app.questionnaires.api import CatalogDep
from app.routing import domain_router
from app.web import charts
from app.web.deps import EnterpriseUser, PageLang, base_context
from app.web.templating import render, tr

router = domain_router(include_in_schema=False)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: never an open redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


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
    trend_points = [
        (
            item.submitted_at.strftime("%Y-%m-%d") if item.submitted_at else "",
            None if item.overall is None else Decimal(str(item.overall)),
        )
        for item in reversed(submitted)
    ]
    context = base_context(request, principal, lang) | {
        "enterprise": enterprise,
        "items": page.items,
        "latest": latest,
        "drafts": [item for item in page.items if item.status == "draft"],
        "trend_svg": charts.trend(trend_points, title=tr(lang, "Overall score over time"))
        if len(trend_points) > 1
        else None,
    }
    return render(request, "pages/dashboard.html", context, lang=lang)
