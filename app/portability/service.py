"""Building a firm's export: everything it may take elsewhere, in words it can read.

The JSON (``EnterpriseExport``, format ``zhizao-enterprise-export/3``, docs/export.md) holds the
profile with its confirmation, the firm's people and contact persons, every assessment with its
answers (stored value and words), its baseline KPIs and its result as computed at submission,
the grants and the consent records, and what each integrator was given of it (score-feed entries,
webhook events). Its owners' (and admins') export adds what only owners see in the app: the
requests to join the firm, its invitations, the mails about it to its people and its audit trail.
The CSV has one row per answer and per KPI of every assessment, UTF-8 with a byte-order mark (so
that Excel reads the Chinese). Each export is audited.

Never part of it: secrets (password hashes, session and link tokens, the links of invitation and
reset mails, API keys, webhook secrets), another firm's rows, integrators' own data (their
endpoints' addresses and answers, their feed numbers, their notices) and notes made about the
firm for review (a flag's reason).
"""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.accounts import service as accounts_service
from app.assessments import service as assessment_service
from app.audit import service as audit
from app.enterprises import data as enterprise_data
from app.enterprises import service as enterprise_service
from app.integrators import service as integrator_service
from app.kit.clock import utcnow
from app.kit.guards import require_firm_member
from app.kit.i18n import N_, Lang, tr
from app.kit.principal import Principal
from app.kit.reference import DISTRICTS, INDUSTRIES
from app.models import AuditEvent, WebhookDelivery
from app.portability.repository import ExportRepository
from app.portability.schemas import (
    EXPORT_FORMAT,
    ConsentRecord,
    EnterpriseExport,
    ExportedAnswer,
    ExportedAssessment,
    ExportedAuditEvent,
    ExportedClaim,
    ExportedContact,
    ExportedDelivery,
    ExportedFeedEntry,
    ExportedGrant,
    ExportedInvitation,
    ExportedKpi,
    ExportedMail,
    ExportedMember,
    ExportedProfile,
)
from app.questionnaires.catalog import QuestionnaireCatalog
from scoring import Questionnaire

#: The CSV's columns (English; the header row is translated).
CSV_COLUMNS = (
    ("assessment_id", N_("Assessment")),
    ("questionnaire", N_("Questionnaire")),
    ("version", N_("Version")),
    ("status", N_("Status")),
    ("submitted_at", N_("Submitted at (UTC)")),
    ("overall", N_("Overall score")),
    ("rung", N_("Rung")),
    ("stage", N_("Stage")),
    ("question_id", N_("Question id")),
    ("question", N_("Question")),
    ("value", N_("Stored value")),
    ("answer", N_("Answer")),
)


#: What of an audit entry's detail the export shows: the firm's own ids, names and counts of what
#: was done (question and fact ids, fields changed, the rung reached). Left out: ``reason`` (an
#: official's or administrator's note flagging the firm for review, free text that may name
#: anyone), ``result_id`` (a number counting every firm's results), ``user_id`` and ``client_id``
#: (the export names people and integrators instead), and every key added later until it is
#: listed here.
AUDIT_DETAIL_SHOWN = frozenset(
    {
        "assessments",
        "cleared",
        "contacts",
        "facts",
        "fields",
        "firm_role",
        "format",
        "method",
        "prefilled_answers",
        "questionnaire",
        "questions",
        "role",
        "rung",
        "to_named_address",
        "verification",
        "version",
    }
)


def answer_words(questionnaire: Questionnaire, question_id: str, value: Any, lang: Lang) -> str:
    """An answer as a reader says it: option texts, the number with its unit, "n/a"."""
    question = questionnaire.find_question(question_id)
    if value == "n/a":
        return tr(lang, "not applicable")
    if question is None:
        return str(value)
    if isinstance(value, list):
        texts = [o.text.get(lang) if (o := question.option(v)) else str(v) for v in value]
        return "; ".join(texts)
    if isinstance(value, str):
        option = question.option(value)
        return option.text.get(lang) if option is not None else value
    unit = question.unit.get(lang) if question.unit is not None else ""
    return f"{value} {unit}".strip()


def _assessment(
    session: Session,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    assessment_id: uuid.UUID,
    lang: Lang,
) -> ExportedAssessment:
    assessment = assessment_service.get_visible(session, principal, assessment_id)
    questionnaire = assessment_service.questionnaire_of(catalog, assessment)
    values = assessment_service.answers(session, assessment)
    answers = []
    for stage in questionnaire.stages:
        for question in stage.questions:
            if question.id in values:
                answers.append(
                    ExportedAnswer(
                        stage_id=stage.id,
                        stage=stage.title.get(lang),
                        question_id=question.id,
                        question=question.text.get(lang),
                        value=values[question.id],
                        answer=answer_words(questionnaire, question.id, values[question.id], lang),
                    )
                )
    recorded = assessment_service.kpi_values(session, assessment)
    kpis = [
        ExportedKpi(
            kpi_id=kpi.id,
            text=kpi.text.get(lang),
            value=float(recorded[kpi.id]),
            unit=kpi.unit.get(lang),
            better=kpi.better,
        )
        for kpi in questionnaire.kpis
        if kpi.id in recorded
    ]
    result = (
        assessment_service.get_result(session, principal, catalog, assessment.id, lang)
        if assessment.status == "submitted"
        else None
    )
    return ExportedAssessment(
        id=assessment.id,
        questionnaire_id=assessment.questionnaire_id,
        questionnaire_version=assessment.questionnaire_version,
        questionnaire_title=questionnaire.title.get(lang),
        status=assessment.status,
        created_at=assessment.created_at,
        submitted_at=assessment.submitted_at,
        answers=answers,
        kpis=kpis,
        result=result.model_dump(mode="json", exclude={"questionnaire"}) if result else None,
    )


def export(
    session: Session,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    enterprise_id: uuid.UUID,
    lang: Lang,
) -> EnterpriseExport:
    """Everything the firm may take elsewhere (its own users and admins; audited)."""
    require_firm_member(session, principal, enterprise_id)
    enterprise = enterprise_service.get_visible(session, principal, enterprise_id)
    district = DISTRICTS.get(enterprise.district_code)
    industry = INDUSTRIES.get(enterprise.industry_code)
    ids: list[uuid.UUID] = []
    cursor: str | None = None
    while True:
        page = assessment_service.history(
            session, principal, catalog, enterprise_id, cursor=cursor, limit=200, lang=lang
        )
        ids.extend(item.id for item in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    grants = integrator_service.list_grants(session, principal, enterprise_id)
    names = {str(g.client.id): g.client.name for g in grants}
    people = accounts_service.members(session, principal, enterprise_id)
    emails = {str(user.id): user.email for user in people}
    # What only the firm's owners see in the app (they decide requests to join, invite, get the
    # firm's mail): who may delete the whole firm may read all of it; a member may not.
    owners = enterprise_data.may_delete(principal, enterprise_id)
    # A member's export needs only the consent records of the trail.
    trail = audit.firm_history(session, principal, enterprise_id, None if owners else "grant.")
    records = [
        ConsentRecord(
            at=event.at,
            action="granted" if event.action == "grant.create" else "revoked",
            integrator=names.get(_consent_client(event), "") or _consent_client(event),
            method=event.detail.get("method"),
            by=event.actor_type,
        )
        for event in trail
        if event.action in ("grant.create", "grant.revoke")
    ]
    stored = ExportRepository(session)
    body = EnterpriseExport(
        format=EXPORT_FORMAT,
        exported_at=utcnow(),
        language=lang,
        enterprise=ExportedProfile(
            id=enterprise.id,
            credit_code=enterprise.credit_code,
            name=enterprise.name,
            district_code=enterprise.district_code,
            district=district.name(lang) if district else enterprise.district_code,
            industry_code=enterprise.industry_code,
            industry=industry.name(lang) if industry else enterprise.industry_code,
            employees=enterprise.employees,
            annual_revenue_cny=float(Decimal(enterprise.annual_revenue_cny)),
            size_class=enterprise.size_class,
            above_designated_size=enterprise.above_designated_size,
            verified=enterprise.verified,
            verified_method=enterprise.verified_method,
            verified_at=enterprise.verified_at,
            attested_at=enterprise.attested_at,
            facts=dict(enterprise.facts or {}),
            registered_at=enterprise.created_at,
        ),
        members=[
            ExportedMember(
                email=user.email,
                display_name=user.display_name,
                firm_role=user.firm_role,
                joined_at=user.created_at,
                last_login_at=user.last_login_at,
                locale=user.locale,
                active=user.is_active,
            )
            for user in people
        ],
        contacts=[
            ExportedContact(
                name=c.name, phone=c.phone, email=c.email, role=c.role, retain_until=c.retain_until
            )
            for c in enterprise_service.contacts(session, principal, enterprise_id)
        ],
        assessments=[_assessment(session, principal, catalog, i, lang) for i in ids],
        grants=[
            ExportedGrant(
                integrator=g.client.name,
                method=g.method,
                evidence=g.evidence,
                granted_at=g.granted_at,
                revoked_at=g.revoked_at,
                active=g.active,
            )
            for g in grants
        ],
        consent_records=records,
        feed_entries=[
            ExportedFeedEntry(
                integrator=name, assessment_id=entry.assessment_id, at=entry.created_at
            )
            for entry, name in stored.feed_entries(enterprise_id)
        ],
        webhook_deliveries=[_delivery(d, name) for d, name in stored.deliveries(enterprise_id)],
        access_claims=[
            ExportedClaim(
                requested_at=c.created_at,
                email=c.email,
                display_name=c.display_name,
                message=c.message,
                status=c.status,
                reason=c.reason,
                decided_at=c.decided_at,
            )
            for c in stored.claims(enterprise_id)
        ]
        if owners
        else None,
        invitations=[
            ExportedInvitation(
                email=i.email,
                firm_role=i.firm_role,
                created_at=i.created_at,
                expires_at=i.expires_at,
                accepted_at=i.accepted_at,
                withdrawn_at=i.revoked_at,
            )
            for i in stored.invitations(enterprise_id)
        ]
        if owners
        else None,
        mails=[
            ExportedMail(
                to=m.to_address,
                kind=m.kind,
                subject=m.subject,
                # A secret message's body holds a link that grants something (until it is
                # sent, or used): it never leaves the outbox but to its addressee.
                body=None if m.secret else m.body,
                status=m.status,
                queued_at=m.created_at,
                sent_at=m.sent_at,
            )
            for m in stored.mails(enterprise_id, sorted(emails.values()))
        ]
        if owners
        else None,
        audit_trail=[_audit_entry(event, emails, names) for event in trail] if owners else None,
    )
    audit.record(
        session,
        principal,
        "enterprise.export",
        "enterprise",
        enterprise_id,
        enterprise_id=enterprise_id,
        detail={"format": EXPORT_FORMAT, "assessments": len(ids)},
    )
    return body


def _delivery(delivery: WebhookDelivery, integrator: str) -> ExportedDelivery:
    """What the firm may know of an event sent about it: to whom, what, when and whether it
    arrived; not the integrator's endpoint, its answers, or the payload (the firm has its results;
    the payload's ``seq`` numbers the integrator's whole feed, other firms' results included)."""
    data = delivery.payload.get("data") or {}
    sent_about = (
        data.get("assessment_id") if delivery.event_type == "assessment.submitted" else None
    )
    return ExportedDelivery(
        integrator=integrator,
        event=delivery.event_type,
        assessment_id=uuid.UUID(sent_about) if sent_about else None,
        queued_at=delivery.created_at,
        status=delivery.status,
        delivered_at=delivery.delivered_at,
    )


def _audit_entry(
    event: AuditEvent, emails: dict[str, str], integrators: dict[str, str]
) -> ExportedAuditEvent:
    """An entry as the firm reads it: the acting person by e-mail when it is one of its people
    (nobody else's id: an administrator's, an official's, another firm's user's), and only the
    detail ``AUDIT_DETAIL_SHOWN`` lists, with the integrator of a grant by name."""
    detail = {k: v for k, v in event.detail.items() if k in AUDIT_DETAIL_SHOWN}
    if event.action.startswith("grant."):
        client = _consent_client(event)
        detail["integrator"] = integrators.get(client, client)
    member = emails.get(event.actor_id or "") if event.actor_type == "user" else None
    return ExportedAuditEvent(
        at=event.at,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        by=event.actor_type,
        member=member,
        detail=detail,
    )


def _consent_client(event: AuditEvent) -> str:
    """The id of the integrator a consent event is about: named in its detail, or (the grant
    recorded when an integrator registered the firm) the integrator that acted."""
    client = event.detail.get("client_id")
    if client is None and event.actor_type == "api_client":
        client = event.actor_id
    return str(client or event.actor_id or "")


def to_csv(body: EnterpriseExport, lang: Lang) -> str:
    """One row per answer of every assessment (a draft's answers too), then one per recorded
    baseline KPI (its stage column says so), with a header row in ``lang``; starts with a
    byte-order mark so that spreadsheets read it as UTF-8."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([tr(lang, label) for _, label in CSV_COLUMNS])
    status = {"draft": tr(lang, "draft"), "submitted": tr(lang, "submitted")}
    kpi_stage = tr(lang, "Baseline figures")
    for assessment in body.assessments:
        result = assessment.result or {}
        head = [
            assessment.id,
            assessment.questionnaire_title,
            assessment.questionnaire_version,
            status[assessment.status],
            assessment.submitted_at.isoformat() if assessment.submitted_at else "",
            _number(result.get("overall")),
            _number(result.get("rung")),
        ]
        for answer in assessment.answers:
            value = answer.value if not isinstance(answer.value, list) else ";".join(answer.value)
            writer.writerow(
                [*head, answer.stage, answer.question_id, answer.question, value, answer.answer]
            )
        for kpi in assessment.kpis:
            figure = f"{Decimal(str(kpi.value)).normalize():f}"
            writer.writerow(
                [*head, kpi_stage, kpi.kpi_id, kpi.text, figure, f"{figure} {kpi.unit}"]
            )
    return out.getvalue()


def _number(value: object) -> str:
    return "" if value is None else f"{Decimal(str(value)):.2f}"
