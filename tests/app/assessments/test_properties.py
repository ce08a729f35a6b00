"""Property: any sequence of valid partial PUTs stores what applying them in turn gives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import Question, Questionnaire
from tests.answers import QUICK
from tests.answers import questionnaire as served_questionnaire

Start = Callable[..., dict[str, Any]]


def answer_strategy(question: Question) -> st.SearchStrategy[Any]:
    if question.type == "number":
        assert question.min is not None and question.max is not None
        return st.integers(int(question.min), int(question.max))
    ids = [o.id for o in question.options]
    if question.type == "single":
        return st.sampled_from(ids)
    plain = [o.id for o in question.options if not o.exclusive]
    exclusive = [o.id for o in question.options if o.exclusive]
    choices = st.lists(st.sampled_from(plain), min_size=1, unique=True)
    if exclusive:
        choices = choices | st.sampled_from(exclusive).map(lambda option: [option])
    return choices


def updates_strategy(questionnaire: Questionnaire) -> st.SearchStrategy[list[dict[str, Any]]]:
    unconditional = [q for q in questionnaire.questions if q.applies_if is None]
    one_update = st.fixed_dictionaries(
        {},
        optional={q.id: st.none() | answer_strategy(q) for q in unconditional},
    )
    return st.lists(one_update, min_size=1, max_size=5)


def test_sequence_of_puts_equals_applying_them_in_turn(signed_in: TestClient, start: Start) -> None:
    questionnaire = served_questionnaire(QUICK)

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(updates_strategy(questionnaire))
    def check(updates: list[dict[str, Any]]) -> None:
        assessment = start(QUICK)
        expected: dict[str, Any] = {}
        for update in updates:
            response = signed_in.put(
                f"/api/v1/assessments/{assessment['id']}/answers",
                json={"answers": update},
                headers={"If-Match": assessment["etag"]},
            )
            assert response.status_code == 200, response.text
            assessment = response.json()
            for question_id, value in update.items():
                if value is None:
                    expected.pop(question_id, None)
                else:
                    expected[question_id] = value
        stored = signed_in.get(f"/api/v1/assessments/{assessment['id']}").json()["answers"]
        assert stored == expected

    check()
