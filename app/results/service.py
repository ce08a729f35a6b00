"""The one writer and reader of a stored result.

A submitted assessment keeps its result as computed then (design §9): ``Result.payload`` holds
the engine's result in each language (``zh``, ``en``) and the unrounded scores (``exact``), and
``Result.subsidies`` the programmes matched on the submission date, one ``{"zh": …, "en": …}``
pair per programme. :func:`record` writes that shape; everything that shows a result — the API,
the result page, the PDF report, the subsidies view — reads it through :func:`view` (or
:func:`matches` and :func:`exact` for the subsidies alone).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.kit.i18n import LANGS, Lang
from app.models import Assessment, Result
from app.questionnaires.service import reference
from app.results.repository import ResultRepository
from app.results.schemas import Change, ResultRead
from scoring import Questionnaire, ScoreResult, round_score
from scoring.subsidies import ResultSnapshot, SubsidyMatch

# --- writing ---------------------------------------------------------------------------------


def exact_scores(scored: ScoreResult) -> dict[str, Any]:
    """The unrounded scores, kept so that later re-matching compares exact values."""
    return {
        "overall": None if scored.overall is None else str(scored.overall),
        "rung": str(scored.rung),
        "stages": {k: str(v) for k, v in scored.stages.items()},
    }


def record(
    session: Session,
    assessment: Assessment,
    scored: ScoreResult,
    matches: Sequence[SubsidyMatch],
    at: datetime,
) -> Result:
    """Store the result of a submission: scores rounded half-up to 2 dp for queries, the full
    result in each language, the exact scores and the matched programmes in each language."""
    return ResultRepository(session).add(
        Result(
            assessment_id=assessment.id,
            enterprise_id=assessment.enterprise_id,
            overall=None if scored.overall is None else round_score(scored.overall),
            rung=scored.rung,
            stages={k: float(round_score(v)) for k, v in scored.stages.items()},
            payload={
                **{lang: scored.to_dict(lang) for lang in LANGS},
                "exact": exact_scores(scored),
            },
            subsidies=[{lang: m.to_dict(lang) for lang in LANGS} for m in matches],
            computed_at=at,
        )
    )


# --- reading ---------------------------------------------------------------------------------


#: What ``ResultRead`` takes from the engine's stored result in the chosen language.
PAYLOAD_FIELDS = ("overall", "rung", "rung_name", "stages", "held_back_by", "roadmap", "crosswalk")


def matches(result: Result, lang: Lang) -> list[dict[str, Any]]:
    """The programmes matched at submission (``SubsidyMatch.to_dict(lang)``), every outcome."""
    return [dict(pair[lang]) for pair in result.subsidies]


def with_status(found: Sequence[Mapping[str, Any]], status: str) -> list[Mapping[str, Any]]:
    return [match for match in found if match.get("status") == status]


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
    return ResultRead(
        assessment_id=assessment.id,
        enterprise_id=assessment.enterprise_id,
        questionnaire=reference(questionnaire, lang),
        submitted_at=assessment.submitted_at,
        subsidies=matches(result, lang),
        **{name: payload[name] for name in PAYLOAD_FIELDS},
    )


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
