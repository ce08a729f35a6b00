"""Finding a report the caller may see, building its view-model, and the stored PDFs (the
database holds them, so every app instance serves one rendered anywhere). Services never
commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.assessments import service as assessments
from app.enterprises import service as enterprise_service
from app.kit.clock import utcnow
from app.kit.errors import NotFound
from app.kit.i18n import LANGS, Lang
from app.kit.principal import Principal
from app.kit.settings import Settings
from app.models import Assessment, Enterprise, ReportJob
from app.questionnaires.catalog import QuestionnaireCatalog
from app.reports.context import ReportContext, build_report_context
from app.reports.pdf import ReportKey, template_version
from app.reports.repository import ReportRepository
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
    return _located(session, catalog, assessment, lang)


def _located(
    session: Session, catalog: QuestionnaireCatalog, assessment: Assessment, lang: Lang
) -> LocatedReport:
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


def locate_for_worker(
    session: Session, catalog: QuestionnaireCatalog, assessment_id: uuid.UUID, lang: Lang
) -> LocatedReport | None:
    """The report of a submitted assessment, for the worker (no caller: the job was queued by
    the submission itself); None if the assessment is gone or not submitted."""
    assessment = assessments.get(session, assessment_id)
    if assessment is None or assessment.status != "submitted":
        return None
    return _located(session, catalog, assessment, lang)


# --- the stored PDFs --------------------------------------------------------------------------


def stored(session: Session, key: ReportKey) -> bytes | None:
    """The stored PDF of this key, or None (never rendered, or rendered from older content)."""
    return ReportRepository(session).stored_pdf(key.assessment_id, key.lang, key.content_version)


def is_stored(session: Session, key: ReportKey) -> bool:
    return ReportRepository(session).has_pdf(key.assessment_id, key.lang, key.content_version)


def store(session: Session, located: LocatedReport, pdf: bytes) -> None:
    """Keep the PDF for every app instance, replacing an older one of the same language."""
    ReportRepository(session).store_pdf(
        assessment_id=located.assessment.id,
        enterprise_id=located.enterprise.id,
        lang=located.key.lang,
        content_version=located.key.content_version,
        pdf=pdf,
        rendered_at=utcnow(),
    )


#: How far apart the refreshes of stale reports fall due (``queue_refreshes``).
REFRESH_SPACING = timedelta(seconds=2)


def queue_refreshes(
    session: Session, *, enterprise_id: uuid.UUID | None = None, now: datetime | None = None
) -> int:
    """Queue a render for every stored PDF that is stale, of one firm or of all; returns how
    many were queued.

    A stored PDF goes stale when the firm's revision goes up (a new name or other profile
    change: ``enterprise.revised``) or when a deployment changes the report's templates, code
    or translations (``template_version``: the worker looks once when it starts). Without
    this, the next GET of each such report rendered it in the request. A report whose job is
    already pending is left alone.

    The rule for the order: one firm's reports (a handful) all fall due now. Of all firms',
    the newest-rendered stale report falls due now and each next one ``REFRESH_SPACING``
    later: the outbox takes due jobs oldest first, so while a render takes less than the
    spacing (0.4-1.4 s measured, docs/benchmarks.md), a submission made during that backlog
    waits for at most one of them, not for all."""
    repository = ReportRepository(session)
    pending = repository.pending_jobs(enterprise_id)
    now = now or utcnow()
    spacing = REFRESH_SPACING if enterprise_id is None else timedelta(0)
    queued = 0
    for stored_pdf in repository.stored_versions(enterprise_id):
        current = ReportKey(
            assessment_id=stored_pdf.assessment_id,
            assessment_version=stored_pdf.assessment_version,
            lang=stored_pdf.lang,
            template_version=template_version(),
            enterprise_revision=stored_pdf.enterprise_revision,
        )
        if current.content_version == stored_pdf.content_version:
            continue
        if (stored_pdf.assessment_id, stored_pdf.lang) in pending:
            continue
        repository.add_job(
            ReportJob(
                assessment_id=stored_pdf.assessment_id,
                enterprise_id=stored_pdf.enterprise_id,
                lang=stored_pdf.lang,
                next_attempt_at=now + queued * spacing,
            )
        )
        queued += 1
    session.flush()  # the sessions do not autoflush: a second call must see these as pending
    return queued


def queue_renders(session: Session, assessment: Assessment) -> None:
    """Queue the report in every language for the worker (``app.reports.worker``), in the
    submission's transaction: the first GET then finds it stored."""
    repository = ReportRepository(session)
    for lang in LANGS:
        repository.add_job(
            ReportJob(
                assessment_id=assessment.id, enterprise_id=assessment.enterprise_id, lang=lang
            )
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
