"""The one writer and reader of a stored result.

A submitted assessment keeps its result as computed then (design §9): ``Result.payload`` holds
the engine's result in each language (``zh``, ``en``) and the unrounded scores (``exact``), and
``Result.subsidies`` the subsidy advice on the submission date (``{"format": 2, "zh": …, "en":
…}``: ``SubsidyAdvice.to_dict`` plus the programmes funding each roadmap step). Results stored
before issue 15 kept a list of ``{"zh": match, "en": match}`` pairs (format 1); they are read as
advice with a summary and no total. :func:`record` writes; everything that shows a result — the
API, the result page, the PDF report, the subsidies view — reads it through :func:`view` (or
:func:`advice`, :func:`matches` and :func:`exact` for the subsidies alone).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.kit.dates import format_day, local_dates
from app.kit.i18n import LANGS, Lang
from app.models import Assessment, Result
from app.questionnaires.service import reference
from app.results.repository import ResultRepository
from app.results.schemas import (
    CashTotalRead,
    Change,
    CoverageRead,
    ResultRead,
    SubsidyMatchRead,
)
from scoring import Questionnaire, ScoreResult, round_score
from scoring.models import Text
from scoring.subsidies import (
    CONFIDENCE_LABELS,
    KIND_LABELS,
    LEVEL_LABELS,
    OUTCOME_LABELS,
    OUTCOMES,
    Outcome,
    ResultSnapshot,
    amount_label,
)
from scoring.subsidy_advice import SubsidyAdvice, SubsidySummary, funding_for

# --- writing ---------------------------------------------------------------------------------


def exact_scores(scored: ScoreResult) -> dict[str, Any]:
    """The unrounded scores, kept so that later re-matching compares exact values."""
    return {
        "overall": None if scored.overall is None else str(scored.overall),
        "rung": str(scored.rung),
        "stages": {k: str(v) for k, v in scored.stages.items()},
    }


def advice_payload(
    advice: SubsidyAdvice, roadmap: Mapping[str, Any] | None, lang: Lang
) -> dict[str, Any]:
    """The advice as stored and served (format 2): ``SubsidyAdvice.to_dict(lang)`` and
    ``funding``, the programmes that pay for each step of ``roadmap`` (``funding_for``)."""
    funding = []
    for step in (roadmap or {}).get("steps") or []:
        found = funding_for(advice.matches, step["stage_id"], step.get("question_id"))
        if found:
            funding.append(
                {
                    "stage_id": step["stage_id"],
                    "question_id": step.get("question_id"),
                    "programmes": [
                        {"id": m.programme.id, "name": m.programme.name.get(lang),
                         "outcome": m.outcome}
                        for m in found
                    ],
                }
            )  # fmt: skip
    return advice.to_dict(lang) | {"funding": funding}


#: What of the firm's profile a result keeps as it was at submission (``payload["assessed_as"]``):
#: the score's applicability and the subsidy advice were computed for it, so the report prints
#: it, not today's profile (a firm that moved district or grew after submitting was printed in
#: its new district beside advice matched on the old one).
ASSESSED_AS = ("district_code", "industry_code", "size_class", "employees")


def record(
    session: Session,
    assessment: Assessment,
    scored: ScoreResult,
    advice: SubsidyAdvice,
    at: datetime,
    *,
    profile: Mapping[str, object],
) -> Result:
    """Store the result of a submission: scores rounded half-up to 2 dp for queries, the full
    result in each language, the exact scores, the subsidy advice in each language and the
    ``profile`` they were computed for (its :data:`ASSESSED_AS` fields)."""
    payloads = {lang: scored.to_dict(lang) for lang in LANGS}
    subsidies: dict[str, Any] = {"format": 2}
    for lang in LANGS:
        roadmap: Any = payloads[lang].get("roadmap")
        subsidies[lang] = advice_payload(advice, roadmap, lang)
    return ResultRepository(session).add(
        Result(
            assessment_id=assessment.id,
            enterprise_id=assessment.enterprise_id,
            overall=None if scored.overall is None else round_score(scored.overall),
            rung=scored.rung,
            stages={k: float(round_score(v)) for k, v in scored.stages.items()},
            payload={
                **payloads,
                "exact": exact_scores(scored),
                "assessed_as": {name: profile[name] for name in ASSESSED_AS},
            },
            subsidies=subsidies,
            computed_at=at,
        )
    )


# --- reading ---------------------------------------------------------------------------------


def assessed_as(result: Result) -> dict[str, Any] | None:
    """The profile ``result`` was computed for (:data:`ASSESSED_AS`); None for a result kept
    before submissions recorded it."""
    stored = result.payload.get("assessed_as")
    return dict(stored) if isinstance(stored, Mapping) else None


#: What ``ResultRead`` takes from the engine's stored result in the chosen language.
PAYLOAD_FIELDS = ("overall", "rung", "rung_name", "stages", "held_back_by", "roadmap", "crosswalk")


def advice(result: Result, lang: Lang) -> dict[str, Any]:
    """The subsidy advice kept at submission, in ``lang`` (``SubsidyAdviceRead``'s shape)."""
    stored: Any = result.subsidies
    if isinstance(stored, Mapping) and stored.get("format") == 2:
        return dict(stored[lang])
    return _format1(stored, lang)


def matches(result: Result, lang: Lang) -> list[dict[str, Any]]:
    """The programmes matched at submission (``SubsidyMatch.to_dict(lang)``), every outcome."""
    found: list[dict[str, Any]] = advice(result, lang)["matches"]
    return found


#: The outcome a format-1 ``status`` stands for (dates outside the window: not eligible).
_FORMAT1_OUTCOMES: Mapping[str, Outcome] = {
    "eligible": "eligible",
    "near": "near",
    "ineligible": "not_eligible",
    "upcoming": "not_eligible",
    "closed": "not_eligible",
}
_OUTCOME_RANK = {outcome: rank for rank, outcome in enumerate(OUTCOMES)}


def _format1(pairs: list[Mapping[str, Any]], lang: Lang) -> dict[str, Any]:
    """A list of per-programme pairs read as advice: outcomes (from the format-1 ``status``
    where the match has none) and the summary they give; no total, unlocks or funding, which
    were not computed then."""
    found = []
    for pair in pairs:
        match = dict(pair[lang])
        if "outcome" not in match:
            match["outcome"] = _FORMAT1_OUTCOMES.get(str(match.get("status")), "not_eligible")
        found.append(match)
    found.sort(key=lambda match: _OUTCOME_RANK[match["outcome"]])
    counts = dict.fromkeys(OUTCOMES, 0)
    for match in found:
        counts[match["outcome"]] += 1
    return {
        "format": 1,
        "on": found[0].get("on") if found else None,
        "summary": SubsidySummary(len(found), counts).to_dict(lang),
        "total": None,
        "conflicts": [],
        "unlocks": [],
        "coverage": [],
        "funding": [],
        "matches": found,
    }


def _funded(roadmap: Mapping[str, Any] | None, funding: list[Mapping[str, Any]]) -> Any:
    """The stored roadmap with each step's ``funded_by`` (empty where no programme pays)."""
    if not roadmap:
        return roadmap
    by_step = {(f["stage_id"], f.get("question_id")): f["programmes"] for f in funding}
    steps = [
        {**step, "funded_by": by_step.get((step["stage_id"], step.get("question_id")), [])}
        for step in roadmap.get("steps") or []
    ]
    return {**roadmap, "steps": steps}


def roadmap(result: Result, lang: Lang) -> Mapping[str, Any] | None:
    """The roadmap computed at submission (without funding: :func:`view` adds it)."""
    stored: Mapping[str, Any] | None = result.payload[lang].get("roadmap")
    return stored


def exact(result: Result) -> ResultSnapshot:
    """The unrounded scores, for matching the stored answers against today's catalogue."""
    values: Mapping[str, Any] = result.payload["exact"]
    return ResultSnapshot(
        overall=None if values["overall"] is None else Decimal(values["overall"]),
        rung=Decimal(values["rung"]),
        stages={k: Decimal(v) for k, v in values["stages"].items()},
    )


def of_assessment(session: Session, assessment: Assessment) -> Result | None:
    """The assessment's stored result (None for a draft). The caller checked it may see it."""
    return ResultRepository(session).of_assessment(assessment.id)


def view(
    assessment: Assessment, result: Result, questionnaire: Questionnaire, lang: Lang
) -> ResultRead:
    """A stored result in ``lang``, as the API, the result page and the PDF report show it."""
    payload: Mapping[str, Any] = result.payload[lang]
    assert assessment.submitted_at is not None
    stored = advice(result, lang)
    fields = {name: payload[name] for name in PAYLOAD_FIELDS}
    fields["roadmap"] = _funded(payload["roadmap"], stored["funding"])
    return ResultRead.model_validate(
        {
            "assessment_id": assessment.id,
            "enterprise_id": assessment.enterprise_id,
            "questionnaire": reference(questionnaire, lang),
            "submitted_at": assessment.submitted_at,
            "subsidies": stored["matches"],
            "subsidy_advice": {k: v for k, v in stored.items() if k != "matches"},
            **fields,
        }
    )


# --- the subsidy section (result page and PDF report) ------------------------------------------


@dataclass(frozen=True, slots=True)
class StepRef:
    """A roadmap step by its number in the plan (1-based), for "do step 3"."""

    number: int
    question: str
    stage_id: str


@dataclass(frozen=True, slots=True)
class MatchView:
    """One match as the page and the PDF show it."""

    match: SubsidyMatchRead
    kind: str
    level: str
    confidence: str
    last_confirmed: str | None
    #: A near match: the roadmap steps that fix its failing conditions.
    fixes: tuple[StepRef, ...] = ()
    #: The day (the reader's form) the programme ended on, when that is after the advice and
    #: before the day the page is read (:func:`ended_since`).
    ended: str | None = None

    @property
    def amount_shown(self) -> bool:
        """A programme of unconfirmed validity shows no amount (issue 15)."""
        return self.match.outcome != "to_confirm" and self.match.estimate is not None


@dataclass(frozen=True, slots=True)
class OutcomeGroup:
    outcome: Outcome
    label: str
    matches: tuple[MatchView, ...]


@dataclass(frozen=True, slots=True)
class UnlockView:
    """A fact to declare, the programmes it could change, and where to declare it."""

    text: str
    label: str
    href: str
    programmes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SubsidySection:
    format: int
    summary: str
    groups: tuple[OutcomeGroup, ...]
    total: CashTotalRead | None
    #: The programmes the total adds: (name, amount worded as the programme's own estimate:
    #: ``scoring.subsidies.amount_label``).
    included: tuple[tuple[str, str], ...]
    unlocks: tuple[UnlockView, ...]
    gaps: tuple[CoverageRead, ...]
    #: The day the programmes were matched on (the submission's), in the reader's form.
    on: str | None = None
    #: The names of the programmes the total adds that have ended since (:func:`ended_since`).
    ended_in_total: tuple[str, ...] = ()
    #: The ids of every programme matched then that has ended since (roadmap steps name them).
    ended_ids: frozenset[str] = frozenset()


#: Where the facts form is (``app/enterprises/pages.py``): a fact's input, or the profile.
FACTS_FORM = "/settings#f-fact_{name}"
PROFILE_FORM = "/settings#profile-h"


def ended_since(match: SubsidyMatchRead, today: date) -> date | None:
    """The day a programme the firm was matched with (eligible, likely, near or to confirm)
    ended on, if it ended before ``today``; else None. The advice stays as kept at submission,
    but a page read later must not offer a programme whose window has closed since as one to
    apply for: it says when it ended."""
    if match.outcome == "not_eligible":
        return None
    stored = match.valid_until or (match.validity.valid_until if match.validity else None)
    if stored is None:
        return None
    try:
        until = date.fromisoformat(stored)
    except ValueError:
        return None
    return until if until < today else None


def subsidy_section(
    result: ResultRead, lang: Lang, *, shown_steps: int, today: date | None = None
) -> SubsidySection:
    """The stored advice grouped by outcome, with labels, each near match's fixing roadmap
    steps (those the page or PDF lists: a version-2 plan whole, as it is listed, a version-1
    roadmap's first ``shown_steps``) and each unlock's link to the facts form: what the result
    page and the PDF show. Given ``today`` (the page, read on any later day), every programme
    that has ended since is marked with the day it ended (:func:`ended_since`)."""
    roadmap = result.roadmap or {}
    steps = list(roadmap.get("steps") or [])
    if roadmap.get("version") != 2:
        steps = steps[:shown_steps]
    names = {match.id: match.name for match in result.subsidies}
    advice = result.subsidy_advice
    ended = {
        match.id: day
        for match in result.subsidies
        if today is not None and (day := ended_since(match, today)) is not None
    }

    def view(match: SubsidyMatchRead) -> MatchView:
        validity = match.validity
        last_confirmed = match.last_confirmed or (
            validity.last_confirmed if validity is not None else None
        )
        return MatchView(
            match=_dated(match, lang),
            kind=_label(KIND_LABELS, match.kind, lang),
            level=_label(LEVEL_LABELS, match.level, lang),
            confidence=_label(CONFIDENCE_LABELS, match.confidence, lang),
            last_confirmed=None if last_confirmed is None else local_dates(last_confirmed, lang),
            fixes=_fixing_steps(match, steps) if match.outcome == "near" else (),
            ended=format_day(ended[match.id], lang) if match.id in ended else None,
        )

    groups = tuple(
        OutcomeGroup(
            outcome,
            OUTCOME_LABELS[outcome].get(lang),
            tuple(view(m) for m in result.subsidies if m.outcome == outcome),
        )
        for outcome in OUTCOMES
    )
    total = advice.total
    included: tuple[tuple[str, str], ...] = ()
    if total is not None:
        estimates = {m.id: m.estimate for m in result.subsidies if m.estimate is not None}

        def amount(pid: str) -> str:
            estimate = estimates.get(pid)
            if estimate is None:
                return amount_label(Decimal(0), kind="fixed").get(lang)
            value = Decimal(estimate.amount_cny or 0)
            return amount_label(value, kind=estimate.kind, ceiling=estimate.ceiling).get(lang)

        included = tuple((names.get(pid, pid), amount(pid)) for pid in total.programmes)
    unlocks = tuple(
        UnlockView(
            text=unlock.text,
            label=unlock.label,
            href=(
                FACTS_FORM.format(name=unlock.name)
                if unlock.declared_in == "facts"
                else PROFILE_FORM
            ),
            programmes=tuple(
                names.get(pid, pid)
                for pid in dict.fromkeys([*unlock.qualify, *unlock.price, *unlock.settle])
            ),
        )
        for unlock in advice.unlocks
    )
    return SubsidySection(
        format=advice.format,
        summary=advice.summary.text,
        groups=groups,
        total=total,
        included=included,
        unlocks=unlocks,
        gaps=tuple(item for item in advice.coverage if item.note),
        on=None if advice.on is None else local_dates(advice.on, lang),
        ended_in_total=tuple(
            names.get(pid, pid) for pid in (total.programmes if total else ()) if pid in ended
        ),
        ended_ids=frozenset(ended),
    )


def _dated(match: SubsidyMatchRead, lang: Lang) -> SubsidyMatchRead:
    """``match`` with the dates of the engine's texts (its verdict, validity, conditions and
    items to confirm or do: ISO dates, as stored at submission) in the reader's form; the
    programme's own texts (name, summary, source) are shown as the catalogue wrote them."""

    def items(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            entry | {"text": local_dates(entry["text"], lang)}
            if isinstance(entry.get("text"), str)
            else entry
            for entry in entries
        ]

    validity = match.validity
    return match.model_copy(
        update={
            "headline": None if match.headline is None else local_dates(match.headline, lang),
            "validity": validity
            if validity is None or validity.text is None
            else validity.model_copy(update={"text": local_dates(validity.text, lang)}),
            "reasons": items(match.reasons),
            "to_confirm": items(match.to_confirm),
            "todo": items(match.todo),
        }
    )


def _label(table: Mapping[Any, Text], key: str | None, lang: Lang) -> str:
    text = table.get(key) if key is not None else None
    return key or "" if text is None else text.get(lang)


def _fixing_steps(match: SubsidyMatchRead, steps: list[Mapping[str, Any]]) -> tuple[StepRef, ...]:
    """The roadmap steps that fix a near match's to-do items: a stage target is fixed by the
    steps in that stage, an overall or rung target by the whole plan (it reaches the next
    rung), an answer by the step changing that question."""
    wanted: dict[int, StepRef] = {}
    for item in match.todo:
        head, _, rest = str(item.get("field", "")).partition(".")
        for number, step in enumerate(steps, 1):
            if (
                (head == "result" and rest.startswith("stages."))
                and step["stage_id"] == rest.removeprefix("stages.")
                or (head == "result" and rest in ("overall", "rung"))
                or (head == "answers" and step.get("question_id") == rest)
            ):
                wanted[number] = StepRef(number, str(step.get("question", "")), step["stage_id"])
    return tuple(wanted[number] for number in sorted(wanted))


# --- history and trend -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Submission:
    assessment_id: uuid.UUID
    questionnaire_id: str
    submitted_at: datetime
    result: Result
    #: Against the previous submission of the same questionnaire; None for the first.
    change: Change | None


def submissions(session: Session, enterprise_id: uuid.UUID) -> list[Submission]:
    """Every submission of the firm, oldest first, each with its change against the previous
    submission of the same questionnaire (one query, however many there are)."""
    previous: dict[str, Result] = {}
    out: list[Submission] = []
    for assessment_id, questionnaire_id, at, result in ResultRepository(session).submitted(
        enterprise_id
    ):
        before = previous.get(questionnaire_id)
        out.append(
            Submission(
                assessment_id,
                questionnaire_id,
                at,
                result,
                None if before is None else _change(result, before),
            )
        )
        previous[questionnaire_id] = result
    return out


def _change(result: Result, previous: Result) -> Change:
    """Differences of the stored (2 dp) scores, rounded half-up to 2 dp again."""

    def delta(a: object, b: object) -> float:
        return float(round_score(Decimal(str(a)) - Decimal(str(b))))

    return Change(
        overall=(
            delta(result.overall, previous.overall)
            if result.overall is not None and previous.overall is not None
            else None
        ),
        rung=delta(result.rung, previous.rung),
        stages={
            stage_id: delta(value, previous.stages[stage_id])
            for stage_id, value in result.stages.items()
            if stage_id in previous.stages
        },
    )
