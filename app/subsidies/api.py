from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field

from app.assessments import service as assessment_service
from app.enterprises import service as enterprise_service
from app.kit.clock import shanghai_date
from app.kit.db import SessionDep
from app.kit.errors import NotFound
from app.kit.guards import PUBLIC_OPERATION, scoped
from app.kit.i18n import Lang, LangDep
from app.kit.principal import Principal
from app.kit.routing import domain_router
from app.questionnaires.service import CatalogDep
from app.results import service as results
from app.results.schemas import SourceRead, SubsidyAdviceRead, ValidityRead
from app.subsidies import service
from app.subsidies.catalog import SubsidyCatalog
from scoring import subsidies as engine
from scoring.subsidies import Kind

router = domain_router(tags=["subsidies"])


def get_subsidy_catalog(request: Request) -> SubsidyCatalog:
    catalog: SubsidyCatalog = request.app.state.subsidies
    return catalog


SubsidyCatalogDep = Annotated[SubsidyCatalog, Depends(get_subsidy_catalog)]


class Programme(BaseModel):
    """A support programme (format 2): its validity, scope, stacking rule, source and how sure
    the catalogue is of it (``confidence``, and per parameter in ``benefit.confidence``)."""

    format: int
    id: str
    name: str
    issuer: str
    level: Literal["national", "municipal", "district"]
    region: str
    kind: str
    summary: str
    benefit: dict[str, Any]
    valid_from: str | None
    valid_until: str | None
    last_confirmed: str | None = Field(
        description="The newest date a cited source shows it in force (ongoing programmes)."
    )
    validity: ValidityRead = Field(
        description="Its dates, and read on today's date (Shanghai) as matching reads them: "
        "state, stale (last confirmed more than 12 months before today: whether it is still in "
        "force is to confirm) and text."
    )
    window: Literal["open", "upcoming", "closed", "unknown"] = Field(
        description="On today's date (Shanghai); unknown: no source confirms the programme is "
        "still in force, or it is an annual call (validity.status annual) whose application "
        "window this year is not known (to confirm with the issuer)."
    )
    scope: dict[str, Any]
    eligibility: list[str]
    to_confirm: list[dict[str, Any]]
    stacking: dict[str, Any] | None
    funds: dict[str, Any]
    recommendations: list[str]
    source: SourceRead
    confidence: Literal["verified", "secondary", "unverified"]
    confidence_note: str
    notes: str | None


def _entry(programme: engine.Programme, today: date, lang: Lang) -> Programme:
    """The catalogue entry on ``today``. Its validity is read on that day as matching reads it
    (``state``, ``stale``, ``text``): an entry no source has confirmed for over 12 months says
    so beside its window (an ongoing programme's window reads "open" for as long as no source
    ends it)."""
    return Programme(
        **programme.to_dict(lang) | {"validity": programme.validity.check(today).to_dict(lang)},
        window=programme.window_status(today),
    )


class AssessmentSubsidies(BaseModel):
    assessment_id: uuid.UUID
    status: Literal["draft", "submitted"]
    as_submitted: SubsidyAdviceRead | None = Field(
        description="The advice given at submission (null for a draft)."
    )
    today: SubsidyAdviceRead = Field(
        description="The same answers and scores matched against today's "
        "catalogue and the firm's current facts."
    )


@router.get(
    "/subsidies",
    operation_id="subsidies_list",
    openapi_extra=PUBLIC_OPERATION,
    response_model=list[Programme],
    summary="The support programme catalogue, with filters",
)
def list_subsidies(
    catalog: SubsidyCatalogDep,
    lang: LangDep,
    level: Annotated[Literal["national", "municipal", "district"] | None, Query()] = None,
    kind: Annotated[Kind | None, Query()] = None,
    district_code: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="Programmes open to firms there.")
    ] = None,
    window: Annotated[Literal["open", "upcoming", "closed", "unknown"] | None, Query()] = None,
) -> list[Programme]:
    today = shanghai_date()
    items = []
    for programme in catalog.programmes:
        status = programme.window_status(today)
        if level and programme.level != level or kind and programme.kind != kind:
            continue
        if window and status != window:
            continue
        if district_code and programme.level == "district" and programme.region != district_code:
            continue
        items.append(_entry(programme, today, lang))
    return items


@router.get(
    "/subsidies/{programme_id}",
    operation_id="subsidies_get",
    openapi_extra=PUBLIC_OPERATION,
    response_model=Programme,
    summary="One support programme",
)
def get_subsidy(programme_id: str, catalog: SubsidyCatalogDep, lang: LangDep) -> Programme:
    programme = catalog.get(programme_id)
    if programme is None:
        raise NotFound("No programme with this id.")
    return _entry(programme, shanghai_date(), lang)


@router.get(
    "/assessments/{assessment_id}/subsidies",
    operation_id="assessments_subsidies",
    response_model=AssessmentSubsidies,
    summary="Matched, nearly matched and other programmes: at submission and today",
)
def assessment_subsidies(
    assessment_id: uuid.UUID,
    session: SessionDep,
    principal: Annotated[Principal, Depends(scoped("assessments:read"))],
    questionnaires: CatalogDep,
    catalog: SubsidyCatalogDep,
    lang: LangDep,
) -> AssessmentSubsidies:
    assessment = assessment_service.get_visible(session, principal, assessment_id)
    answers = assessment_service.answers(session, assessment)
    enterprise = enterprise_service.get_visible(session, principal, assessment.enterprise_id)
    profile = enterprise_service.scoring_profile(enterprise)
    today = shanghai_date()
    result = results.of_assessment(session, assessment)
    if result is None:
        questionnaire = assessment_service.questionnaire_of(questionnaires, assessment)
        draft = service.draft_advice(catalog.programmes, questionnaire, profile, answers, today)
        return AssessmentSubsidies.model_validate(
            {
                "assessment_id": assessment.id,
                "status": "draft",
                "as_submitted": None,
                "today": results.advice_payload(draft, None, lang),
            }
        )
    assert assessment.submitted_at is not None
    now = service.advise(catalog.programmes, profile, answers, results.exact(result), today)
    kept = results.advice(result, lang)
    kept["on"] = kept["on"] or shanghai_date(assessment.submitted_at).isoformat()
    return AssessmentSubsidies.model_validate(
        {
            "assessment_id": assessment.id,
            "status": "submitted",
            "as_submitted": kept,
            "today": results.advice_payload(now, results.roadmap(result, lang), lang),
        }
    )
