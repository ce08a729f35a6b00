from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from app.assessments.schemas import AnswersUpdate
from app.enterprises.service import scoring_profile
from app.kit.settings import Settings
from app.models import Answer, Assessment, AuditEvent, Enterprise, Result
from scoring import Questionnaire, applicable_questions, score, validate_answers
from tests.answers import FULL, QUICK, complete_answers, pick, questionnaire, submit_assessment
from tests.factories import create_api_key, create_enterprise, create_user, login

Start = Callable[..., dict[str, Any]]


def put(
    client: TestClient, assessment: dict[str, Any], answers: dict[str, Any], etag: str | None = None
) -> Any:
    headers = {"If-Match": etag or assessment["etag"]}
    return client.put(
        f"/api/v1/assessments/{assessment['id']}/answers",
        json={"answers": answers},
        headers=headers,
    )


def first_question(questionnaire: Questionnaire, kind: str, **where: Any) -> Any:
    for question in questionnaire.questions:
        if (
            question.type == kind
            and question.applies_if is None
            and all(getattr(question, k) == v for k, v in where.items())
        ):
            return question
    pytest.skip(f"questionnaire has no unconditional {kind} question with {where}")


def test_the_documented_answers_example_is_valid_for_the_latest_questionnaire(
    enterprise: Enterprise, full_questionnaire: Questionnaire
) -> None:
    """The OpenAPI example named questions and options of no served version ("dig_systems",
    "auto_rate", "most" for a number): an integrator copying it got a 422."""
    [example] = AnswersUpdate.model_fields["answers"].examples or []
    assert validate_answers(full_questionnaire, example, scoring_profile(enterprise)) == []


class TestCreate:
    def test_a_prefilled_draft_is_answered_as_created(
        self,
        start: Start,
        signed_in: TestClient,
        enterprise: Enterprise,
        full_questionnaire: Questionnaire,
    ) -> None:
        """The 201 said no answers and version 1 while the draft held the previous answers at
        version 2, so a submit with its ETag was a 412 (found walking the API as a firm)."""
        previous = submit_assessment(signed_in, enterprise, full_questionnaire)
        created = start(prefill=True)
        stored = signed_in.get(f"/api/v1/assessments/{created['id']}").json()
        assert stored["answers"] and stored["answers"] == created["answers"]
        assert created["etag"] == stored["etag"]
        assert created["answered_share"] == stored["answered_share"] == 1.0
        submitted = signed_in.post(
            f"/api/v1/assessments/{created['id']}/submit", headers={"If-Match": created["etag"]}
        )
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["overall"] == previous["overall"]

    def test_starts_a_draft_on_the_latest_version(self, start: Start) -> None:
        assessment = start()
        assert assessment["status"] == "draft"
        assert assessment["questionnaire"]["id"] == FULL
        assert assessment["questionnaire"]["version"] == 2
        assert assessment["answers"] == {}
        assert assessment["next_stage"] == "digitization"
        assert [p["id"] for p in assessment["progress"]] == [
            "digitization",
            "automation",
            "data_collection",
            "cloud_adoption",
        ]

    def test_etag_header_matches_body(self, signed_in: TestClient, start: Start) -> None:
        assessment = start()
        response = signed_in.get(f"/api/v1/assessments/{assessment['id']}")
        assert response.headers["ETag"] == assessment["etag"] == response.json()["etag"]

    def test_unknown_questionnaire_is_422(
        self, signed_in: TestClient, enterprise: Enterprise
    ) -> None:
        response = signed_in.post(
            f"/api/v1/enterprises/{enterprise.id}/assessments", json={"questionnaire_id": "nope"}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body.questionnaire_id"

    def test_unknown_version_is_422(self, signed_in: TestClient, enterprise: Enterprise) -> None:
        response = signed_in.post(
            f"/api/v1/enterprises/{enterprise.id}/assessments",
            json={"questionnaire_id": FULL, "questionnaire_version": 99},
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body.questionnaire_version"

    def test_localised_by_accept_language(self, signed_in: TestClient, start: Start) -> None:
        assessment = start()
        zh = signed_in.get(f"/api/v1/assessments/{assessment['id']}")
        en = signed_in.get(
            f"/api/v1/assessments/{assessment['id']}", headers={"Accept-Language": "en-US,en;q=0.9"}
        )
        assert zh.json()["questionnaire"]["title"] != en.json()["questionnaire"]["title"]
        assert en.json()["questionnaire"]["title"].isascii()

    def test_audited(self, start: Start, db: Session) -> None:
        assessment = start()
        assert (
            db.scalar(select(AuditEvent.action).where(AuditEvent.target_id == assessment["id"]))
            == "assessment.create"
        )


class TestAnswers:
    def test_saves_and_changes_etag(
        self, signed_in: TestClient, start: Start, full_questionnaire: Questionnaire
    ) -> None:
        assessment = start()
        question = first_question(full_questionnaire, "single")
        response = put(signed_in, assessment, {question.id: question.options[0].id})
        assert response.status_code == 200, response.text
        assert response.json()["answers"] == {question.id: question.options[0].id}
        assert response.headers["ETag"] != assessment["etag"]

    def test_the_answer_is_the_saved_assessment_as_a_get_returns_it(
        self, signed_in: TestClient, start: Start, full_questionnaire: Questionnaire
    ) -> None:
        """The PUT's body is built from what it wrote, not read back: the same bytes as a GET
        of the same version, through answers added, changed and cleared, and KPIs."""
        assessment = start()
        single = first_question(full_questionnaire, "single")
        multi = first_question(full_questionnaire, "multi")
        url = f"/api/v1/assessments/{assessment['id']}"
        for body in (
            {"answers": {single.id: single.options[0].id}, "kpis": {"oee": 62.5}},
            {"answers": {multi.id: [multi.options[0].id]}},
            {"answers": {single.id: single.options[1].id}, "kpis": {"inventory_days": 45}},
            {"answers": {single.id: None}, "kpis": {"oee": None}},
        ):
            saved = signed_in.put(f"{url}/answers", json=body, headers={"If-Match": "*"})
            assert saved.status_code == 200, saved.text
            fetched = signed_in.get(url)
            assert saved.content == fetched.content
            assert saved.headers["ETag"] == fetched.headers["ETag"] == fetched.json()["etag"]
            assert saved.headers["content-type"] == fetched.headers["content-type"]

    def test_stored_as_rows_with_one_audit_row_per_write(
        self, signed_in: TestClient, start: Start, full_questionnaire: Questionnaire, db: Session
    ) -> None:
        """Each PUT stores its answers as rows (a changed answer in place, a number as sent)
        and one audit row naming the questions and the version it made, never the answers."""
        assessment = start()
        single = first_question(full_questionnaire, "single")
        number = first_question(full_questionnaire, "number")
        value = float(number.min + number.max) / 2
        url = f"/api/v1/assessments/{assessment['id']}/answers"
        responses = [
            signed_in.put(
                url,
                json={"answers": {single.id: single.options[0].id, number.id: value}},
                headers={"If-Match": assessment["etag"]},
            )
        ]
        responses.append(
            signed_in.put(
                url,
                json={"answers": {single.id: single.options[1].id}},
                headers={"If-Match": responses[0].headers["ETag"]},
            )
        )
        assert [r.status_code for r in responses] == [200, 200], responses[-1].text
        assert responses[1].json()["answers"] == {
            single.id: single.options[1].id,
            number.id: value,
        }
        rows = db.execute(
            select(Answer.question_id, Answer.value).where(
                Answer.assessment_id == uuid.UUID(assessment["id"])
            )
        )
        assert dict(rows.all()) == {single.id: single.options[1].id, number.id: value}
        events = db.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "assessment.answer")
            .where(AuditEvent.target_id == assessment["id"])
            .order_by(AuditEvent.id)
        ).all()
        assert [
            (e.actor_type, e.target_type, str(e.enterprise_id), e.request_id, e.detail)
            for e in events
        ] == [
            (
                "user",
                "assessment",
                assessment["enterprise_id"],
                response.headers["X-Request-ID"],
                {"questions": sorted(questions), "version": version},
            )
            for response, questions, version in zip(
                responses, ([single.id, number.id], [single.id]), (2, 3), strict=True
            )
        ]
        assert all(e.actor_id is not None and e.at is not None for e in events)

    def test_without_if_match_is_428(self, signed_in: TestClient, start: Start) -> None:
        assessment = start()
        response = signed_in.put(
            f"/api/v1/assessments/{assessment['id']}/answers", json={"answers": {}}
        )
        assert response.status_code == 428
        assert response.headers["content-type"] == "application/problem+json"

    def test_stale_etag_is_412_and_keeps_the_newer_answer(
        self, signed_in: TestClient, start: Start, full_questionnaire: Questionnaire
    ) -> None:
        assessment = start()
        question = first_question(full_questionnaire, "single")
        first = put(signed_in, assessment, {question.id: question.options[0].id})
        assert first.status_code == 200
        stale = put(signed_in, assessment, {question.id: question.options[1].id})
        assert stale.status_code == 412
        current = signed_in.get(f"/api/v1/assessments/{assessment['id']}").json()
        assert current["answers"][question.id] == question.options[0].id

    def test_null_clears_an_answer(
        self, signed_in: TestClient, start: Start, full_questionnaire: Questionnaire
    ) -> None:
        assessment = start()
        question = first_question(full_questionnaire, "single")
        saved = put(signed_in, assessment, {question.id: question.options[0].id}).json()
        cleared = put(signed_in, saved, {question.id: None})
        assert cleared.status_code == 200
        assert cleared.json()["answers"] == {}

    def test_every_bad_answer_named_and_none_saved(
        self,
        signed_in: TestClient,
        start: Start,
        full_questionnaire: Questionnaire,
        db: Session,
    ) -> None:
        assessment = start()
        single = first_question(full_questionnaire, "single")
        number = first_question(full_questionnaire, "number")
        multi = first_question(full_questionnaire, "multi")
        saved = put(signed_in, assessment, {single.id: single.options[0].id}).json()

        exclusive = next((o for o in multi.options if o.exclusive), None)
        other = next(o for o in multi.options if not o.exclusive)
        bad: dict[str, Any] = {
            "no_such_question": "x",
            single.id: "no_such_option",
            number.id: True,
        }
        expected = {
            "no_such_question": "unknown_question",
            single.id: "unknown_option",
            number.id: "not_a_number",
        }
        if exclusive is not None:
            bad[multi.id] = [exclusive.id, other.id]
            expected[multi.id] = "exclusive_conflict"
        response = put(signed_in, saved, bad)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        codes = {
            e["field"].removeprefix("body.answers."): e["code"] for e in response.json()["errors"]
        }
        assert codes == expected
        # Nothing of the bad request was saved, and the earlier answer is intact.
        stored = {a.question_id: a.value for a in db.scalars(select(Answer))}
        assert stored == {single.id: single.options[0].id}

    def test_number_out_of_bounds_and_na_not_allowed(
        self, signed_in: TestClient, start: Start, full_questionnaire: Questionnaire
    ) -> None:
        assessment = start()
        number = first_question(full_questionnaire, "number")
        single = first_question(full_questionnaire, "single", allow_na=False)
        assert number.max is not None
        response = put(signed_in, assessment, {number.id: float(number.max) + 1, single.id: "n/a"})
        codes = {e["field"]: e["code"] for e in response.json()["errors"]}
        assert codes == {
            f"body.answers.{number.id}": "out_of_bounds",
            f"body.answers.{single.id}": "na_not_allowed",
        }

    def test_answer_to_a_question_that_does_not_apply_is_422(
        self,
        signed_in: TestClient,
        start: Start,
        full_questionnaire: Questionnaire,
        enterprise: Enterprise,
    ) -> None:
        profile = scoring_profile(enterprise)
        conditional = [q for q in full_questionnaire.questions if q.applies_if is not None]
        assert conditional, "the full questionnaire adapts to answers"
        applicable = {q.id for q in applicable_questions(full_questionnaire, {}, profile)}
        target = next((q for q in conditional if q.id not in applicable), None)
        if target is None:
            pytest.skip("every conditional question applies to an empty answer set")
        response = put(signed_in, start(), {target.id: pick(target, 0.5)})
        assert response.status_code == 422
        assert response.json()["errors"][0]["code"] == "not_applicable"

    def test_malformed_body_is_problem_json(self, signed_in: TestClient, start: Start) -> None:
        assessment = start()
        response = signed_in.put(
            f"/api/v1/assessments/{assessment['id']}/answers",
            content=b'{"answers": ',
            headers={"If-Match": assessment["etag"], "content-type": "application/json"},
        )
        assert response.status_code == 400
        response = signed_in.put(
            f"/api/v1/assessments/{assessment['id']}/answers",
            json={"answers": []},
            headers={"If-Match": assessment["etag"]},
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body.answers"


class TestSubmit:
    def _fill(
        self,
        client: TestClient,
        assessment: dict[str, Any],
        q: Questionnaire,
        enterprise: Enterprise,
        position: float = 0.6,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        answers = complete_answers(q, scoring_profile(enterprise), position)
        response = put(client, assessment, answers)
        assert response.status_code == 200, response.text
        return response.json(), answers

    def test_missing_required_is_422_listing_them(
        self, signed_in: TestClient, start: Start
    ) -> None:
        assessment = start()
        response = signed_in.post(
            f"/api/v1/assessments/{assessment['id']}/submit",
            headers={"If-Match": assessment["etag"]},
        )
        assert response.status_code == 422
        assert all(e["code"] == "required" for e in response.json()["errors"])
        assert len(response.json()["errors"]) >= 4

    def test_result_equals_the_engine(
        self,
        signed_in: TestClient,
        start: Start,
        full_questionnaire: Questionnaire,
        enterprise: Enterprise,
    ) -> None:
        filled, answers = self._fill(signed_in, start(), full_questionnaire, enterprise)
        response = signed_in.post(
            f"/api/v1/assessments/{filled['id']}/submit", headers={"If-Match": filled["etag"]}
        )
        assert response.status_code == 200, response.text
        expected = score(full_questionnaire, answers, scoring_profile(enterprise)).to_dict("zh")
        body = response.json()
        # The API adds the programmes that fund each step (issue 15); the plan is the engine's.
        steps = body["roadmap"]["steps"]
        assert all(isinstance(step.pop("funded_by"), list) for step in steps)
        for key in (
            "overall",
            "rung",
            "rung_name",
            "stages",
            "held_back_by",
            "roadmap",
            "crosswalk",
        ):
            assert body[key] == json.loads(json.dumps(expected[key])), key
        again = signed_in.get(f"/api/v1/assessments/{filled['id']}/result").json()
        for step in again["roadmap"]["steps"]:
            del step["funded_by"]
        assert again == body

    def test_submitted_is_immutable(
        self,
        signed_in: TestClient,
        start: Start,
        full_questionnaire: Questionnaire,
        enterprise: Enterprise,
    ) -> None:
        filled, answers = self._fill(signed_in, start(), full_questionnaire, enterprise)
        signed_in.post(
            f"/api/v1/assessments/{filled['id']}/submit", headers={"If-Match": filled["etag"]}
        )
        current = signed_in.get(f"/api/v1/assessments/{filled['id']}").json()
        assert current["status"] == "submitted"
        assert put(signed_in, current, {}).status_code == 409
        again = signed_in.post(
            f"/api/v1/assessments/{filled['id']}/submit", headers={"If-Match": current["etag"]}
        )
        assert again.status_code == 409

    def test_result_is_revalidated_with_its_etag_per_language(
        self,
        signed_in: TestClient,
        start: Start,
        full_questionnaire: Questionnaire,
        enterprise: Enterprise,
    ) -> None:
        filled, _ = self._fill(signed_in, start(), full_questionnaire, enterprise)
        submitted = signed_in.post(
            f"/api/v1/assessments/{filled['id']}/submit", headers={"If-Match": filled["etag"]}
        )
        url = f"/api/v1/assessments/{filled['id']}/result"
        first = signed_in.get(url)
        assert first.status_code == 200
        assert first.json() == submitted.json()  # the stored bytes say what submit said
        assert first.headers["cache-control"] == "private, no-cache"
        assert first.headers["content-language"] == "zh-CN"
        etag = first.headers["etag"]
        assert signed_in.get(url).content == first.content
        again = signed_in.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        english = signed_in.get(url, params={"lang": "en"}, headers={"If-None-Match": etag})
        assert english.status_code == 200 and english.headers["etag"] != etag
        # The ETag names no one's result but this: another caller is still refused.
        signed_in.cookies.clear()
        assert signed_in.get(url, headers={"If-None-Match": etag}).status_code == 401

    def test_no_result_before_submit_is_404(self, signed_in: TestClient, start: Start) -> None:
        assessment = start()
        assert signed_in.get(f"/api/v1/assessments/{assessment['id']}/result").status_code == 404

    def test_idempotency_key_replays_and_refuses_other_requests(
        self,
        signed_in: TestClient,
        start: Start,
        full_questionnaire: Questionnaire,
        enterprise: Enterprise,
        db: Session,
    ) -> None:
        filled, _ = self._fill(signed_in, start(), full_questionnaire, enterprise)
        headers = {"If-Match": filled["etag"], "Idempotency-Key": "submit-1"}
        first = signed_in.post(f"/api/v1/assessments/{filled['id']}/submit", headers=headers)
        second = signed_in.post(f"/api/v1/assessments/{filled['id']}/submit", headers=headers)
        assert first.status_code == second.status_code == 200
        assert first.json() == second.json()
        assert second.headers["Idempotent-Replayed"] == "true"
        other = start()
        reused = signed_in.post(
            f"/api/v1/assessments/{other['id']}/submit",
            headers={"If-Match": other["etag"], "Idempotency-Key": "submit-1"},
        )
        assert reused.status_code == 422
        assert reused.json()["errors"][0]["field"] == "header.Idempotency-Key"
        assert db.scalar(select(func.count()).select_from(Result)) == 1

    def test_failed_submit_with_key_can_be_retried(
        self,
        signed_in: TestClient,
        start: Start,
        full_questionnaire: Questionnaire,
        enterprise: Enterprise,
    ) -> None:
        assessment = start()
        headers = {"If-Match": assessment["etag"], "Idempotency-Key": "k"}
        assert (
            signed_in.post(
                f"/api/v1/assessments/{assessment['id']}/submit", headers=headers
            ).status_code
            == 422
        )
        filled, _ = self._fill(signed_in, assessment, full_questionnaire, enterprise)
        retry = signed_in.post(
            f"/api/v1/assessments/{filled['id']}/submit",
            headers={"If-Match": filled["etag"], "Idempotency-Key": "k"},
        )
        assert retry.status_code == 200


class TestAnswersThatStopApplying:
    """An answer whose question stops applying is cleared by the write that made it stop (and
    named in ``cleared_not_applicable``), as the wizard does: progress, submit and the result
    then agree (API fuzzing round: every stage was complete, yet submit refused the stale
    answer as "unanswered")."""

    @staticmethod
    def _discrete(enterprise: Enterprise) -> tuple[Questionnaire, dict[str, Any]]:
        quick = questionnaire(QUICK)
        profile = scoring_profile(enterprise)
        answers: dict[str, Any] = {"qc_mode": "discrete"}
        for _ in range(3):
            for question in applicable_questions(quick, answers, profile):
                answers.setdefault(question.id, pick(question, 0.6))
        assert "qc_loading" in answers and "qc_process_control" not in answers
        return quick, answers

    def test_switching_the_mode_clears_the_answer_that_stops_applying(
        self, signed_in: TestClient, start: Start, enterprise: Enterprise, db: Session
    ) -> None:
        quick, answers = self._discrete(enterprise)
        filled = put(signed_in, start(QUICK), answers)
        assert filled.status_code == 200, filled.text
        assert filled.json()["cleared_not_applicable"] == []

        switched = put(signed_in, filled.json(), {"qc_mode": "process"})
        assert switched.status_code == 200, switched.text
        body = switched.json()
        assert body["cleared_not_applicable"] == ["qc_loading"]
        assert "qc_loading" not in body["answers"]
        automation = next(p for p in body["progress"] if p["id"] == "automation")
        assert automation["required_unanswered"] == ["qc_process_control"]
        assert not automation["complete"] and body["next_stage"] == "automation"
        stored = db.scalars(
            select(Answer.question_id).where(Answer.assessment_id == uuid.UUID(body["id"]))
        ).all()
        assert "qc_loading" not in stored
        audit = db.scalars(
            select(AuditEvent.detail)
            .where(AuditEvent.action == "assessment.answer")
            .where(AuditEvent.target_id == body["id"])
            .order_by(AuditEvent.id.desc())
        ).first()
        assert audit == {"questions": ["qc_mode"], "cleared": ["qc_loading"], "version": 3}
        # A GET of the same version says the same, but clears nothing itself.
        fetched = signed_in.get(f"/api/v1/assessments/{body['id']}").json()
        assert fetched["cleared_not_applicable"] == []
        assert {k: v for k, v in fetched.items() if k != "cleared_not_applicable"} == {
            k: v for k, v in body.items() if k != "cleared_not_applicable"
        }

        process = quick.find_question("qc_process_control")
        assert process is not None
        done = put(signed_in, body, {"qc_process_control": pick(process, 0.6)})
        assert done.status_code == 200, done.text
        assert all(p["complete"] for p in done.json()["progress"])
        submitted = signed_in.post(
            f"/api/v1/assessments/{body['id']}/submit",
            headers={"If-Match": done.json()["etag"]},
        )
        assert submitted.status_code == 200, submitted.text
        final = {k: v for k, v in answers.items() if k != "qc_loading"} | {
            "qc_mode": "process",
            "qc_process_control": pick(process, 0.6),
        }
        expected = score(quick, final, scoring_profile(enterprise))
        assert submitted.json()["stages"] == {k: float(v) for k, v in expected.stages.items()}

    def test_a_stored_answer_that_no_longer_applies_does_not_block_submit(
        self, signed_in: TestClient, start: Start, enterprise: Enterprise, db: Session
    ) -> None:
        """A draft can still hold one (saved before this release, or when the firm's profile
        changed since): submit leaves it out of the score and the subsidy match and drops it,
        as progress already did."""
        quick, answers = self._discrete(enterprise)
        process = quick.find_question("qc_process_control")
        assert process is not None
        now = answers | {"qc_mode": "process", "qc_process_control": pick(process, 0.6)}
        del now["qc_loading"]
        filled = put(signed_in, start(QUICK), now)
        assert filled.status_code == 200, filled.text
        assessment_id = uuid.UUID(filled.json()["id"])
        db.add(Answer(assessment_id=assessment_id, question_id="qc_loading", value="manual"))
        db.commit()
        view = signed_in.get(f"/api/v1/assessments/{assessment_id}").json()
        assert view["answers"]["qc_loading"] == "manual"
        assert "qc_loading" not in view["applicable_questions"]
        assert all(p["complete"] for p in view["progress"])

        submitted = signed_in.post(
            f"/api/v1/assessments/{assessment_id}/submit", headers={"If-Match": view["etag"]}
        )
        assert submitted.status_code == 200, submitted.text
        expected = score(quick, now, scoring_profile(enterprise))
        assert submitted.json()["stages"] == {k: float(v) for k, v in expected.stages.items()}
        db.rollback()  # a fresh snapshot: the request committed in its own session
        stored = db.scalars(
            select(Answer.question_id).where(Answer.assessment_id == assessment_id)
        ).all()
        assert sorted(stored) == sorted(now)

    def test_submit_names_what_is_wrong(
        self, signed_in: TestClient, start: Start, enterprise: Enterprise, db: Session
    ) -> None:
        """Unanswered required questions and stored answers that are not valid are told apart."""
        quick, answers = self._discrete(enterprise)
        del answers["qc_erp"]
        filled = put(signed_in, start(QUICK), answers)
        assert filled.status_code == 200, filled.text
        assessment_id = uuid.UUID(filled.json()["id"])
        # Not one the API would save: as if the stored row had been edited by hand.
        db.execute(
            update(Answer)
            .where(Answer.assessment_id == assessment_id, Answer.question_id == "qc_planning")
            .values(value="bogus")
        )
        db.commit()
        etag = signed_in.get(f"/api/v1/assessments/{assessment_id}").json()["etag"]
        response = signed_in.post(
            f"/api/v1/assessments/{assessment_id}/submit",
            headers={"If-Match": etag, "Accept-Language": "en"},
        )
        assert response.status_code == 422
        problem = response.json()
        assert problem["detail"] == (
            "Some required questions are unanswered: qc_erp. "
            "Some saved answers are not valid: qc_planning."
        )
        assert {e["field"]: e["code"] for e in problem["errors"]} == {
            "body.answers.qc_erp": "required",
            "body.answers.qc_planning": "unknown_option",
        }


class TestAnswersThatChangeNothing:
    """A PUT that would store exactly what is stored writes nothing: no new version (every
    other client's If-Match stays current, instead of a 412 for nothing), no audit row for a
    non-event. It still passes every check a write passes, in the same order."""

    @staticmethod
    def _filled(
        client: TestClient, start: Start, questionnaire: Questionnaire
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A draft with a single, a number and a multi answer and two KPIs: its view, and the
        body that stored them."""
        single = first_question(questionnaire, "single")
        number = first_question(questionnaire, "number")
        multi = first_question(questionnaire, "multi")
        body = {
            "answers": {
                single.id: pick(single, 0.5),
                number.id: pick(number, 0.5),
                multi.id: pick(multi, 0.5),
            },
            "kpis": {"oee": 62.5, "inventory_days": 45},
        }
        assessment = start()
        saved = client.put(
            f"/api/v1/assessments/{assessment['id']}/answers",
            json=body,
            headers={"If-Match": assessment["etag"]},
        )
        assert saved.status_code == 200, saved.text
        return saved.json(), body

    @staticmethod
    def _with_a_stale_answer(signed_in: TestClient, db: Session, start: Start) -> dict[str, Any]:
        """A quick-check draft answered in process mode, with a stored answer to a question
        of discrete mode (qc_loading), which does not apply to it."""
        quick = questionnaire(QUICK)
        answers = {"qc_mode": "process"}
        for _ in range(3):
            for question in applicable_questions(quick, answers, {}):
                answers.setdefault(question.id, pick(question, 0.6))
        filled: dict[str, Any] = put(signed_in, start(QUICK), answers).json()
        db.add(
            Answer(assessment_id=uuid.UUID(filled["id"]), question_id="qc_loading", value="manual")
        )
        db.commit()
        return filled

    @staticmethod
    def _audited(db: Session, assessment: dict[str, Any]) -> int:
        db.rollback()  # a fresh snapshot: the requests committed in their own sessions
        return int(
            db.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.target_id == assessment["id"])
            )
            or 0
        )

    def test_sending_the_stored_answers_again_keeps_the_etag_and_writes_nothing(
        self,
        signed_in: TestClient,
        other: TestClient,
        db: Session,
        start: Start,
        full_questionnaire: Questionnaire,
        enterprise: Enterprise,
    ) -> None:
        """Each re-sent PUT bumped the version and wrote an audit row: another client holding
        the ETag got 412 on its next write although nothing had changed."""
        saved, body = self._filled(signed_in, start, full_questionnaire)
        url = f"/api/v1/assessments/{saved['id']}"
        audited = self._audited(db, saved)
        stored = db.get(Assessment, uuid.UUID(saved["id"]))
        assert stored is not None
        version, updated_at = stored.version, stored.updated_at
        unanswered = next(
            q.id
            for q in applicable_questions(
                full_questionnaire, body["answers"], scoring_profile(enterprise)
            )
            if q.id not in body["answers"]
        )
        for again in (
            body,
            {"answers": {}},
            {"kpis": {}},
            # A KPI is stored as a number, whole ones as integers: 45.0 is the 45 stored.
            {"answers": body["answers"], "kpis": {"inventory_days": 45.0, "oee": 62.5}},
            # Clearing what is not stored clears nothing.
            {"answers": {unanswered: None}, "kpis": {"first_pass_yield": None}},
        ):
            response = signed_in.put(
                f"{url}/answers", json=again, headers={"If-Match": saved["etag"]}
            )
            assert response.status_code == 200, (again, response.text)
            assert response.headers["ETag"] == response.json()["etag"] == saved["etag"], again
            assert response.content == signed_in.get(url).content, again
        assert self._audited(db, saved) == audited
        db.refresh(stored)
        assert (stored.version, stored.updated_at) == (version, updated_at)

        # Another client that read the assessment before those PUTs still writes with its ETag.
        login(other, create_user(db, enterprise=enterprise))
        single = first_question(full_questionnaire, "single")
        changed = next(o.id for o in single.options if o.id != body["answers"][single.id])
        response = other.put(
            f"{url}/answers",
            json={"answers": {single.id: changed}},
            headers={"If-Match": saved["etag"]},
        )
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] != saved["etag"]
        assert self._audited(db, saved) == audited + 1

    def test_an_answer_is_compared_as_the_json_it_is_stored_as(
        self, signed_in: TestClient, start: Start, full_questionnaire: Questionnaire
    ) -> None:
        """An answer is stored as sent, as its database keeps it: 50.0 over a stored 50 is a
        change where it is kept as 50.0 (PostgreSQL) and none where it is kept as 50 (SQLite's
        NUMERIC affinity), and the PUT answers what a GET then reads; sent again, it changes
        nothing on either. "50" is no number (422), and a list in another order is another
        answer."""
        saved, body = self._filled(signed_in, start, full_questionnaire)
        url = f"/api/v1/assessments/{saved['id']}"
        number = first_question(full_questionnaire, "number")
        multi = first_question(full_questionnaire, "multi")
        whole = body["answers"][number.id]
        assert isinstance(whole, int)
        as_float = put(signed_in, saved, {number.id: float(whole)})
        assert as_float.status_code == 200, as_float.text
        after = signed_in.get(url)
        assert as_float.content == after.content
        stored = after.json()["answers"][number.id]  # 50.0 or 50, as the JSON text says
        assert stored == whole and type(stored) in (int, float)
        assert (as_float.headers["ETag"] != saved["etag"]) == (type(stored) is float)
        again = put(signed_in, as_float.json(), {number.id: float(whole)})
        assert again.headers["ETag"] == as_float.headers["ETag"]
        assert put(signed_in, again.json(), {number.id: str(whole)}).status_code == 422

        two = [o.id for o in multi.options if not o.exclusive][:2]
        ordered = put(signed_in, again.json(), {multi.id: two})
        reordered = put(signed_in, ordered.json(), {multi.id: two[::-1]})
        assert reordered.status_code == ordered.status_code == 200, reordered.text
        assert reordered.headers["ETag"] != ordered.headers["ETag"]
        assert reordered.json()["answers"][multi.id] == two[::-1]

    def test_the_checks_of_every_write_come_first(
        self, signed_in: TestClient, db: Session, start: Start, full_questionnaire: Questionnaire
    ) -> None:
        """Sending the stored answers again is still refused as any write is: a stale
        If-Match 412, none 428, a submitted assessment 409; and an answer that is not valid
        now (a stored one whose question no longer applies, sent back) 422."""
        first, body = self._filled(signed_in, start, full_questionnaire)
        url = f"/api/v1/assessments/{first['id']}/answers"
        saved = signed_in.put(url, json=body, headers={"If-Match": "*"}).json()
        assert saved["etag"] == first["etag"]
        single = first_question(full_questionnaire, "single")
        changed = next(o.id for o in single.options if o.id != body["answers"][single.id])
        newer = put(signed_in, saved, {single.id: changed})
        assert newer.status_code == 200, newer.text
        # What is stored now, sent with the ETag read before it was stored.
        stale = put(signed_in, saved, {single.id: changed})
        assert stale.status_code == 412
        assert stale.headers["ETag"] == newer.headers["ETag"]
        assert signed_in.put(url, json={"answers": {single.id: changed}}).status_code == 428

        filled = self._with_a_stale_answer(signed_in, db, start)
        refused = put(signed_in, filled, {"qc_loading": "manual"})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["code"] == "not_applicable"

        submitted = signed_in.post(
            f"/api/v1/assessments/{filled['id']}/submit", headers={"If-Match": filled["etag"]}
        )
        assert submitted.status_code == 200, submitted.text
        current = signed_in.get(f"/api/v1/assessments/{filled['id']}").json()
        closed = put(signed_in, current, {"qc_mode": "process"})
        assert closed.status_code == 409

    def test_a_stored_answer_that_stopped_applying_is_still_cleared(
        self, signed_in: TestClient, db: Session, start: Start
    ) -> None:
        """The answers sent are the ones stored, but a stored answer no longer applies: the
        write clears it, so it is a change (a new version, an audit row)."""
        filled = self._with_a_stale_answer(signed_in, db, start)
        audited = self._audited(db, filled)
        response = put(signed_in, filled, {"qc_mode": "process"})
        assert response.status_code == 200, response.text
        assert response.json()["cleared_not_applicable"] == ["qc_loading"]
        assert response.headers["ETag"] != filled["etag"]
        assert self._audited(db, filled) == audited + 1

    def test_it_runs_the_reads_of_a_write_and_no_write(
        self,
        app: FastAPI,
        signed_in: TestClient,
        start: Start,
        full_questionnaire: Questionnaire,
        settings: Settings,
    ) -> None:
        """A PUT that changes nothing runs the reads a PUT that changes something runs, and no
        write: in the API's autocommit on PostgreSQL nothing is opened for writing, and no
        query is added to the write path."""
        saved, body = self._filled(signed_in, start, full_questionnaire)
        url = f"/api/v1/assessments/{saved['id']}/answers"
        single = first_question(full_questionnaire, "single")
        changed = next(o.id for o in single.options if o.id != body["answers"][single.id])

        def statements(sent: dict[str, Any]) -> list[str]:
            seen: list[str] = []

            def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
                seen.append(" ".join(statement.split()))

            engine = app.state.database.engine
            event.listen(engine, "before_cursor_execute", note)
            try:
                response = signed_in.put(url, json=sent, headers={"If-Match": "*"})
            finally:
                event.remove(engine, "before_cursor_execute", note)
            assert response.status_code == 200, response.text
            return seen

        unchanged = statements(body)
        changing = statements({"answers": {single.id: changed}})
        writes = ("INSERT", "UPDATE", "DELETE", "WITH")
        assert [s for s in changing if s.upper().startswith(writes)]
        assert unchanged == [s for s in changing if not s.upper().startswith(writes)]
        if settings.DATABASE_URL.startswith("postgresql"):
            # The draft's read, then the one statement of the write (save_draft's CTEs).
            assert len([s for s in changing if "assessment" in s]) == 2


class TestHistory:
    def test_lists_newest_first_with_change(
        self,
        signed_in: TestClient,
        start: Start,
        full_questionnaire: Questionnaire,
        enterprise: Enterprise,
    ) -> None:
        submitted = []
        for position in (0.2, 0.9):
            assessment = start()
            answers = complete_answers(full_questionnaire, scoring_profile(enterprise), position)
            filled = put(signed_in, assessment, answers).json()
            result = signed_in.post(
                f"/api/v1/assessments/{filled['id']}/submit", headers={"If-Match": filled["etag"]}
            ).json()
            submitted.append(result)
        draft = start()
        page = signed_in.get(f"/api/v1/enterprises/{enterprise.id}/assessments").json()
        assert [item["id"] for item in page["items"]][0] == draft["id"]
        newest, oldest = page["items"][1], page["items"][2]
        assert oldest["change"] is None
        assert newest["change"]["overall"] == pytest.approx(
            submitted[1]["overall"] - submitted[0]["overall"], abs=0.011
        )
        assert page["next_cursor"] is None

    def test_cursor_pages_without_gaps(
        self, signed_in: TestClient, start: Start, enterprise: Enterprise
    ) -> None:
        ids = {start(QUICK)["id"] for _ in range(5)}
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = signed_in.get(
                f"/api/v1/enterprises/{enterprise.id}/assessments", params=params
            ).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(ids)

    def test_bad_cursor_is_422(self, signed_in: TestClient, enterprise: Enterprise) -> None:
        response = signed_in.get(
            f"/api/v1/enterprises/{enterprise.id}/assessments", params={"cursor": "garbage!"}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "query.cursor"


class TestAccess:
    def test_other_enterprise_cannot_see_or_write(
        self, client: TestClient, start: Start, db: Session
    ) -> None:
        assessment = start()
        other = create_user(db, enterprise=create_enterprise(db))
        login(client, other)
        assert client.get(f"/api/v1/assessments/{assessment['id']}").status_code == 404
        assert put(client, assessment, {}).status_code == 404
        assert (
            client.post(
                f"/api/v1/assessments/{assessment['id']}/submit",
                headers={"If-Match": assessment["etag"]},
            ).status_code
            == 404
        )
        assert client.get(f"/api/v1/assessments/{assessment['id']}/result").status_code == 404
        assert (
            client.post(
                f"/api/v1/enterprises/{assessment['enterprise_id']}/assessments",
                json={"questionnaire_id": FULL},
            ).status_code
            == 404
        )
        assert (
            client.get(f"/api/v1/enterprises/{assessment['enterprise_id']}/assessments").status_code
            == 404
        )

    def test_official_sees_no_assessment(
        self, client: TestClient, start: Start, db: Session
    ) -> None:
        assessment = start()
        login(client, create_user(db, role="official"))
        assert client.get(f"/api/v1/assessments/{assessment['id']}").status_code == 404

    def test_admin_sees_every_assessment(
        self, client: TestClient, start: Start, db: Session
    ) -> None:
        assessment = start()
        login(client, create_user(db, role="admin"))
        assert client.get(f"/api/v1/assessments/{assessment['id']}").status_code == 200

    def test_integrator_without_grant_gets_404(
        self, client: TestClient, start: Start, db: Session, settings: Settings
    ) -> None:
        assessment = start()
        key, _ = create_api_key(db, settings)
        client.cookies.clear()
        response = client.get(
            f"/api/v1/assessments/{assessment['id']}", headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 404

    def test_anonymous_is_401(self, client: TestClient, start: Start) -> None:
        assessment = start()
        client.cookies.clear()
        assert client.get(f"/api/v1/assessments/{assessment['id']}").status_code == 401


class TestRaces:
    def test_two_writers_with_the_same_etag_exactly_one_wins(
        self,
        signed_in: TestClient,
        start: Start,
        full_questionnaire: Questionnaire,
    ) -> None:
        assessment = start()
        question = first_question(full_questionnaire, "single")
        options = [o.id for o in question.options]
        assert len(options) >= 3

        def write(option: str) -> int:
            return int(put(signed_in, assessment, {question.id: option}).status_code)

        for _ in range(3):
            current = signed_in.get(f"/api/v1/assessments/{assessment['id']}").json()
            assessment = current
            # Two changes (sending the stored answer again would change nothing, and win too).
            changes = [o for o in options if o != current["answers"].get(question.id)][:2]
            with ThreadPoolExecutor(2) as pool:
                statuses = sorted(pool.map(write, changes))
            assert statuses == [200, 412]

    def test_concurrent_retries_of_one_submit_make_one_result(
        self,
        signed_in: TestClient,
        start: Start,
        full_questionnaire: Questionnaire,
        enterprise: Enterprise,
        db: Session,
    ) -> None:
        answers = complete_answers(full_questionnaire, scoring_profile(enterprise))
        filled = put(signed_in, start(), answers).json()
        headers = {"If-Match": filled["etag"], "Idempotency-Key": "retry-me"}

        def submit(_: int) -> tuple[int, Any]:
            r = signed_in.post(f"/api/v1/assessments/{filled['id']}/submit", headers=headers)
            return r.status_code, r.json()

        with ThreadPoolExecutor(10) as pool:
            outcomes = list(pool.map(submit, range(10)))
        statuses = [s for s, _ in outcomes]
        assert set(statuses) <= {200, 409}
        assert statuses.count(200) >= 1
        bodies = {json.dumps(b, sort_keys=True) for s, b in outcomes if s == 200}
        assert len(bodies) == 1
        assert db.scalar(select(func.count()).select_from(Result)) == 1
