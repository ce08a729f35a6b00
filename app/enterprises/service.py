"""Enterprises: registration, classification, and who may see which firm."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.enterprises import privacy
from app.enterprises.classification import (
    industrial_size_class,
    is_above_designated_size,
    normalize_credit_code,
)
from app.enterprises.repository import EnterpriseRepository
from app.enterprises.schemas import (
    EnterpriseCreate,
    EnterpriseRegistration,
    ProfileUpdate,
    fen_problems,
)
from app.kit import events
from app.kit.clock import utcnow
from app.kit.db import begin_write
from app.kit.errors import Conflict, FieldError, InvalidInput, NotFound
from app.kit.events import EnterpriseChanged, EnterpriseRevised, EnterpriseVerified
from app.kit.guards import visible_enterprise
from app.kit.principal import Principal
from app.models import Contact, Enterprise, Grant
from scoring.facts import validate_facts


def get_visible(session: Session, principal: Principal, enterprise_id: uuid.UUID) -> Enterprise:
    """The enterprise if the caller may see it (``app.kit.guards.may_see_enterprise``); 404."""
    return visible_enterprise(session, principal, enterprise_id)


def get(session: Session, enterprise_id: uuid.UUID) -> Enterprise:
    """An enterprise the caller already may see (its assessment was visible): no check here."""
    enterprise = EnterpriseRepository(session).get(enterprise_id)
    if enterprise is None:
        raise NotFound("No enterprise with this id.")
    return enterprise


def locked(session: Session, enterprise_id: uuid.UUID) -> Enterprise | None:
    """The firm read under its row lock (``EnterpriseRepository.locked``), for another domain's
    check-then-change of the firm itself; None once it is gone. No visibility check."""
    return EnterpriseRepository(session).locked(enterprise_id)


def find(session: Session, id_or_credit_code: str) -> Enterprise | None:
    """The enterprise with this id, or this credit code (as people type it), for the CLI."""
    repository = EnterpriseRepository(session)
    try:
        return repository.get(uuid.UUID(id_or_credit_code))
    except ValueError:
        return repository.get_by_credit_code(normalize_credit_code(id_or_credit_code))


def build_enterprise(data: EnterpriseCreate) -> Enterprise:
    return Enterprise(
        credit_code=data.credit_code,
        name=data.name,
        district_code=data.district_code,
        industry_code=data.industry_code,
        employees=data.employees,
        annual_revenue_cny=data.annual_revenue_cny,
        size_class=industrial_size_class(data.employees, data.annual_revenue_cny),
        above_designated_size=is_above_designated_size(data.annual_revenue_cny),
        facts={},
    )


def add_enterprise(session: Session, principal: Principal, data: EnterpriseCreate) -> Enterprise:
    repository = EnterpriseRepository(session)
    if repository.get_by_credit_code(data.credit_code) is not None:
        raise Conflict(
            "An enterprise with this credit code is already registered.",
            errors=[FieldError("body.credit_code", "already registered", "duplicate")],
        )
    enterprise = repository.add(build_enterprise(data))
    audit.record(
        session,
        principal,
        "enterprise.create",
        "enterprise",
        enterprise.id,
        enterprise_id=enterprise.id,
    )
    return enterprise


def register_by_principal(
    session: Session, principal: Principal, data: EnterpriseRegistration
) -> Enterprise:
    """An admin or an integrator registers a firm. An integrator must bring the firm's consent;
    it then holds a grant, and its attestation is recorded (``attested_at``); the firm counts in
    heatmaps only once an admin or its district official confirms it (issue #16: padding)."""
    if principal.is_integrator and data.consent is None:
        raise InvalidInput(
            "An integrator registering a firm must record the firm's consent.",
            errors=[
                FieldError(
                    "body.consent", "required when an integrator registers a firm", "missing"
                )
            ],
        )
    enterprise = add_enterprise(session, principal, data)
    if principal.is_integrator and principal.id is not None and data.consent is not None:
        now = utcnow()
        enterprise.attested_at = now
        enterprise.registered_by_client_id = principal.id
        EnterpriseRepository(session).add_grant(
            Grant(
                enterprise_id=enterprise.id,
                client_id=principal.id,
                method="registration",
                evidence=data.consent.model_dump(mode="json"),
                granted_at=now,
            )
        )
        audit.record(
            session,
            principal,
            "grant.create",
            "enterprise",
            enterprise.id,
            enterprise_id=enterprise.id,
            detail={"method": "registration"},
        )
    return enterprise


class ProfileColumns(NamedTuple):
    """The enterprise's columns :func:`scoring_profile` reads, when read without the rest."""

    facts: dict[str, Any] | None
    district_code: str
    industry_code: str
    size_class: str
    above_designated_size: bool
    employees: int
    annual_revenue_cny: Decimal


def scoring_profile(enterprise: Enterprise | ProfileColumns) -> dict[str, object]:
    """The enterprise as conditions see it (``profile.<field>``): registered facts plus
    the declared optional facts. A stored fact the rules no longer accept (declared before a
    bound was set, such as a money fact above ``scoring.facts.MAX_MONEY_CNY``) counts as not
    declared: matching then asks for it instead of computing from it."""
    declared = enterprise.facts or {}
    accepted, _refused = validate_facts(declared)
    return {
        **{name: value for name, value in declared.items() if name in accepted},
        "district_code": enterprise.district_code,
        "industry_code": enterprise.industry_code,
        "size_class": enterprise.size_class,
        "above_designated_size": enterprise.above_designated_size,
        "employees": enterprise.employees,
        "annual_revenue_cny": enterprise.annual_revenue_cny,
    }


def _stored_number(value: object) -> object:
    """Facts are stored as JSON: a Decimal becomes an int when whole, else its shortest float
    (which reads back as the same Decimal)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def checked_facts(facts: Mapping[str, object]) -> tuple[dict[str, object], list[FieldError]]:
    """The declared facts that are valid, and a problem per fact that is not (a fraction of a
    fen has its own code, ``FRACTION_OF_A_FEN``): what :func:`update_facts` checks before it
    saves, for a form that also has fields it could not read to report all at once."""
    clean, problems = validate_facts(facts)
    return clean, [
        FieldError(f"body.facts.{name}", message) for name, message in problems.items()
    ] + fen_problems(clean)


def update_facts(
    session: Session, principal: Principal, enterprise_id: uuid.UUID, facts: dict[str, object]
) -> Enterprise:
    """Declare, change (or with null, remove) optional facts; all valid or none saved."""
    enterprise = get_visible(session, principal, enterprise_id)
    clean, errors = checked_facts(facts)
    if errors:
        raise InvalidInput(
            "Some facts are not valid; none was saved: %(facts)s",
            facts=", ".join(sorted(e.field.removeprefix("body.facts.") for e in errors)),
            errors=errors,
        )
    merged = {k: v for k, v in (enterprise.facts or {}).items() if k not in facts}
    merged.update({name: _stored_number(value) for name, value in clean.items()})
    enterprise.facts = merged
    # Not the profile: ``revision`` (what the stored reports were made from) stays, since no
    # report shows the facts (its subsidy advice is the one stored at submission).
    audit.record(
        session,
        principal,
        "enterprise.facts",
        "enterprise",
        enterprise.id,
        enterprise_id=enterprise.id,
        detail={"facts": sorted(facts)},
    )
    session.flush()
    return enterprise


def update_profile(
    session: Session, principal: Principal, enterprise_id: uuid.UUID, data: ProfileUpdate
) -> Enterprise:
    """The firm's owner (or an admin) corrects its registered facts; the size class follows.
    When the district, industry or size class changes, the heatmap sums move the firm's history
    (``enterprise.changed``) in the same transaction, and a confirmed firm's confirmation lapses
    unless an admin made the change: it vouched for the firm where it was registered (a district
    official confirmed it there), and a confirmed firm that moved district, division or size
    counted at once in cells no one had confirmed it for (padding another district's cells).

    The firm is read under its row lock: a confirmation at the same moment (an official on
    another app instance) comes either before this change, which then sees it and lets it lapse,
    or after it, and finds the firm where it now is. Read without the lock, both went through:
    the firm moved district still confirmed, and its history stayed in the old cells."""
    begin_write(session)
    EnterpriseRepository(session).locked(enterprise_id)
    enterprise = get_visible(session, principal, enterprise_id)
    if not (
        principal.is_admin or (principal.is_firm_owner and principal.enterprise_id == enterprise_id)
    ):
        raise NotFound("Only the firm's owner may change its profile.")
    before = (enterprise.district_code, enterprise.industry_code, enterprise.size_class)
    printed = enterprise.in_reports()
    changed = {
        name
        for name in ("name", "district_code", "industry_code", "employees", "annual_revenue_cny")
        if getattr(enterprise, name) != getattr(data, name)
    }
    if not changed:
        return enterprise
    enterprise.name = data.name
    enterprise.district_code = data.district_code
    enterprise.industry_code = data.industry_code
    enterprise.employees = data.employees
    enterprise.annual_revenue_cny = data.annual_revenue_cny
    enterprise.size_class = industrial_size_class(data.employees, data.annual_revenue_cny)
    enterprise.above_designated_size = is_above_designated_size(data.annual_revenue_cny)
    revised = enterprise.in_reports() != printed
    if revised:
        enterprise.revision += 1
    session.flush()
    moved = (enterprise.district_code, enterprise.industry_code, enterprise.size_class) != before
    if moved:
        events.publish(session, EnterpriseChanged(enterprise))
    lapsed = moved and enterprise.verified and not principal.is_admin
    if lapsed:
        enterprise.clear_verification()
        enterprise.verification_changed_at = utcnow()
        session.flush()
        events.publish(session, EnterpriseVerified(enterprise, True))
    if revised:
        events.publish(session, EnterpriseRevised(enterprise))
    detail: dict[str, object] = {"fields": sorted(changed)}
    if lapsed:
        detail["verification"] = "lapsed"
    audit.record(
        session,
        principal,
        "enterprise.profile",
        "enterprise",
        enterprise.id,
        enterprise_id=enterprise.id,
        detail=detail,
    )
    return enterprise


def contacts(session: Session, principal: Principal, enterprise_id: uuid.UUID) -> list[Contact]:
    """The firm's contact persons (its own users and admins)."""
    return privacy.list_contacts(session, principal, enterprise_id)
