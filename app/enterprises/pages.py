"""Pages: the enterprise's settings — profile, integrator access, export, deletion."""

from __future__ import annotations

from decimal import InvalidOperation
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from app.enterprises import data as data_service
from app.enterprises import service
from app.enterprises.schemas import FRACTION_OF_A_FEN, ProfileUpdate, cny_from_wan, wan_from_cny
from app.integrators import service as integrator_service
from app.kit.db import SessionDep
from app.kit.errors import NotFound
from app.kit.guards import SESSION_COOKIE
from app.kit.i18n import N_, Lang, tr
from app.kit.principal import Principal
from app.kit.reference import DISTRICTS, INDUSTRIES
from app.kit.routing import domain_router
from app.kit.web.deps import EnterpriseUser, FirmPost, PageLang, base_context, form_str
from app.kit.web.flash import flash_message, flash_redirect
from app.kit.web.forms import form_errors, typed_number
from app.kit.web.templating import render
from scoring.facts import FACTS, FACTS_BY_NAME

router = domain_router(include_in_schema=False)


def _settings_page(
    request: Request,
    session: Any,
    principal: Principal,
    lang: Lang,
    *,
    delete_error: str | None = None,
    fact_values: dict[str, str] | None = None,
    fact_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    enterprise = service.get_visible(session, principal, principal.own_enterprise_id)
    grants = integrator_service.list_grants(session, principal, enterprise.id)
    granted = {g.client.id for g in grants if g.active}
    directory = [
        c
        for c in integrator_service.integrator_directory(session, principal)
        if c.id not in granted
    ]
    context = base_context(request, principal, lang) | {
        "enterprise": enterprise,
        "district": DISTRICTS.get(enterprise.district_code),
        "industry": INDUSTRIES.get(enterprise.industry_code),
        "grants": grants,
        "directory": directory,
        "delete_error": delete_error,
        "may_delete": data_service.may_delete(principal, enterprise.id),
        "facts": [fact for fact in FACTS if not fact.derived],
        "fact_values": fact_values
        if fact_values is not None
        else {name: _shown(value) for name, value in (enterprise.facts or {}).items()},
        "fact_errors": fact_errors or {},
    }
    return render(request, "pages/settings.html", context, lang=lang, status_code=status_code)


FACTS_SAVED = flash_message(
    "settings.facts", N_("Facts saved. They are used for your next assessment's subsidy matches.")
)
PROFILE_SAVED = flash_message("settings.profile", N_("Profile saved."))
DELETED = flash_message(
    "settings.deleted",
    N_(
        "Your enterprise's data was deleted, with every account of it. The audit trail is kept "
        "(what was done and when, by account id; no answers or contact details)."
    ),
)
PROFILE_LABELS = {
    "name": N_("Company name"),
    "district_code": N_("District"),
    "industry_code": N_("Industry"),
    "employees": N_("Employees"),
    "annual_revenue_wan": N_("Annual revenue"),
}


@router.get("/settings", response_class=HTMLResponse, name="settings")
def settings_page(
    request: Request, session: SessionDep, principal: EnterpriseUser, lang: PageLang
) -> Response:
    return _settings_page(request, session, principal, lang)


def _profile_page(
    request: Request,
    session: Any,
    principal: Principal,
    lang: Lang,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    context = base_context(request, principal, lang) | {
        "values": values,
        "errors": errors,
        "labels": {name: tr(lang, label) for name, label in PROFILE_LABELS.items()},
        "districts": list(DISTRICTS.values()),
        "industries": list(INDUSTRIES.values()),
        "with_credit_code": False,
        "may_edit": principal.is_firm_owner,
    }
    return render(request, "pages/profile.html", context, lang=lang, status_code=status_code)


@router.get("/settings/profile", response_class=HTMLResponse, name="profile")
def profile_form(
    request: Request, session: SessionDep, principal: EnterpriseUser, lang: PageLang
) -> Response:
    enterprise = service.get_visible(session, principal, principal.own_enterprise_id)
    values = {
        "name": enterprise.name,
        "district_code": enterprise.district_code,
        "industry_code": enterprise.industry_code,
        "employees": str(enterprise.employees),
        "annual_revenue_wan": wan_from_cny(enterprise.annual_revenue_cny),
    }
    return _profile_page(request, session, principal, lang, values, {})


@router.post("/settings/profile", name="profile_update")
def update_profile(post: FirmPost) -> Response:
    values = {name: post.field(name) for name in PROFILE_LABELS}
    try:
        data = ProfileUpdate(
            name=values["name"],
            district_code=values["district_code"],
            industry_code=values["industry_code"],
            employees=values["employees"],
            annual_revenue_cny=cny_from_wan(values["annual_revenue_wan"]),
        )
    except ValidationError as exc:
        return _profile_page(
            post.request,
            post.session,
            post.principal,
            post.lang,
            values,
            form_errors(post.lang, exc),
            status_code=422,
        )
    service.update_profile(post.session, post.principal, post.enterprise_id, data)
    return flash_redirect(post.request, "/settings", PROFILE_SAVED)


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def parse_facts(form: FormData) -> tuple[dict[str, object], dict[str, str]]:
    """Declared facts from the form (blank: not declared) and the names that cannot be read."""
    values: dict[str, object] = {}
    unreadable: dict[str, str] = {}
    for fact in FACTS:
        if fact.derived:
            continue
        raw = form_str(form, f"fact_{fact.name}").strip()
        if not raw:
            values[fact.name] = None
        elif fact.type == "boolean":
            if raw not in ("true", "false"):  # the form's own two values; anything else is
                unreadable[fact.name] = raw  # no answer of the firm's (it was stored as "no")
                continue
            values[fact.name] = raw == "true"
        elif fact.type == "choice":
            values[fact.name] = raw
        else:
            try:
                values[fact.name] = typed_number(raw)
            except InvalidOperation:
                unreadable[fact.name] = raw
    return values, unreadable


@router.post("/settings/facts", name="facts_update")
def update_facts(post: FirmPost) -> Response:
    """Declare the optional facts subsidy matching and estimates use (investment, R&D, ...)."""
    values, unreadable = parse_facts(post.form)
    number = tr(post.lang, "Not valid: enter a number in the range shown.")
    choose = tr(post.lang, "Choose one of the options shown.")
    fen = tr(post.lang, "Yuan with at most two decimals (fen).")

    def message(name: str) -> str:
        fact = FACTS_BY_NAME.get(name)
        return choose if fact is not None and fact.type in ("boolean", "choice") else number

    # Every field's problem at once: the readable values are checked beside the unreadable ones
    # (a negative figure went unmarked until a typo elsewhere was fixed and the form sent again).
    _clean, problems = service.checked_facts(values)
    errors = {name: message(name) for name in unreadable} | {
        e.field.rsplit(".", 1)[-1]: fen
        if e.code == FRACTION_OF_A_FEN
        else message(e.field.rsplit(".", 1)[-1])
        for e in problems
    }
    if errors:
        return _settings_page(
            post.request,
            post.session,
            post.principal,
            post.lang,
            fact_values={f.name: post.field(f"fact_{f.name}") for f in FACTS},
            fact_errors=errors,
            status_code=422,
        )
    service.update_facts(post.session, post.principal, post.enterprise_id, values)
    return flash_redirect(post.request, "/settings#facts", FACTS_SAVED)


@router.post("/settings/delete", name="delete_data")
def delete(post: FirmPost) -> Response:
    """Delete the firm's data once its owner typed the firm's credit code to confirm."""
    if not data_service.may_delete(post.principal, post.enterprise_id):
        raise NotFound("Only the firm's owner may delete its data.")
    enterprise = service.get_visible(post.session, post.principal, post.enterprise_id)
    typed = post.field("confirm").upper().replace(" ", "")
    if typed != enterprise.credit_code:
        return _settings_page(
            post.request,
            post.session,
            post.principal,
            post.lang,
            delete_error=tr(post.lang, "Type your credit code exactly to confirm the deletion."),
            status_code=422,
        )
    try:
        data_service.delete_data(post.session, post.principal, enterprise.id)  # its stored PDFs too
    except NotFound:  # deleted by a colleague a moment ago
        post.session.rollback()
    response = flash_redirect(post.request, "/", DELETED)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
