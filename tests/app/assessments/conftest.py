from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.kit.settings import PROJECT_ROOT
from app.models import Enterprise
from scoring import Question, Questionnaire, applicable_questions, load_questionnaire
from tests.factories import create_enterprise, create_user, login

FULL = "smart-manufacturing-maturity"
QUICK = "quick-check"


@pytest.fixture(scope="session")
def full_questionnaire() -> Questionnaire:
    return load_questionnaire(PROJECT_ROOT / "questionnaires" / f"{FULL}.yaml")


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


@pytest.fixture
def enterprise(db: Session) -> Enterprise:
    return create_enterprise(db)


@pytest.fixture
def signed_in(client: TestClient, db: Session, enterprise: Enterprise) -> TestClient:
    login(client, create_user(db, enterprise=enterprise))
    return client


@pytest.fixture
def start(signed_in: TestClient, enterprise: Enterprise) -> Callable[..., dict[str, Any]]:
    def _start(questionnaire_id: str = FULL, **extra: Any) -> dict[str, Any]:
        response = signed_in.post(
            f"/api/v1/enterprises/{enterprise.id}/assessments",
            json={"questionnaire_id": questionnaire_id, **extra},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    return _start
