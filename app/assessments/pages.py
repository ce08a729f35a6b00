"""Pages: start an assessment, the stage-by-stage wizard with autosave, review and submit, the
result with its roadmap and what-if, and the history.

Without JavaScript every form posts and redirects (303). With htmx the stage form autosaves on
every change; the answer never touches the fields the user fills (they may have changed while the
save was in flight): it updates the ETag, the save status, the progress and each field's error out
of band, and re-renders the form only when other questions now apply (app.js then keeps what was
entered meanwhile). Both paths save through ``service.update_answers`` with the ETag the form
carried: an edit made elsewhere in the meantime (412) is said plainly, with a reload link, and the
form keeps that ETag, so that no later save from it overwrites the other edit.
"""

from __future__ import annotations

import functools
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.assessments import service
from app.assessments.schemas import AnswersUpdate, AssessmentCreate, AssessmentRead, HistoryItem
from app.enterprises import service as enterprise_service
from app.kit.clock import shanghai_date
from app.kit.db import SessionDep
from app.kit.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    field_errors,
)
from app.kit.i18n import N_, Lang, tr
from app.kit.idempotency import fingerprint
from app.kit.principal import Principal
from app.kit.routing import domain_router
from app.kit.schemas import is_clean_text
from app.kit.web.csrf import check_same_origin
from app.kit.web.deps import EnterpriseUser, FormDep, PageLang, base_context, form_str
from app.kit.web.forms import typed_number
from app.kit.web.htmx import HtmxDep, redirect
from app.kit.web.templating import render
from app.models import Assessment
from app.questionnaires.catalog import QuestionnaireCatalog
from app.questionnaires.service import CatalogDep
from app.results import charts
from app.results import service as results
from scoring import (
    NA,
    RUNGS,
    InvalidAnswers,
    Kpi,
    Question,
    Questionnaire,
    Stage,
    applicable_questions,
    score,
)
from scoring.ladder import rung_above, score_label

router = domain_router(include_in_schema=False)

QUESTIONNAIRE_CHOICES = ("smart-manufacturing-maturity", "quick-check")
PDF_ROUTE = "/api/v1/assessments/{assessment_id}/report.pdf"
#: How many roadmap questions the what-if form offers.
WHAT_IF_QUESTIONS = 8


@dataclass(frozen=True, slots=True)
class FirmPage:
    """A page request of an enterprise user about its own firm's assessments: what every page
    here works with (the session, the user, the questionnaires, the page's language)."""

    request: Request
    session: Session
    principal: Principal
    catalog: QuestionnaireCatalog
    lang: Lang

    @property
    def enterprise_id(self) -> uuid.UUID:
        return self.principal.own_enterprise_id

    def context(self) -> dict[str, Any]:
        return base_context(self.request, self.principal, self.lang)

    def own_history(self, limit: int) -> list[HistoryItem]:
        """The firm's assessments, newest first (drafts too)."""
        return service.history(
            self.session,
            self.principal,
            self.catalog,
            self.enterprise_id,
            cursor=None,
            limit=limit,
            lang=self.lang,
        ).items

    def render(
        self,
        template: str,
        context: dict[str, Any],
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        return render(
            self.request,
            template,
            context,
            lang=self.lang,
            status_code=status_code,
            headers=headers,
        )


def firm_page(
    request: Request,
    session: SessionDep,
    principal: EnterpriseUser,
    catalog: CatalogDep,
    lang: PageLang,
) -> FirmPage:
    return FirmPage(request, session, principal, catalog, lang)


Page = Annotated[FirmPage, Depends(firm_page)]


# --- helpers ---------------------------------------------------------------------------------


def issue_message(lang: Lang, code: str, question: Question | None) -> str:
    """An answer problem (``scoring`` issue code) said in ``lang``."""
    if code == "out_of_bounds" and question is not None:
        return tr(
            lang,
            "Enter a number from %(min)s to %(max)s.",
            min=_plain(question.min),
            max=_plain(question.max),
        )
    messages = {
        "not_a_number": N_("Enter a number (digits only)."),
        "empty_selection": N_("Choose at least one option."),
        "exclusive_conflict": N_("“None of these” cannot be combined with other options."),
        "na_not_allowed": N_("“Not applicable” is not allowed for this question."),
        "not_applicable": N_("This question does not apply given your other answers."),
        "required": N_("This question needs an answer."),
        "unknown_option": N_("Choose one of the options shown."),
    }
    fallback = N_("This answer is not valid.")  # marked outside tr(): extracted
    return tr(lang, messages.get(code, fallback))


def _plain(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)


def _profile(session: Session, principal: Principal, enterprise_id: uuid.UUID) -> dict[str, object]:
    enterprise = enterprise_service.get_visible(session, principal, enterprise_id)
    return enterprise_service.scoring_profile(enterprise)


def _stage_or_404(questionnaire: Questionnaire, stage_id: str) -> Stage:
    for stage in questionnaire.stages:
        if stage.id == stage_id:
            return stage
    raise NotFound("No such stage in this questionnaire.")


@dataclass(frozen=True, slots=True)
class _Write:
    """How a wizard save went: ``view`` after it, whether anything was written, or why not."""

    view: AssessmentRead | None = None
    saved: bool = False
    conflict: bool = False
    errors: tuple[FieldError, ...] = ()


def _write(
    page: FirmPage,
    assessment_id: uuid.UUID,
    data: AnswersUpdate,
    etag: str,
    still_pending: Callable[[AssessmentRead], bool],
) -> _Write:
    """Save a wizard form's changes with the ETag it carried. A stale ETag is a conflict only
    if the stored state still differs from the form (``still_pending``): our own autosave may
    have got there first."""
    try:
        view = service.update_answers(
            page.session, page.principal, page.catalog, assessment_id, data, etag, page.lang
        )
    except PreconditionFailed:
        page.session.rollback()
        current = service.view(
            page.session,
            page.catalog,
            service.get_visible(page.session, page.principal, assessment_id),
            page.lang,
        )
        return _Write(conflict=True) if still_pending(current) else _Write(view=current)
    except InvalidInput as exc:
        page.session.rollback()
        return _Write(errors=tuple(exc.errors))
    return _Write(view=view, saved=True)


@dataclass(frozen=True, slots=True)
class _Step:
    """What saving one wizard step needs to know of it: a stage or the KPI step. The way a save
    goes (unreadable values, only what changed, the ETag, the htmx re-render or the redirect) is
    ``_save_step``'s and the same for both."""

    template: str
    fragment: str
    #: The step's template context for a view (``values``, ``errors``, ``notice``, ...).
    context: Callable[..., dict[str, Any]]
    #: What the user typed, shown again when it was not saved.
    typed: Mapping[str, Any]
    #: Per field, the code of a value that cannot even be read.
    problems: Mapping[str, str]
    #: A field's problem code said in the page's language.
    message: Callable[[str, str], str]
    #: What still differs from a view's stored state (empty: nothing to save).
    changes: Callable[[AssessmentRead], Mapping[str, Any]]
    #: The update carrying those changes.
    update: Callable[[Mapping[str, Any]], AnswersUpdate]
    #: Where the explicit save leads once saved.
    target: Callable[[AssessmentRead], str]
    #: The form's fields with an error slot (``partials/field_error.html``), as posted.
    fields: tuple[str, ...] = ()
    #: Whether the form shows other fields than a view's (a question appeared or went away).
    reshaped: Callable[[AssessmentRead], bool] = lambda view: False


#: An autosave's answer when the form keeps its shape: only what is not the user's, out of band.
AUTOSAVED = "partials/wizard_autosave.html"


def _save_step(
    page: FirmPage, assessment: Assessment, etag: str, step: _Step, *, partial: bool
) -> Response:
    """Save a wizard step's form: only what changed, all or nothing, with the ETag it carried.
    Every value that cannot be read or is refused is shown in its field, all in one answer, with
    the user's own values (422); a conflicting edit elsewhere is said (412); a plain post is
    redirected where the button said once saved.

    htmx (always 200) gets no field back, since the user may have changed them since this save
    was sent: the ETag, the save status, the progress and the errors come out of band
    (``AUTOSAVED``), and only a form whose questions changed is re-rendered (``HX-Reswap``;
    app.js puts back what was entered meanwhile). A form that was refused keeps the ETag it
    posted: after a conflict every later save from it conflicts too, until it is reloaded."""
    template = step.fragment if partial else step.template

    def again(view: AssessmentRead, status_code: int, **extra: Any) -> Response:
        context = step.context(view, values=step.typed, partial=partial, etag=etag, **extra)
        if partial:
            return page.render(AUTOSAVED, context | {"fields": step.fields})
        return page.render(template, context, status_code=status_code)

    def messages(errors: Iterable[FieldError]) -> dict[str, str]:
        said = {}
        for error in errors:
            fid = error.field.rsplit(".", 1)[-1]
            said[fid] = step.message(fid, error.code)
        return said

    view = service.view(page.session, page.catalog, assessment, page.lang)
    update = step.changes(view)
    if step.problems:
        # Every field's problem at once: what could be read is checked as the save checks it,
        # beside what could not (a figure out of range went unmarked until a typo elsewhere was
        # fixed and the form sent again).
        refused = (
            service.answer_problems(
                page.session, page.principal, page.catalog, assessment.id, step.update(update)
            )
            if update
            else []
        )
        unreadable = {fid: step.message(fid, code) for fid, code in step.problems.items()}
        return again(view, 422, errors=messages(refused) | unreadable)
    if update:
        written = _write(
            page,
            assessment.id,
            step.update(update),
            etag,
            lambda current: bool(step.changes(current)),
        )
        if written.conflict:
            return again(view, 412, conflict=True)
        if written.view is None:
            return again(view, 422, errors=messages(written.errors))
        view = written.view
        if not written.saved:
            update = {}
    if partial:
        notice = tr(page.lang, "Saved.") if update else None
        context = step.context(view, notice=notice, partial=True)
        if step.reshaped(view):
            return page.render(template, context, headers={"HX-Reswap": "innerHTML"})
        return page.render(AUTOSAVED, context | {"fields": step.fields})
    return redirect(page.request, step.target(view))


def _after_stages(questionnaire: Questionnaire, assessment_id: uuid.UUID) -> str:
    """Where "save and continue" on the last stage leads: the optional baseline KPI step when
    the questionnaire has one (v2), else the review."""
    step = "kpis" if questionnaire.kpis else "review"
    return f"/assessments/{assessment_id}/{step}"


def _draft(session: Session, principal: Principal, assessment_id: uuid.UUID) -> Assessment:
    assessment = service.get_visible(session, principal, assessment_id)
    if assessment.status != "draft":
        raise Conflict("This assessment is submitted and can no longer change.")
    return assessment


def parse_number(raw: object) -> Decimal | None:
    """A form field's figure (``kit.web.forms.typed_number``); ``None`` when blank or absent."""
    return typed_number(raw) if isinstance(raw, str) else None


def as_typed(
    form: FormData, answers: Mapping[str, Any], problems: Mapping[str, str]
) -> dict[str, Any]:
    """``answers`` as a form shows them again, with each figure that could not be read as the
    user typed it, beside its error (it was replaced by the stored answer, or a blank: what the
    user had to correct was gone)."""
    return dict(answers) | {
        qid: form_str(form, qid) for qid, code in problems.items() if code == "not_a_number"
    }


def parse_stage_form(
    form: FormData, questions: list[Question]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Answers to ``questions`` from a posted stage form (``None``: left blank) and, per question,
    the code of a value that cannot even be read."""
    answers: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for question in questions:
        qid = question.id
        if question.allow_na and form.get(f"{qid}__na") == NA:
            answers[qid] = NA
            continue
        if question.type == "multi":
            chosen = [v for v in form.getlist(qid) if isinstance(v, str) and v]
            if not all(map(is_clean_text, chosen)):  # never an option id: the form was hand-made
                problems[qid] = "unknown_option"
                continue
            answers[qid] = (NA if NA in chosen else chosen) or None
        elif question.type == "number":
            try:
                number = parse_number(form.get(qid))
            except InvalidOperation:
                problems[qid] = "not_a_number"
                continue
            answers[qid] = (
                None
                if number is None
                else int(number)
                if number == number.to_integral_value()
                else float(number)
            )
        else:
            raw = form.get(qid)
            if isinstance(raw, str) and not is_clean_text(raw):
                problems[qid] = "unknown_option"
                continue
            answers[qid] = raw if isinstance(raw, str) and raw else None
    return answers, problems


def changes_to_save(
    questionnaire: Questionnaire,
    stored: Mapping[str, Any],
    submitted: Mapping[str, Any],
    profile: Mapping[str, object],
) -> dict[str, Any]:
    """The update to send: what differs from the stored answers (as the API judges it,
    ``service.same_json``), plus clearing stored answers that no longer apply given the new
    ones (``service.update_answers`` would clear them anyway; naming them keeps the update the
    whole change). Empty when the form changes nothing: then nothing is written."""
    merged = dict(stored)
    for qid, value in submitted.items():
        if value is None:
            merged.pop(qid, None)
        else:
            merged[qid] = value
    applicable = {q.id for q in applicable_questions(questionnaire, merged, profile)}
    update = {
        qid: value
        for qid, value in submitted.items()
        if qid in applicable and not service.same_json(stored.get(qid), value)
    }
    update.update({qid: None for qid in stored if qid not in applicable})
    return update


# --- start ------------------------------------------------------------------------------------


@router.get("/assessments/new", response_class=HTMLResponse, name="assessment_new")
def new_assessment(page: Page) -> Response:
    past = page.own_history(50)
    choices = [q for qid in QUESTIONNAIRE_CHOICES if (q := page.catalog.get(qid)) is not None]
    context = page.context() | {
        "choices": choices,
        "has_previous": any(item.status == "submitted" for item in past),
    }
    return page.render("pages/assessment_new.html", context)


@router.post("/assessments", name="assessment_create")
def create_assessment(page: Page, form: FormDep) -> Response:
    check_same_origin(page.request)
    questionnaire_id = form_str(form, "questionnaire_id") or QUESTIONNAIRE_CHOICES[0]
    try:
        data = AssessmentCreate(
            questionnaire_id=questionnaire_id, prefill=form_str(form, "prefill") == "yes"
        )
    except ValidationError as exc:  # not one the form offers (too long, a control character)
        raise InvalidInput("No such questionnaire.", errors=field_errors(exc.errors())) from None
    assessment = service.create(
        page.session, page.principal, page.catalog, page.enterprise_id, data
    )
    return redirect(page.request, f"/assessments/{assessment.id}")


@router.get("/assessments/{assessment_id}", name="assessment_resume")
def resume(page: Page, assessment_id: uuid.UUID) -> Response:
    """Where to carry on: the result once submitted, else the first stage with open required
    questions, else the review."""
    assessment = service.get_visible(page.session, page.principal, assessment_id)
    if assessment.status == "submitted":
        return redirect(page.request, f"/assessments/{assessment.id}/result")
    view = service.view(page.session, page.catalog, assessment, page.lang)
    if view.next_stage is None:
        return redirect(page.request, f"/assessments/{assessment.id}/review")
    return redirect(page.request, f"/assessments/{assessment.id}/stages/{view.next_stage}")


# --- the wizard -------------------------------------------------------------------------------


def _stage_context(
    page: FirmPage,
    questionnaire: Questionnaire,
    view: AssessmentRead,
    stage: Stage,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    conflict: bool = False,
    partial: bool = False,
    etag: str | None = None,
) -> dict[str, Any]:
    """A stage of the wizard: its questions that apply, the stored answers overlaid by what the
    user sent when it was not saved; ``etag``: the one the form sent, kept when not saved."""
    applicable = set(view.applicable_questions)
    shown = [q for q in stage.questions if q.id in applicable]
    stage_ids = [s.id for s in questionnaire.stages]
    index = stage_ids.index(stage.id)
    progress = {p.id: p for p in view.progress}
    return page.context() | {
        "assessment": view,
        "questionnaire": questionnaire,
        "stage": stage,
        "stage_number": index + 1,
        "stage_count": len(stage_ids),
        "stage_progress": progress[stage.id],
        "progress": view.progress,
        "previous_stage": stage_ids[index - 1] if index > 0 else None,
        "next_stage": stage_ids[index + 1] if index + 1 < len(stage_ids) else None,
        "questions": shown,
        "values": dict(view.answers) | dict(values or {}),
        "errors": dict(errors or {}),
        "notice": notice,
        "conflict": conflict,
        "partial": partial,
        "form_etag": etag or view.etag,
        "reload_url": f"/assessments/{view.id}/stages/{stage.id}",
        "NA": NA,
    }


@router.get(
    "/assessments/{assessment_id}/stages/{stage_id}", response_class=HTMLResponse, name="stage"
)
def stage_page(page: Page, assessment_id: uuid.UUID, stage_id: str, htmx: HtmxDep) -> Response:
    assessment = service.get_visible(page.session, page.principal, assessment_id)
    if assessment.status != "draft":
        return redirect(page.request, f"/assessments/{assessment.id}/result")
    questionnaire = service.questionnaire_of(page.catalog, assessment)
    stage = _stage_or_404(questionnaire, stage_id)
    view = service.view(page.session, page.catalog, assessment, page.lang)
    context = _stage_context(page, questionnaire, view, stage, partial=htmx)
    template = "partials/stage_form.html" if htmx else "pages/stage.html"
    return page.render(template, context)


def _save_stage(
    page: FirmPage, assessment_id: uuid.UUID, stage_id: str, form: FormData, *, partial: bool
) -> Response:
    check_same_origin(page.request)
    assessment = _draft(page.session, page.principal, assessment_id)
    questionnaire = service.questionnaire_of(page.catalog, assessment)
    stage = _stage_or_404(questionnaire, stage_id)
    shown_ids = set(form_str(form, "shown").split())
    shown = [q for q in stage.questions if q.id in shown_ids]
    submitted, problems = parse_stage_form(form, shown)
    typed = as_typed(form, submitted, problems)
    action = form_str(form, "action") or "save"

    @functools.cache
    def profile() -> dict[str, object]:  # read once: a stale ETag asks for the changes again
        return _profile(page.session, page.principal, assessment.enterprise_id)

    def changes(view: AssessmentRead) -> dict[str, Any]:
        return changes_to_save(questionnaire, view.answers, submitted, profile())

    def target(view: AssessmentRead) -> str:
        stage_ids = [s.id for s in questionnaire.stages]
        index = stage_ids.index(stage.id)
        base = f"/assessments/{assessment_id}"
        appeared = [
            qid
            for qid in next(p for p in view.progress if p.id == stage.id).required_unanswered
            if qid not in shown_ids
        ]
        if action in ("next", "review") and appeared:
            # Answers here made new questions apply: show them before moving on.
            return f"{base}/stages/{stage.id}?more=1#q-{appeared[0]}"
        if action == "next":
            return (
                f"{base}/stages/{stage_ids[index + 1]}"
                if index + 1 < len(stage_ids)
                else _after_stages(questionnaire, assessment_id)
            )
        if action == "previous" and index > 0:
            return f"{base}/stages/{stage_ids[index - 1]}"
        if action == "review":
            return f"{base}/review"
        return f"{base}/stages/{stage.id}?saved=1"

    step = _Step(
        template="pages/stage.html",
        fragment="partials/stage_form.html",
        context=lambda view, **extra: _stage_context(page, questionnaire, view, stage, **extra),
        typed=typed,
        problems=problems,
        message=lambda qid, code: issue_message(page.lang, code, questionnaire.find_question(qid)),
        changes=changes,
        update=lambda update: AnswersUpdate(answers=dict(update)),
        target=target,
        fields=tuple(q.id for q in shown),
        reshaped=lambda view: (
            {q.id for q in stage.questions if q.id in view.applicable_questions}
            != {q.id for q in shown}
        ),
    )
    return _save_step(page, assessment, form_str(form, "etag"), step, partial=partial)


@router.post("/assessments/{assessment_id}/stages/{stage_id}", name="stage_save")
def save_stage(page: Page, assessment_id: uuid.UUID, stage_id: str, form: FormDep) -> Response:
    """The explicit save (and previous / next): saves, then goes where the button said."""
    return _save_stage(page, assessment_id, stage_id, form, partial=False)


@router.post(
    "/assessments/{assessment_id}/stages/{stage_id}/autosave",
    response_class=HTMLResponse,
    name="stage_autosave",
)
def autosave_stage(page: Page, assessment_id: uuid.UUID, stage_id: str, form: FormDep) -> Response:
    """htmx autosave on change: saves and answers with what changed besides the fields (the new
    ETag, the status, the progress, the errors), or with the form re-rendered when other questions
    now apply (``_save_step``)."""
    return _save_stage(page, assessment_id, stage_id, form, partial=True)


# --- baseline KPIs (optional, unscored) --------------------------------------------------------


def kpi_message(lang: Lang, code: str, kpi: Kpi | None) -> str:
    """A KPI problem (``not_a_number`` here, or the service's ``out_of_range``) said in ``lang``."""
    if code == "out_of_range" and kpi is not None:
        return tr(
            lang,
            "Enter a number from %(min)s to %(max)s.",
            min=_plain(kpi.min),
            max=_plain(kpi.max),
        )
    if code == "not_a_number":
        return tr(lang, "Enter a number (digits only).")
    return tr(lang, "This figure is not valid.")


def parse_kpi_form(
    form: FormData, kpis: tuple[Kpi, ...]
) -> tuple[dict[str, Decimal | None], dict[str, str]]:
    """The KPI values of a posted form (``None``: left blank) and, per KPI, the code of a
    value that cannot even be read."""
    values: dict[str, Decimal | None] = {}
    problems: dict[str, str] = {}
    for kpi in kpis:
        try:
            values[kpi.id] = parse_number(form.get(kpi.id))
        except InvalidOperation:
            problems[kpi.id] = "not_a_number"
    return values, problems


def kpi_changes(
    stored: Mapping[str, float], submitted: Mapping[str, Decimal | None]
) -> dict[str, Decimal | None]:
    """The KPI update to send: changed values, and ``None`` for stored ones now left blank."""
    update: dict[str, Decimal | None] = {}
    for kpi_id, value in submitted.items():
        before = stored.get(kpi_id)
        if value is None:
            if before is not None:
                update[kpi_id] = None
        elif before is None or Decimal(str(before)) != value:
            update[kpi_id] = value
    return update


def _kpi_context(
    page: FirmPage,
    questionnaire: Questionnaire,
    view: AssessmentRead,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    conflict: bool = False,
    partial: bool = False,
    etag: str | None = None,
) -> dict[str, Any]:
    """The KPI step: the stored figures, overlaid by what the user typed when it was not saved
    (a bad figure stays in its field, with its error); ``etag`` as for a stage."""
    shown = {kpi_id: _plain(Decimal(str(value))) for kpi_id, value in view.kpis.items()}
    return page.context() | {
        "assessment": view,
        "questionnaire": questionnaire,
        "progress": view.progress,
        "current_step": "kpis",
        "last_stage": questionnaire.stages[-1].id,
        "kpis": questionnaire.kpis,
        "values": shown | dict(values or {}),
        "errors": dict(errors or {}),
        "notice": notice,
        "conflict": conflict,
        "partial": partial,
        "form_etag": etag or view.etag,
        "reload_url": f"/assessments/{view.id}/kpis",
    }


def _kpi_questionnaire(catalog: QuestionnaireCatalog, assessment: Assessment) -> Questionnaire:
    questionnaire = service.questionnaire_of(catalog, assessment)
    if not questionnaire.kpis:
        raise NotFound("This questionnaire has no baseline figures.")
    return questionnaire


@router.get("/assessments/{assessment_id}/kpis", response_class=HTMLResponse, name="kpis")
def kpi_page(page: Page, assessment_id: uuid.UUID, htmx: HtmxDep) -> Response:
    assessment = service.get_visible(page.session, page.principal, assessment_id)
    if assessment.status != "draft":
        return redirect(page.request, f"/assessments/{assessment.id}/result")
    questionnaire = _kpi_questionnaire(page.catalog, assessment)
    view = service.view(page.session, page.catalog, assessment, page.lang)
    context = _kpi_context(page, questionnaire, view, partial=htmx)
    template = "partials/kpi_form.html" if htmx else "pages/kpis.html"
    return page.render(template, context)


def _save_kpis(
    page: FirmPage, assessment_id: uuid.UUID, form: FormData, *, partial: bool
) -> Response:
    """Save the KPI step like a stage: a bad figure is shown in its field and nothing stored is
    lost."""
    check_same_origin(page.request)
    assessment = _draft(page.session, page.principal, assessment_id)
    questionnaire = _kpi_questionnaire(page.catalog, assessment)
    known = {kpi.id: kpi for kpi in questionnaire.kpis}
    submitted, problems = parse_kpi_form(form, questionnaire.kpis)
    base = f"/assessments/{assessment_id}"
    targets = {
        "previous": f"{base}/stages/{questionnaire.stages[-1].id}",
        "next": f"{base}/review",
    }
    target = targets.get(form_str(form, "action"), f"{base}/kpis?saved=1")
    step = _Step(
        template="pages/kpis.html",
        fragment="partials/kpi_form.html",
        context=lambda view, **extra: _kpi_context(page, questionnaire, view, **extra),
        typed={kpi.id: form_str(form, kpi.id) for kpi in questionnaire.kpis},
        problems=problems,
        message=lambda kid, code: kpi_message(page.lang, code, known.get(kid)),
        changes=lambda view: kpi_changes(view.kpis, submitted),
        update=lambda update: AnswersUpdate(kpis=dict(update)),
        target=lambda view: target,
        fields=tuple(kpi.id for kpi in questionnaire.kpis),
    )
    return _save_step(page, assessment, form_str(form, "etag"), step, partial=partial)


@router.post("/assessments/{assessment_id}/kpis", name="kpis_save")
def save_kpis(page: Page, assessment_id: uuid.UUID, form: FormDep) -> Response:
    """The explicit save of the baseline figures (and previous / on to the review)."""
    return _save_kpis(page, assessment_id, form, partial=False)


@router.post(
    "/assessments/{assessment_id}/kpis/autosave",
    response_class=HTMLResponse,
    name="kpis_autosave",
)
def autosave_kpis(page: Page, assessment_id: uuid.UUID, form: FormDep) -> Response:
    """htmx autosave of the baseline figures on change: answers like a stage's autosave (the
    figures never change shape, so the form is never re-rendered)."""
    return _save_kpis(page, assessment_id, form, partial=True)


# --- review and submit ------------------------------------------------------------------------


def _review(
    page: FirmPage, assessment: Assessment, *, error: str | None = None, status_code: int = 200
) -> Response:
    questionnaire = service.questionnaire_of(page.catalog, assessment)
    view = service.view(page.session, page.catalog, assessment, page.lang)
    open_items = [
        {
            "stage": questionnaire.stage(p.id),
            "questions": [questionnaire.question(qid) for qid in p.required_unanswered],
        }
        for p in view.progress
        if p.required_unanswered
    ]
    context = page.context() | {
        "assessment": view,
        "questionnaire": questionnaire,
        "progress": view.progress,
        "open_items": open_items,
        "error": error,
        "submit_key": secrets.token_urlsafe(16),
    }
    return page.render("pages/review.html", context, status_code=status_code)


@router.get("/assessments/{assessment_id}/review", response_class=HTMLResponse, name="review")
def review(page: Page, assessment_id: uuid.UUID) -> Response:
    assessment = service.get_visible(page.session, page.principal, assessment_id)
    if assessment.status != "draft":
        return redirect(page.request, f"/assessments/{assessment.id}/result")
    return _review(page, assessment)


@router.post("/assessments/{assessment_id}/submit", name="submit")
def submit(page: Page, assessment_id: uuid.UUID, form: FormDep) -> Response:
    check_same_origin(page.request)
    # The page's own key (token_urlsafe); one it did not issue that cannot be stored (a control
    # character: PostgreSQL refuses U+0000) leaves the submit without replay protection.
    sent = form_str(form, "submit_key")[:255]
    key = sent if sent and is_clean_text(sent) else None
    try:
        service.submit(
            page.session,
            page.principal,
            page.catalog,
            assessment_id,
            if_match=form_str(form, "etag"),
            idempotency_key=key,
            request_fingerprint=fingerprint("POST", page.request.url.path, b""),
            lang=page.lang,
            programmes=page.request.app.state.subsidies.programmes,
        )
    except (InvalidInput, PreconditionFailed) as exc:
        page.session.rollback()
        assessment = service.get_visible(page.session, page.principal, assessment_id)
        message = (
            tr(
                page.lang,
                "The answers were changed elsewhere since this page was loaded; "
                "check them below and submit again.",
            )
            if isinstance(exc, PreconditionFailed)
            else tr(page.lang, "Some required questions are still unanswered.")
        )
        return _review(page, assessment, error=message, status_code=exc.status_code)
    except Conflict:
        page.session.rollback()
    return redirect(page.request, f"/assessments/{assessment_id}/result")


#: How many roadmap steps the result page lists (templates/pages/result.html).
ROADMAP_STEPS = 10


# --- result and what-if -----------------------------------------------------------------------


def _what_if_questions(
    questionnaire: Questionnaire, roadmap: Mapping[str, Any] | None
) -> list[Question]:
    if not roadmap:
        return []
    ids: list[str] = []
    for step in (roadmap.get("what_if") or {}).get("changes", []) + roadmap.get("steps", []):
        qid = step.get("question_id")
        if qid and qid not in ids:
            ids.append(qid)
    return [questionnaire.question(qid) for qid in ids[:WHAT_IF_QUESTIONS]]


def _result_context(page: FirmPage, assessment_id: uuid.UUID) -> dict[str, Any] | Response:
    """The result page's context; a draft has none: the browser goes back to the wizard."""
    assessment = service.get_visible(page.session, page.principal, assessment_id)
    if assessment.status == "draft":
        return redirect(page.request, f"/assessments/{assessment.id}")
    result = service.get_result(
        page.session, page.principal, page.catalog, assessment_id, page.lang
    )
    questionnaire = service.questionnaire_of(page.catalog, assessment)
    view = service.view(page.session, page.catalog, assessment, page.lang)
    stage_titles = {s.id: s.title.get(page.lang) for s in questionnaire.stages}
    rung = Decimal(str(result.rung))
    overall = None if result.overall is None else Decimal(str(result.overall))
    # The report capability may be absent (a slimmer deployment): link the PDF only if served.
    has_pdf = PDF_ROUTE in page.request.app.openapi().get("paths", {})
    return page.context() | {
        "assessment": view,
        "questionnaire": questionnaire,
        "result": result,
        "score_line": score_label(overall, rung, page.lang),
        "stage_titles": stage_titles,
        "rungs": RUNGS,
        "at_top": rung_above(rung) is None,
        "ladder_svg": charts.ladder_svg(
            float(rung),
            None if overall is None else float(overall),
            lang=page.lang,
            you_label=tr(page.lang, "you"),
        ),
        "radar_svg": charts.radar_svg(
            [
                charts.RadarAxis(
                    label=stage_titles[s.id],
                    value=result.stages.get(s.id),
                )
                for s in questionnaire.stages
            ],
            lang=page.lang,
            series_label=tr(page.lang, "Score per stage"),
        ),
        "sec": results.subsidy_section(
            result, page.lang, shown_steps=ROADMAP_STEPS, today=shanghai_date()
        ),
        "roadmap_steps": ROADMAP_STEPS,
        "what_if_questions": _what_if_questions(questionnaire, result.roadmap),
        "answers": view.answers,
        "what_if": None,
        "pdf_url": PDF_ROUTE.format(assessment_id=assessment_id) + f"?lang={page.lang}"
        if has_pdf
        else None,
        "NA": NA,
    }


@router.get("/assessments/{assessment_id}/result", response_class=HTMLResponse, name="result")
def result_page(page: Page, assessment_id: uuid.UUID) -> Response:
    context = _result_context(page, assessment_id)
    if isinstance(context, Response):
        return context
    return page.render("pages/result.html", context)


@router.get("/assessments/{assessment_id}/what-if", response_class=HTMLResponse, name="what_if")
def what_if(page: Page, assessment_id: uuid.UUID, htmx: HtmxDep) -> Response:
    """Score changed answers on the fly; nothing is saved (a GET). Every answer that cannot be
    read or scored is named by its question, all in one alert (422), and a figure that cannot
    be read is shown again as typed."""
    context = _result_context(page, assessment_id)
    if isinstance(context, Response):
        return context
    questionnaire: Questionnaire = context["questionnaire"]
    questions: list[Question] = context["what_if_questions"]
    params = page.request.query_params
    form = FormData([(k, v) for k, v in params.multi_items()])
    submitted, problems = parse_stage_form(form, questions)
    hypothetical = dict(context["answers"])
    for qid, value in submitted.items():
        if value is None:
            continue
        hypothetical[qid] = value
    outcome: dict[str, Any] = {"errors": {}, "changed": [], "scored": None, "unanswered": []}
    profile = _profile(page.session, page.principal, context["assessment"].enterprise_id)
    # Scored even beside answers that could not be read (those keep the stored answer here), so
    # that every bad answer is named at once: one out of range or not offered went unnamed until
    # a typo elsewhere was fixed and the form sent again.
    try:
        scored = score(questionnaire, hypothetical, profile, with_roadmap=False)
    except InvalidAnswers as exc:
        refused = {issue.question_id: issue.code for issue in exc.issues}
    else:
        refused = {}
    codes = refused | problems
    if codes:
        order = {question.id: i for i, question in enumerate(questions)}
        outcome["errors"] = {
            qid: issue_message(page.lang, codes[qid], questionnaire.find_question(qid))
            for qid in sorted(codes, key=lambda qid: order.get(qid, len(order)))
        }
    else:
        outcome["scored"] = scored.to_dict(page.lang)
        # Questions the changes bring into play: scored as unanswered here, yet required
        # before a submit, where their answers count (raising the share of networked
        # machines from 0 makes two data questions apply).
        outcome["unanswered"] = [
            question
            for question in applicable_questions(questionnaire, hypothetical, profile)
            if question.required and hypothetical.get(question.id) is None
        ]
        outcome["changed"] = [
            questionnaire.question(qid)
            for qid in submitted
            if submitted[qid] is not None and submitted[qid] != context["answers"].get(qid)
        ]
    context["what_if"] = outcome
    context["answers"] = as_typed(form, hypothetical, problems)
    template = "partials/what_if.html" if htmx else "pages/result.html"
    return page.render(template, context, status_code=422 if outcome["errors"] else 200)


# --- history ----------------------------------------------------------------------------------


def trend_points(submitted: list[HistoryItem]) -> list[charts.TrendPoint]:
    """The trend chart's points: submissions oldest first (``submitted`` is newest first)."""
    return [
        charts.TrendPoint(
            label=item.submitted_at or "",
            overall=item.overall,
            rung=item.rung if item.rung is not None else 0.0,
        )
        for item in reversed(submitted)
    ]


@router.get("/history", response_class=HTMLResponse, name="history")
def history(page: Page) -> Response:
    past = page.own_history(100)
    submitted = [item for item in past if item.status == "submitted"]
    comparisons = service.kpi_comparisons(page.session, page.catalog, page.enterprise_id, page.lang)
    # The submission before each one (submitted is newest first): the oldest has none, and a
    # firm that never submitted has no pairs at all.
    earlier: list[HistoryItem | None] = [*submitted[1:], None] if submitted else []
    context = page.context() | {
        "items": past,
        "trend_svg": charts.trend_svg(trend_points(submitted), lang=page.lang)
        if submitted
        else None,
        "kpi_history": [
            {"item": item, "previous": previous, "rows": comparisons[item.id]}
            for item, previous in zip(submitted, earlier, strict=True)
            if item.id in comparisons
        ],
    }
    return page.render("pages/history.html", context)
