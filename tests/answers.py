"""Filling questionnaires in tests: served questionnaires, answers at a chosen level, and an
assessment started, answered and submitted through the API."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi.testclient import TestClient

from app.enterprises import service as enterprise_service
from app.kit.settings import PROJECT_ROOT
from app.models import Enterprise
from scoring import Question, Questionnaire, applicable_questions, load_questionnaire_dir

FULL = "smart-manufacturing-maturity"
QUICK = "quick-check"


@cache
def _served() -> dict[tuple[str, int], Questionnaire]:
    directory = PROJECT_ROOT / "questionnaires"
    return {(q.id, q.version): q for q in load_questionnaire_dir(directory)}


def questionnaire(questionnaire_id: str = QUICK, version: int | None = None) -> Questionnaire:
    """A questionnaire served from ``questionnaires/``: the given version, or the latest (the
    one a new assessment gets when it names no version). Loaded once per test process."""
    served = _served()
    if version is None:
        version = max(v for qid, v in served if qid == questionnaire_id)
    return served[(questionnaire_id, version)]


def pick(question: Question, position: float) -> Any:
    """An answer at ``position`` (0 = lowest option or bound, 1 = highest)."""
    if question.type == "number":
        assert question.min is not None and question.max is not None
        value = question.min + (question.max - question.min) * type(question.min)(str(position))
        return int(value) if value == int(value) else float(value)
    options = [o for o in question.options if not (question.type == "multi" and o.exclusive)]
    chosen = options[min(len(options) - 1, int(position * len(options)))]
    return chosen.id if question.type == "single" else [chosen.id]


def complete_answers(
    questionnaire: Questionnaire, profile: dict[str, object], position: float = 0.6
) -> dict[str, Any]:
    """Answers to every question that applies, filled in served order (applicability can
    depend on earlier answers)."""
    answers: dict[str, Any] = {}
    for _ in range(3):
        for question in applicable_questions(questionnaire, answers, profile):
            answers.setdefault(question.id, pick(question, position))
        answers = {
            q.id: answers[q.id]
            for q in applicable_questions(questionnaire, answers, profile)
            if q.id in answers
        }
    return answers


def submit_assessment(
    client: TestClient,
    enterprise: Enterprise,
    questionnaire: Questionnaire,
    position: float = 0.6,
    headers: dict[str, str] | None = None,
    kpis: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Start, fill (with baseline ``kpis`` if given) and submit an assessment through the API;
    returns the result body."""
    headers = headers or {}
    created = client.post(
        f"/api/v1/enterprises/{enterprise.id}/assessments",
        json={"questionnaire_id": questionnaire.id, "questionnaire_version": questionnaire.version},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    answers = complete_answers(
        questionnaire, enterprise_service.scoring_profile(enterprise), position
    )
    put = client.put(
        f"/api/v1/assessments/{created.json()['id']}/answers",
        json={"answers": answers, "kpis": kpis or {}},
        headers=headers | {"If-Match": created.headers["ETag"]},
    )
    assert put.status_code == 200, put.text
    submitted = client.post(
        f"/api/v1/assessments/{created.json()['id']}/submit",
        headers=headers | {"If-Match": put.headers["ETag"]},
    )
    assert submitted.status_code == 200, submitted.text
    return dict(submitted.json())
