"""Finding a report the caller may see, and building its view-model. Services never commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.assessments import service as assessments
from app.enterprises import service as enterprise_service
from app.kit.errors import NotFound
from app.kit.i18n import Lang
from app.kit.principal import Principal
from app.kit.settings import Settings
from app.models import Assessment, Enterprise
from app.questionnaires.catalog import QuestionnaireCatalog
from app.reports.context import ReportContext, build_report_context
from app.reports.pdf import ReportKey, template_version
from app.results import service as results
from scoring import Questionnaire


@dataclass(frozen=True, slots=True)
class LocatedReport:
    """A report the caller may see, and its cache key (found without reading the result, so a
    cached PDF is served with two queries)."""

    assessment: Assessment
    enterprise: Enterprise
    questionnaire: Questionnaire
    key: ReportKey
    #: For the questionnaires of the firm's other submissions (the KPI before/after).
    catalog: QuestionnaireCatalog


def locate(
    session: Session,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    assessment_id: uuid.UUID,
    lang: Lang,
) -> LocatedReport:
    """The report of a submitted assessment the caller may see; 404 otherwise (design §7)."""
    assessment = assessments.get_visible(session, principal, assessment_id)
    if assessment.status != "submitted":
        raise NotFound("This assessment has no report yet: submit it first.")
    enterprise = enterprise_service.get(session, assessment.enterprise_id)
    return LocatedReport(
        assessment=assessment,
        enterprise=enterprise,
        questionnaire=assessments.questionnaire_of(catalog, assessment),
        key=ReportKey(
            assessment_id=assessment.id,
            assessment_version=assessment.version,
            lang=lang,
            template_version=template_version(),
            enterprise_revision=enterprise.revision,
        ),
        catalog=catalog,
    )


def context_for(
    session: Session, settings: Settings, located: LocatedReport, lang: Lang
) -> ReportContext:
    result = results.of_assessment(session, located.assessment)
    if result is None:  # submitted without a result: cannot happen (one transaction)
        raise NotFound("This assessment has no result.")
    return build_report_context(
        session,
        settings,
        located.questionnaire,
        located.assessment,
        result,
        located.enterprise,
        lang,
        kpis=assessments.kpi_comparisons(session, located.catalog, located.enterprise.id, lang).get(
            located.assessment.id, []
        ),
    )
