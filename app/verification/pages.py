"""The verification page: a district official (or an admin) confirms firms registered in their
district. A plain form per firm; no JavaScript needed."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from app.kit.db import SessionDep
from app.kit.i18n import N_, NC_, Lang, translated
from app.kit.principal import Principal
from app.kit.reference import DISTRICTS, INDUSTRIES
from app.kit.routing import domain_router
from app.kit.web.csrf import check_same_origin
from app.kit.web.deps import FormDep, PageLang, SignedInPage, base_context, form_str
from app.kit.web.flash import flash_message, flash_redirect
from app.kit.web.forms import form_errors
from app.kit.web.templating import render
from app.verification import service
from app.verification.schemas import FlagUpdate

router = domain_router(include_in_schema=False)

SAVED = flash_message("verification.saved", N_("Saved: the firm's verification was changed."))
FLAGGED = flash_message(
    "verification.flagged", N_("Flagged: an admin will look at this firm and decide.")
)
UNFLAGGED = flash_message("verification.unflagged", N_("The flag was cleared."))
#: The page's tabs: ``listing``'s status filter, and the firms flagged for an admin.
STATUSES = ("pending", "verified", "flagged", "all")

TEXT: dict[str, Any] = {
    "title": NC_("verification", "Verify enterprises"),
    "intro": NC_(
        "verification",
        "Confirm that firms registered in your district are real. Only verified firms "
        "count in the heatmaps.",
    ),
    "pending": NC_("verification", "Pending"),
    "verified": NC_("verification", "Verified"),
    "all": NC_("verification", "All"),
    "name": NC_("verification", "Name"),
    "credit_code": NC_("verification", "Credit code"),
    "district": NC_("verification", "District"),
    "industry": NC_("verification", "Industry"),
    "size": NC_("verification", "Size"),
    "status": NC_("verification", "Status"),
    "action": NC_("verification", "Action"),
    "verify": NC_("verification", "Verify"),
    "revoke": NC_("verification", "Withdraw"),
    "flagged": NC_("verification", "Flagged for an admin"),
    "flag": NC_("verification", "Flag for an admin"),
    "flag_reason": NC_("verification", "Why (optional)"),
    "unflag": NC_("verification", "Clear the flag"),
    "synthetic": NC_("verification", "synthetic demo"),
    "none": NC_("verification", "No firms match."),
    "next": NC_("verification", "Next page"),
    "size_class": {
        "micro": NC_("verification", "micro"),
        "small": NC_("verification", "small"),
        "medium": NC_("verification", "medium"),
        "large": NC_("verification", "large"),
    },
    "method": {
        "admin": NC_("verification", "admin"),
        "official": NC_("verification", "district official"),
        "integrator": NC_("verification", "integrator attestation"),
        "synthetic": NC_("verification", "synthetic data"),
    },
}


@router.get("/verification", response_class=HTMLResponse)
def verification_page(
    request: Request, session: SessionDep, principal: SignedInPage, lang: PageLang
) -> HTMLResponse:
    return _listing_page(
        request,
        session,
        principal,
        lang,
        _status(request.query_params.get("status")),
        request.query_params.get("cursor") or None,
    )


def _listing_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    lang: Lang,
    status: str,
    cursor: str | None,
    *,
    refused: tuple[uuid.UUID, str, str] | None = None,
) -> HTMLResponse:
    """The tab ``status`` of the list, from ``cursor``. ``refused``: a flag form that was
    refused (the firm's id, the reason as typed, what is wrong with it), shown open with both
    (422)."""
    page = service.listing(
        session,
        principal,
        status=status if status in ("pending", "verified") else None,
        flagged=True if status == "flagged" else None,
        district_code=None,
        cursor=cursor,
        limit=50,
    )
    context = {
        **base_context(request, principal, lang),
        "T": translated(TEXT, lang),
        "status": status,
        "cursor": cursor or "",
        "page": page,
        "districts": {c: d.name(lang) for c, d in DISTRICTS.items()},
        "industries": {c: i.name(lang) for c, i in INDUSTRIES.items()},
        "may_withdraw": principal.is_admin,
        "refused": refused,
        # The refused firm's row on this tab, if the tab lists it (its form is then open there).
        "refused_firm": None
        if refused is None
        else next((item for item in page.items if item.id == refused[0]), None),
    }
    return render(
        request,
        "verification/list.html",
        context,
        lang=lang,
        status_code=200 if refused is None else 422,
    )


@router.post("/verification/{enterprise_id}")
def verification_submit(
    enterprise_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: SignedInPage,
    form: FormDep,
) -> Response:
    check_same_origin(request)
    service.set_verified(session, principal, enterprise_id, form_str(form, "verified") == "1")
    status = _status(form_str(form, "status"))
    return flash_redirect(request, f"/verification?status={status}", SAVED)


@router.post("/verification/{enterprise_id}/flag")
def verification_flag(
    enterprise_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: SignedInPage,
    lang: PageLang,
    form: FormDep,
) -> Response:
    """Flag a firm for an admin (its district official or an admin), or clear the flag (admins):
    the API's ``PUT /verification/enterprises/{id}/flag`` as a form. A reason the API would
    refuse (a control character, too long) is said at the firm's form, which keeps it (422)."""
    check_same_origin(request)
    status = _status(form_str(form, "status"))
    reason = form_str(form, "reason")
    try:
        update = FlagUpdate(flagged=form_str(form, "flagged") == "1", reason=reason or None)
    except ValidationError as exc:
        # The reason is the one field typed (``flagged`` is read as a yes or no).
        message = next(iter(form_errors(lang, exc).values()))
        cursor = form_str(form, "cursor") or None
        refused = (enterprise_id, reason, message)
        return _listing_page(request, session, principal, lang, status, cursor, refused=refused)
    service.set_flag(session, principal, enterprise_id, update.flagged, update.reason)
    return flash_redirect(
        request, f"/verification?status={status}", FLAGGED if update.flagged else UNFLAGGED
    )


def _status(value: str | None) -> str:
    """The tab asked for; the pending firms when none (or an unknown one) is."""
    return value if value in STATUSES else "pending"
