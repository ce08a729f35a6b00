"""Assessments: create, answer stage by stage under optimistic concurrency, submit, results.

The only caller of the scoring engine for stored assessments. A submitted assessment is
immutable and keeps the result computed at submission.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.assessments.repository import AssessmentRepository, DraftState
from app.assessments.schemas import (
    AnswersUpdate,
    AssessmentCreate,
    AssessmentRead,
    HistoryItem,
    KpiComparison,
    StageProgress,
)
from app.audit import service as audit
from app.enterprises import service as enterprise_service
from app.kit import events, idempotency
from app.kit.clock import shanghai_date, utcnow
from app.kit.conditional import JsonBody, LruCache, json_body
from app.kit.cursor import TIME_UUID, Page, paginate
from app.kit.db import begin_write
from app.kit.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from app.kit.events import AssessmentSubmitted
from app.kit.guards import enterprise_visibility, visibility_of
from app.kit.i18n import Lang
from app.kit.principal import Principal
from app.models import Answer, Assessment, Enterprise
from app.questionnaires import service as questionnaires
from app.questionnaires.catalog import QuestionnaireCatalog
from app.results import service as results
from app.results.schemas import ResultRead
from scoring import (
    AnswerIssue,
    InvalidAnswers,
    Kpi,
    Questionnaire,
    applicable_questions,
    score,
    validate_answers,
)
from scoring.subsidies import Programme
from scoring.subsidy_advice import subsidy_advice

# --- access ----------------------------------------------------------------------------------


def get_visible(
    session: Session,
    principal: Principal,
    assessment_id: uuid.UUID,
    *,
    with_enterprise: bool = False,
) -> Assessment:
    """The assessment if the caller may see its enterprise (design §7); otherwise 404. One
    query: the rule is part of it (``kit.guards.enterprise_visibility``), and the enterprise
    comes with it when the caller needs it (its scoring profile)."""
    assessment = AssessmentRepository(session).get_where(
        assessment_id,
        enterprise_visibility(principal, Assessment.enterprise_id),
        with_enterprise=with_enterprise,
    )
    if assessment is None:
        raise NotFound("No assessment with this id.")
    return assessment


def get(session: Session, assessment_id: uuid.UUID) -> Assessment | None:
    """The assessment, unguarded: for background jobs that act on what a caller already did."""
    return AssessmentRepository(session).get(assessment_id)


def questionnaire_of(
    catalog: QuestionnaireCatalog, assessment: Assessment | DraftState
) -> Questionnaire:
    """The questionnaire with the content the assessment was started on."""
    return questionnaires.questionnaire_of(
        catalog,
        assessment.questionnaire_id,
        assessment.questionnaire_version,
        assessment.questionnaire_hash,
    )


# --- ETags -----------------------------------------------------------------------------------


def etag_of(assessment: Assessment | DraftState) -> str:
    return f'"{assessment.id.hex[:8]}-v{assessment.version}"'


def check_if_match(assessment: Assessment | DraftState, if_match: str | None) -> None:
    """Writes name the version they were based on (RFC 9110 §13.1.1): none (or an empty
    header) → 428, stale → 412."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "Send If-Match with the assessment's ETag (from GET) to change it.",
            errors=[FieldError("header.If-Match", "required", "missing")],
        )
    current = etag_of(assessment)
    presented = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" not in presented and current not in presented:
        raise PreconditionFailed(
            "The assessment was changed since you loaded it (elsewhere, or in another tab). "
            "Reload it to see the current answers, then apply your change again.",
            headers={"ETag": current},
        )


def _bump_version(session: Session, assessment: Assessment) -> None:
    """Claim the next version; the UPDATE's version check makes exactly one racing writer win."""
    assessment_id = assessment.id  # an expired object would read it again, and it may be gone
    assessment.updated_at = utcnow()
    try:
        session.flush()
    except StaleDataError as exc:
        raise _claim_lost(session, assessment_id) from exc


def _claim_lost(session: Session, assessment_id: uuid.UUID) -> NotFound | PreconditionFailed:
    """Why a version claim (an UPDATE with the version read in its WHERE) matched no row: the
    rule is that another request changed the assessment first (412), or deleted it with its
    firm's data (404, as a request made after the deletion is answered; ``kit.errors``'
    ``_deleted_meanwhile``). Rolls back; whether the row is there is read after that, so the
    other request's commit is seen."""
    session.rollback()
    if not AssessmentRepository(session).exists(assessment_id):
        return NotFound("No assessment with this id.")
    return PreconditionFailed(
        "The assessment was changed by another request at the same moment. Reload it and "
        "apply your change again."
    )


# --- views -----------------------------------------------------------------------------------


def build_view(
    assessment: Assessment | DraftState,
    questionnaire: Questionnaire,
    answers: Mapping[str, Any],
    profile: Mapping[str, object],
    lang: Lang,
    kpis: Mapping[str, Any] | None = None,
    cleared: Sequence[str] = (),
) -> AssessmentRead:
    """The assessment as the API shows it; ``cleared``: the stored answers the write that made
    this view cleared because their questions stopped applying (none for a read)."""
    applicable = applicable_questions(questionnaire, answers, profile)
    applicable_ids = {q.id for q in applicable}
    progress: list[StageProgress] = []
    for stage in questionnaire.stages:
        stage_questions = [q for q in stage.questions if q.id in applicable_ids]
        answered = [q for q in stage_questions if answers.get(q.id) is not None]
        open_required = [q.id for q in stage_questions if q.required and answers.get(q.id) is None]
        progress.append(
            StageProgress(
                id=stage.id,
                title=stage.title.get(lang),
                applicable=len(stage_questions),
                answered=len(answered),
                required_unanswered=open_required,
                complete=not open_required,
            )
        )
    total = sum(p.applicable for p in progress)
    return AssessmentRead(
        id=assessment.id,
        enterprise_id=assessment.enterprise_id,
        questionnaire=questionnaires.reference(questionnaire, lang),
        status=assessment.status,
        etag=etag_of(assessment),
        # By id: the same order whether the answers were read back or just written.
        answers={qid: answers[qid] for qid in sorted(answers)},
        kpis={kpi_id: float(value) for kpi_id, value in sorted((kpis or {}).items())},
        progress=progress,
        answered_share=(sum(p.answered for p in progress) / total) if total else 0.0,
        next_stage=next((p.id for p in progress if not p.complete), None),
        applicable_questions=[q.id for q in applicable],
        cleared_not_applicable=sorted(cleared),
        created_at=assessment.created_at,
        updated_at=assessment.updated_at,
        submitted_at=assessment.submitted_at,
        prefilled_from=assessment.prefilled_from_id,
    )


def _enterprise(session: Session, assessment: Assessment) -> Enterprise:
    return enterprise_service.get(session, assessment.enterprise_id)


def answers(session: Session, assessment: Assessment) -> dict[str, Any]:
    """The stored answers, question id → value (the caller checked it may see them)."""
    return AssessmentRepository(session).answer_values(assessment.id)


def kpi_values(session: Session, assessment: Assessment) -> dict[str, Any]:
    """The recorded baseline KPIs, KPI id → value as sent (the caller checked it may see them)."""
    return AssessmentRepository(session).kpi_values(assessment.id)


def view(
    session: Session, catalog: QuestionnaireCatalog, assessment: Assessment, lang: Lang
) -> AssessmentRead:
    repository = AssessmentRepository(session)
    answers = repository.answer_values(assessment.id)
    profile = enterprise_service.scoring_profile(_enterprise(session, assessment))
    return build_view(
        assessment,
        questionnaire_of(catalog, assessment),
        answers,
        profile,
        lang,
        repository.kpi_values(assessment.id),
    )


# --- writes ----------------------------------------------------------------------------------


def _answer_errors(issues: list[AnswerIssue]) -> list[FieldError]:
    return [
        FieldError(f"body.answers.{issue.question_id}", issue.message, issue.code)
        for issue in issues
    ]


def _kpi_errors(
    questionnaire: Questionnaire, kpis: Mapping[str, Decimal | None]
) -> list[FieldError]:
    """Each sent KPI must be one of the questionnaire's and lie within its min and max."""
    known = {kpi.id: kpi for kpi in questionnaire.kpis}
    errors: list[FieldError] = []
    for kpi_id, value in kpis.items():
        kpi = known.get(kpi_id)
        field = f"body.kpis.{kpi_id}"
        if kpi is None:
            errors.append(
                FieldError(
                    field,
                    "%(questionnaire)s v%(version)s has no KPI %(kpi)s",
                    "unknown_kpi",
                    {
                        "questionnaire": questionnaire.id,
                        "version": questionnaire.version,
                        "kpi": repr(kpi_id),
                    },
                )
            )
        elif value is not None and not kpi.min <= value <= kpi.max:
            errors.append(
                FieldError(
                    field,
                    "must lie between %(min)s and %(max)s",
                    "out_of_range",
                    {"min": kpi.min, "max": kpi.max},
                )
            )
    return errors


def create(
    session: Session,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    enterprise_id: uuid.UUID,
    data: AssessmentCreate,
) -> Assessment:
    begin_write(session)
    enterprise = enterprise_service.get_visible(session, principal, enterprise_id)
    questionnaire = catalog.get(data.questionnaire_id, data.questionnaire_version)
    if questionnaire is None:
        field = (
            "questionnaire_version" if catalog.get(data.questionnaire_id) else "questionnaire_id"
        )
        raise InvalidInput(
            "No such questionnaire (or version).",
            errors=[FieldError(f"body.{field}", "not served here", "unknown")],
        )
    repository = AssessmentRepository(session)
    previous = (
        repository.latest_submitted(enterprise.id, questionnaire.id) if data.prefill else None
    )
    # Written whole before the view is read (the session does not autoflush): the 201 showed
    # no answers at version 1 while the draft held them at version 2.
    assessment = repository.add(
        Assessment(
            enterprise_id=enterprise.id,
            questionnaire_id=questionnaire.id,
            questionnaire_version=questionnaire.version,
            questionnaire_hash=questionnaire.content_hash,
            status="draft",
            prefilled_from_id=None if previous is None else previous.id,
            created_by_user_id=principal.id if principal.kind == "user" else None,
            created_by_client_id=principal.id if principal.is_integrator else None,
        )
    )
    prefilled = 0
    if previous is not None:
        prefilled = _prefill(
            repository,
            assessment,
            questionnaire,
            repository.answer_values(previous.id),
            enterprise_service.scoring_profile(enterprise),
        )
    audit.record(
        session,
        principal,
        "assessment.create",
        "assessment",
        assessment.id,
        enterprise_id=enterprise.id,
        detail={
            "questionnaire": f"{questionnaire.id}@{questionnaire.version}",
            "prefilled_answers": prefilled,
        },
    )
    return assessment


def _prefill(
    repository: AssessmentRepository,
    assessment: Assessment,
    questionnaire: Questionnaire,
    previous: Mapping[str, Any],
    profile: Mapping[str, object],
) -> int:
    """Copy the previous answers that are valid for this version; drop the rest."""
    candidate = {k: v for k, v in previous.items() if questionnaire.find_question(k) is not None}
    bad = {issue.question_id for issue in validate_answers(questionnaire, candidate, profile)}
    kept = {k: v for k, v in candidate.items() if k not in bad}
    repository.add_answers(
        Answer(assessment_id=assessment.id, question_id=question_id, value=value)
        for question_id, value in kept.items()
    )
    return len(kept)


def update_answers(
    session: Session,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    assessment_id: uuid.UUID,
    data: AnswersUpdate,
    if_match: str | None,
    lang: Lang,
) -> AssessmentRead:
    """Apply a partial set of answers (null clears one) atomically: all or none. Returns the
    assessment as saved, built from what was read and written here (no second read).

    A stored answer whose question no longer applies given the answers after this write (or
    the firm's profile) is cleared by it, as the wizard does (``pages.changes_to_save``), and
    named in the view's ``cleared_not_applicable``: the stored answers are then the ones
    progress, submit, scoring and the subsidy match count. An answer *sent* to a question that
    does not apply is refused (422 ``not_applicable``).

    Plain statements, no ORM objects (the path every answer takes): one read of the assessment
    with its answers, its KPIs, its enterprise's profile and the visibility rule; then, once
    the answers are valid, one write (``AssessmentRepository.save_draft``): the version claim
    (an UPDATE with the version read in its WHERE: on PostgreSQL its row lock makes a racing
    writer wait, then fail with 412; every write of answers claims a version, so answers read
    with the version they were claimed from are the current ones), the answers and KPIs sent
    and the audit row, nothing written when the claim fails. On PostgreSQL that write is one
    statement, so the API's route runs it without a transaction of its own
    (``app.kit.routing.single_statement_writes``); this function must not gain a second write
    there.

    A write that changes nothing (every answer and KPI sent is stored already as the same JSON,
    ``same_json``; every one cleared is not stored; no stored answer stops applying) writes
    nothing: no version claim, no audit row. Its answer is the assessment as it stands, with
    the ETag it had, so that other clients' If-Match stays current (a PUT is idempotent, RFC
    9110 §9.2.2: sent again, it changes nothing more). It is decided in memory from what the
    read returned, after the checks every write passes (404, 409, If-Match, 422), and on
    PostgreSQL it runs that read alone."""
    begin_write(session)
    repository = AssessmentRepository(session)
    assessment, merged, kpis, enterprise = _draft_state(repository, principal, assessment_id)
    if assessment.status != "draft":
        raise Conflict("This assessment is submitted and can no longer change; start a new one.")
    check_if_match(assessment, if_match)
    questionnaire = questionnaire_of(catalog, assessment)

    # Each answer as it will be read back (the view then shows what a GET will), compared
    # with the stored one before it is merged in.
    sent_answers = {
        qid: None if value is None else repository.answer_as_stored(value)
        for qid, value in data.answers.items()
    }
    answers_kept = _keeps(merged, sent_answers)
    _merge_in(merged, sent_answers)
    profile = enterprise_service.scoring_profile(
        enterprise_service.ProfileColumns._make(enterprise)
    )
    errors, stale = _checked(questionnaire, merged, data, profile)
    if errors:
        session.rollback()
        raise InvalidInput(
            "Some answers are not valid; none was saved: %(answers)s",
            answers=", ".join(sorted({e.field.removeprefix("body.answers.") for e in errors})),
            errors=errors,
        )

    sent = {kpi_id: _kpi_number(value) for kpi_id, value in data.kpis.items()}
    if answers_kept and not stale and _keeps(kpis, sent):
        # Nothing to store: no write at all (not even an empty claim; the ETag stays).
        return build_view(assessment, questionnaire, merged, profile, lang, kpis)
    now = utcnow()
    written = {**data.answers, **dict.fromkeys(stale)}
    values: dict[str, Mapping[str, Any]] = {"answer": written, "assessment_kpi": sent}
    # Question ids only: answers themselves stay out of the audit trail and logs.
    detail: dict[str, Any] = {"questions": sorted(data.answers)}
    if stale:
        detail["cleared"] = sorted(stale)
    detail["version"] = assessment.version + 1
    audit_row = audit.event_row(
        principal,
        "assessment.answer",
        "assessment",
        assessment.id,
        enterprise_id=assessment.enterprise_id,
        detail=detail,
    )
    if not repository.save_draft(
        assessment, now, {k: v for k, v in values.items() if v}, audit_row
    ):
        raise _claim_lost(session, assessment.id)
    assessment = assessment._replace(version=assessment.version + 1, updated_at=now)
    for question_id in stale:
        del merged[question_id]
    for kpi_id, number in sent.items():
        if number is None:
            kpis.pop(kpi_id, None)
        else:
            kpis[kpi_id] = number
    repository.forget_loaded(assessment.id)
    return build_view(assessment, questionnaire, merged, profile, lang, kpis, stale)


def _checked(
    questionnaire: Questionnaire,
    merged: Mapping[str, Any],
    data: AnswersUpdate,
    profile: Mapping[str, object],
) -> tuple[list[FieldError], list[str]]:
    """What :func:`update_answers` refuses ``data`` for (``merged``: the stored answers with the
    sent ones in): a problem per answer sent and per KPI sent; and the stored answers not sent
    that no longer apply (the write clears them)."""
    issues: list[AnswerIssue] = []
    stale: list[str] = []
    for issue in validate_answers(questionnaire, merged, profile):
        if issue.question_id in data.answers:
            issues.append(issue)
        elif issue.code == "not_applicable":
            stale.append(issue.question_id)
    return _answer_errors(issues) + _kpi_errors(questionnaire, data.kpis), stale


def answer_problems(
    session: Session,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    assessment_id: uuid.UUID,
    data: AnswersUpdate,
) -> list[FieldError]:
    """The problems :func:`update_answers` would refuse ``data`` for (its 422's errors), judged
    against the stored answers and the firm's profile as it judges them, and nothing written:
    for a form that also has fields it could not read, to mark every bad field at once."""
    repository = AssessmentRepository(session)
    assessment, merged, _kpis, enterprise = _draft_state(repository, principal, assessment_id)
    _merge_in(
        merged,
        {
            qid: None if value is None else repository.answer_as_stored(value)
            for qid, value in data.answers.items()
        },
    )
    profile = enterprise_service.scoring_profile(
        enterprise_service.ProfileColumns._make(enterprise)
    )
    return _checked(questionnaire_of(catalog, assessment), merged, data, profile)[0]


def _draft_state(
    repository: AssessmentRepository, principal: Principal, assessment_id: uuid.UUID
) -> tuple[DraftState, dict[str, Any], dict[str, Any], tuple[Any, ...]]:
    """The assessment, its stored answers and KPIs, and its firm's profile columns, as the
    caller may see them; 404 otherwise."""
    found = repository.draft_state(
        assessment_id, visibility_of(principal), enterprise_service.ProfileColumns._fields
    )
    if found is None:
        raise NotFound("No assessment with this id.")
    return found


def _merge_in(merged: dict[str, Any], sent: Mapping[str, Any]) -> None:
    """``sent`` answers into ``merged`` (the stored ones): ``None`` clears an answer."""
    for question_id, value in sent.items():
        if value is None:
            merged.pop(question_id, None)
        else:
            merged[question_id] = value


def same_json(stored: Any, sent: Any) -> bool:
    """Whether ``sent``, as a write stores it (an answer as
    ``AssessmentRepository.answer_as_stored`` says, a KPI as ``_kpi_number`` makes it), is
    ``stored`` as read: the same JSON type and value. So ``5`` and ``5.0`` differ where both
    are kept as sent (PostgreSQL), ``1`` and ``true`` differ, and so do ``"5"`` and ``5``, or
    two lists in different orders. ``None`` is no value. The wizard decides what to save with
    it too (``pages.changes_to_save``): the API and the pages agree on what a change is."""
    if stored.__class__ is not sent.__class__:
        return False
    if isinstance(stored, list):
        return len(stored) == len(sent) and all(map(same_json, stored, sent))
    if isinstance(stored, dict):
        return stored.keys() == sent.keys() and all(same_json(stored[k], sent[k]) for k in stored)
    if isinstance(stored, float):
        return repr(stored) == repr(sent)  # the stored text: -0.0 is not 0.0
    return bool(stored == sent)


def _keeps(stored: Mapping[str, Any], sent: Mapping[str, Any]) -> bool:
    """Whether writing ``sent`` (id → value; None clears one) leaves ``stored`` as it is."""
    return all(
        key not in stored if value is None else key in stored and same_json(stored[key], value)
        for key, value in sent.items()
    )


def _kpi_number(value: Decimal | None) -> int | float | None:
    """A KPI as stored: a JSON number exactly as sent (an int when whole)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass(frozen=True, slots=True)
class SubmitOutcome:
    status_code: int
    body: dict[str, Any]
    #: True when the body is the stored response of an earlier request with the same key.
    replayed: bool = False


def submit(
    session: Session,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    assessment_id: uuid.UUID,
    *,
    if_match: str | None,
    idempotency_key: str | None,
    request_fingerprint: str,
    lang: Lang,
    programmes: Sequence[Programme],
) -> SubmitOutcome:
    """Score and keep the result with the subsidies matched on the submission date."""
    get_visible(session, principal, assessment_id)  # 404 before anything is claimed
    if idempotency_key is not None:
        stored = idempotency.claim(
            session, principal.caller_key, idempotency_key, request_fingerprint
        )
        if stored is not None:
            return SubmitOutcome(stored.status_code, stored.body, replayed=True)
    try:
        outcome = _submit(session, principal, catalog, assessment_id, if_match, lang, programmes)
    except Exception:
        # Any failure (a 4xx, or a database error) leaves nothing done, the claim included.
        if idempotency_key is not None:
            idempotency.release(session)
        raise
    if idempotency_key is not None:
        idempotency.complete(
            session, principal.caller_key, idempotency_key, outcome.status_code, outcome.body
        )
    return outcome


def _submit(
    session: Session,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    assessment_id: uuid.UUID,
    if_match: str | None,
    lang: Lang,
    programmes: Sequence[Programme],
) -> SubmitOutcome:
    begin_write(session)
    assessment = get_visible(session, principal, assessment_id)
    if assessment.status != "draft":
        raise Conflict("This assessment is already submitted.")
    check_if_match(assessment, if_match)
    # The firm is locked (``kit.db.locked_row``) before anything of it is written, as its
    # deletion locks it before deleting: a submit and a deletion take turns, and the deletion
    # finds all the submit wrote (the stored response of its Idempotency-Key included). Locked
    # only after the result was written (by the heatmap sums and the feed), each waited for the
    # other on PostgreSQL, the deletion for the rows the submit had written and the submit for
    # the firm's lock: a deadlock, and one of them failed with 503.
    enterprise = enterprise_service.locked(session, assessment.enterprise_id)
    if enterprise is None:  # deleted with its firm since it was read
        raise NotFound("No assessment with this id.")
    questionnaire = questionnaire_of(catalog, assessment)
    repository = AssessmentRepository(session)
    answers = repository.answer_values(assessment.id)
    profile = enterprise_service.scoring_profile(enterprise)
    answers, stale = _drop_not_applicable(questionnaire, answers, profile)
    if stale:
        repository.delete_answers(assessment.id, stale)
    try:
        scored = score(questionnaire, answers, profile)
    except InvalidAnswers as exc:  # validated above; kept as a guard against drift
        raise InvalidInput(
            "Some answers are not valid.", errors=_answer_errors(exc.issues)
        ) from exc

    now = utcnow()
    advice = subsidy_advice(programmes, profile, answers, scored, on=shanghai_date(now))
    assessment.status = "submitted"
    assessment.submitted_at = now
    _bump_version(session, assessment)
    result = results.record(session, assessment, scored, advice, now, profile=profile)
    # Heatmap sums, the integrators' feed and webhook outbox: in this transaction (app/hooks.py).
    events.publish(session, AssessmentSubmitted(enterprise, assessment, result))
    detail: dict[str, Any] = {"rung": str(scored.rung), "result_id": result.id}
    if stale:
        detail["cleared"] = stale
    audit.record(
        session,
        principal,
        "assessment.submit",
        "assessment",
        assessment.id,
        enterprise_id=assessment.enterprise_id,
        detail=detail,
    )
    body = results.view(assessment, result, questionnaire, lang).model_dump(mode="json")
    return SubmitOutcome(200, body)


def _drop_not_applicable(
    questionnaire: Questionnaire, answers: Mapping[str, Any], profile: Mapping[str, object]
) -> tuple[dict[str, Any], list[str]]:
    """The answers a submit scores, and the stored ones it drops: those whose questions no
    longer apply (a draft saved before answer writes cleared them, or whose firm's profile
    changed since its last write), which progress and scoring never counted. 422 naming each
    required question left unanswered and each stored answer that is not valid."""
    issues = validate_answers(questionnaire, answers, profile, partial=False)
    stale = sorted(i.question_id for i in issues if i.code == "not_applicable")
    missing = [i for i in issues if i.code == "required"]
    invalid = [i for i in issues if i.code not in ("required", "not_applicable")]
    if missing or invalid:
        errors = _answer_errors(missing + invalid)
        unanswered = ", ".join(i.question_id for i in missing)
        not_valid = ", ".join(i.question_id for i in invalid)
        if missing and invalid:
            raise InvalidInput(
                "Some required questions are unanswered: %(missing)s. Some saved answers are "
                "not valid: %(invalid)s.",
                missing=unanswered,
                invalid=not_valid,
                errors=errors,
            )
        if missing:
            raise InvalidInput(
                "Some required questions are unanswered: %(missing)s.",
                missing=unanswered,
                errors=errors,
            )
        raise InvalidInput(
            "Some saved answers are not valid: %(invalid)s.", invalid=not_valid, errors=errors
        )
    return {k: v for k, v in answers.items() if k not in stale}, stale


# --- result and history ------------------------------------------------------------------------


def get_result(
    session: Session,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    assessment_id: uuid.UUID,
    lang: Lang,
) -> ResultRead:
    """The result kept at submission (``results``), if the caller may see the assessment."""
    return _result_view(session, catalog, get_visible(session, principal, assessment_id), lang)


def _result_view(
    session: Session, catalog: QuestionnaireCatalog, assessment: Assessment, lang: Lang
) -> ResultRead:
    result = results.of_assessment(session, assessment)
    if result is None:
        raise NotFound("This assessment has no result yet: submit it first.")
    return results.view(assessment, result, questionnaire_of(catalog, assessment), lang)


#: Serialised results by (assessment, version, language): a submitted assessment's result never
#: changes, so its bytes are made once per process (~30 KB each).
_RESULT_JSON: LruCache[tuple[uuid.UUID, int, Lang], JsonBody] = LruCache(1024)


def get_result_json(
    session: Session,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    assessment_id: uuid.UUID,
    lang: Lang,
) -> JsonBody:
    """``get_result`` as the API sends it, serialised once: after the access check (one query
    for the assessment's version and status, with the visibility rule in it) a repeated read
    costs no more; the assessment itself is read only to make the bytes the first time."""
    state = AssessmentRepository(session).visible_state(assessment_id, visibility_of(principal))
    if state is None:
        raise NotFound("No assessment with this id.")
    version, status = state
    if status != "submitted":
        raise NotFound("This assessment has no result yet: submit it first.")
    return _RESULT_JSON.get_or_make(
        (assessment_id, version, lang),
        lambda: json_body(
            _result_view(session, catalog, get_visible(session, principal, assessment_id), lang)
        ),
    )


def history(
    session: Session,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    enterprise_id: uuid.UUID,
    *,
    cursor: str | None,
    limit: int,
    lang: Lang,
) -> Page[HistoryItem]:
    """The enterprise's assessments, newest first, each submission with its change against the
    previous submission of the same questionnaire."""
    enterprise_service.get_visible(session, principal, enterprise_id)
    rows = AssessmentRepository(session).history_page(
        enterprise_id, after=TIME_UUID.decode(cursor), limit=limit + 1
    )
    page, next_cursor = paginate(rows, limit, TIME_UUID, lambda a: (a.created_at, a.id))
    # One query for every submission of the firm: few per firm, and no query per row.
    submitted = {s.assessment_id: s for s in results.submissions(session, enterprise_id)}
    items: list[HistoryItem] = []
    for assessment in page:
        questionnaire = questionnaire_of(catalog, assessment)
        submission = submitted.get(assessment.id)
        result = submission.result if submission is not None else None
        items.append(
            HistoryItem(
                id=assessment.id,
                questionnaire=questionnaires.reference(questionnaire, lang),
                status=assessment.status,
                created_at=assessment.created_at,
                submitted_at=assessment.submitted_at,
                overall=float(result.overall) if result and result.overall is not None else None,
                rung=float(result.rung) if result else None,
                stages=dict(result.stages) if result else {},
                change=submission.change if submission is not None else None,
            )
        )
    return Page[HistoryItem](items=items, next_cursor=next_cursor)


# --- baseline KPIs before and after ----------------------------------------------------------


def kpi_comparisons(
    session: Session, catalog: QuestionnaireCatalog, enterprise_id: uuid.UUID, lang: Lang
) -> dict[uuid.UUID, list[KpiComparison]]:
    """Per submission of the firm, its baseline KPIs against the firm's previous submission:
    previous value → this value, with the trend judged by each KPI's ``better``.

    "Previous" is the submission just before, of either questionnaire: KPIs describe the firm,
    not the questionnaire, and both v2 questionnaires share the block. A KPI is listed when
    either side recorded it; the definitions (text, unit, ``better``) are this submission's,
    or the previous one's when this one recorded none. Submissions with nothing on either
    side are left out. Two queries, however many submissions there are. The caller checked it
    may see the firm (like ``results.submissions``)."""
    recorded: dict[uuid.UUID, dict[str, Decimal]] = {}
    started_on: dict[uuid.UUID, Assessment] = {}
    for assessment, row in AssessmentRepository(session).submitted_kpis(enterprise_id):
        recorded.setdefault(assessment.id, {})[row.kpi_id] = Decimal(str(row.value))
        started_on[assessment.id] = assessment
    out: dict[uuid.UUID, list[KpiComparison]] = {}
    previous: uuid.UUID | None = None
    for submission in results.submissions(session, enterprise_id):
        this_id = submission.assessment_id
        after = recorded.get(this_id, {})
        before = recorded.get(previous, {}) if previous is not None else {}
        defined_by = this_id if after else previous
        if (after or before) and defined_by is not None:
            questionnaire = questionnaire_of(catalog, started_on[defined_by])
            out[this_id] = [
                _comparison(kpi, before.get(kpi.id), after.get(kpi.id), lang)
                for kpi in questionnaire.kpis
                if kpi.id in after or kpi.id in before
            ]
        previous = this_id
    return out


def _comparison(
    kpi: Kpi, before: Decimal | None, after: Decimal | None, lang: Lang
) -> KpiComparison:
    return KpiComparison(
        kpi_id=kpi.id,
        text=kpi.text.get(lang),
        unit=kpi.unit.get(lang),
        better=kpi.better,
        before=None if before is None else float(before),
        after=None if after is None else float(after),
        trend=None if before is None or after is None else kpi.trend(before, after),
    )
