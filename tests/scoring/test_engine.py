"""Answer validation, applicability, question levels and the result's JSON shape."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from scoring import (
    ANSWER_ISSUE_CODES,
    AnswerIssue,
    InvalidAnswers,
    Phrase,
    Questionnaire,
    applicable_questions,
    question_level,
    score,
    validate_answers,
)

BAD_ANSWERS = [
    ({"nope": "x"}, "nope", "unknown_question"),
    ({"q1": 3}, "q1", "wrong_type"),
    ({"q1": ["l300"]}, "q1", "wrong_type"),
    ({"q1": "l999"}, "q1", "unknown_option"),
    ({"q1": "n/a"}, "q1", "na_not_allowed"),
    ({"q4": True}, "q4", "not_a_number"),  # JSON booleans are not numbers
    ({"q4": "40"}, "q4", "not_a_number"),
    ({"q4": float("nan")}, "q4", "not_a_number"),
    ({"q4": [40]}, "q4", "not_a_number"),
    ({"q4": 100.5}, "q4", "out_of_bounds"),
    ({"q4": -1}, "q4", "out_of_bounds"),
    ({"q5": "a"}, "q5", "wrong_type"),
    ({"q5": ["a", 1]}, "q5", "wrong_type"),
    ({"q5": [["a"]]}, "q5", "wrong_type"),
    ({"q5": []}, "q5", "empty_selection"),
    ({"q5": ["a", "a"]}, "q5", "duplicate_option"),
    ({"q5": ["a", "zz"]}, "q5", "unknown_option"),
    ({"q5": ["none", "a"]}, "q5", "exclusive_conflict"),
    ({"q3": "l300", "q6": ["x"]}, "q6", "not_applicable"),
]


@pytest.mark.parametrize(("answers", "question_id", "code"), BAD_ANSWERS)
def test_validation_codes(
    golden: Questionnaire, answers: dict[str, Any], question_id: str, code: str
) -> None:
    issues = validate_answers(golden, answers)
    assert [(issue.question_id, issue.code) for issue in issues] == [(question_id, code)]
    assert code in ANSWER_ISSUE_CODES
    assert issues[0].message


def test_score_raises_with_every_issue_but_ignores_not_applicable(golden: Questionnaire) -> None:
    with pytest.raises(InvalidAnswers) as caught:
        score(golden, {"q1": "bad", "q4": 500, "q3": "l300", "q6": ["x"], "zz": 1})
    assert [(i.question_id, i.code) for i in caught.value.issues] == [
        ("zz", "unknown_question"),
        ("q1", "unknown_option"),
        ("q4", "out_of_bounds"),
    ]
    assert str(caught.value).startswith("3 invalid answers")
    assert str(AnswerIssue("q1", "required", "needs an answer")) == "q1: needs an answer [required]"
    assert score(golden, {"q3": "l300", "q6": ["x"]}).stages == {"s3": Decimal(3)}


@pytest.mark.parametrize(("answers", "question_id", "code"), BAD_ANSWERS)
def test_an_issues_message_keeps_its_template_and_values(
    golden: Questionnaire, answers: dict[str, Any], question_id: str, code: str
) -> None:
    """The API says an answer's problem in the request's language: the message is a Phrase,
    the English text itself, with the template and the values it was made from."""
    [issue] = validate_answers(golden, answers)
    assert isinstance(issue.message, Phrase)
    assert issue.message == issue.message.template % issue.message.params
    assert "{" not in issue.message.template


def test_a_phrase_is_its_english_text() -> None:
    phrase = Phrase("%(option)s is not an option of this question", option="'x'")
    assert phrase == "'x' is not an option of this question"
    assert (phrase.template, dict(phrase.params)) == (
        "%(option)s is not an option of this question",
        {"option": "'x'"},
    )
    assert json.dumps({"message": phrase}) == json.dumps({"message": str(phrase)})


def test_complete_check_reports_required(golden: Questionnaire) -> None:
    assert validate_answers(golden, {"q1": "l300"}) == []
    issues = validate_answers(golden, {"q1": "l300", "q2": None}, partial=False)
    assert [(i.question_id, i.code) for i in issues] == [("q2", "required"), ("q3", "required")]


def test_valid_answers_of_every_kind(golden: Questionnaire) -> None:
    answers = {
        "q1": "l300", "q1b": "l400", "q2": "l275", "q3": "l375", "q4": Decimal("12.5"),
        "q5": ("a", "b", "c"), "q6": ["none"],
    }  # fmt: skip
    assert validate_answers(golden, answers, partial=False) == []
    assert validate_answers(golden, {"q4": "n/a", "q4x": None} | {"q3": "l350"}) == [
        AnswerIssue("q4x", "unknown_question", "no such question in this questionnaire")
    ]


def test_applicable_questions_follow_answers(golden: Questionnaire) -> None:
    ids = [q.id for q in applicable_questions(golden, {"q3": "l300"})]
    assert "q6" not in ids
    ids = [q.id for q in applicable_questions(golden, {"q3": "l375"}, {"size_class": "small"})]
    assert ids[-1] == "q6"


def test_applicable_questions_take_an_invalid_answer_for_none(golden: Questionnaire) -> None:
    """Answers as a form sent them, before validation (the wizard decides what still applies
    before it saves): a value that is none of its question's options, or not a number, counts
    as unanswered, as it does in validate_answers (an unknown option failed with KeyError)."""
    small = {"size_class": "small"}
    unanswered = [q.id for q in applicable_questions(golden, {}, small)]
    invalid = {"q3": "no-such-option", "q1": "<script>", "q4": "abc", "q5": ["a", "zz"]}
    assert [q.id for q in applicable_questions(golden, invalid, small)] == unanswered
    valid = [q.id for q in applicable_questions(golden, {"q3": "l375"}, small)]
    assert valid != unanswered  # q3 decides what applies: the invalid value did not count


def test_question_level(golden: Questionnaire) -> None:
    assert question_level(golden.question("q1"), "l325") == Decimal("3.25")
    assert question_level(golden.question("q1"), "n/a") is None
    assert question_level(golden.question("q4"), 80) == Decimal(4)
    assert question_level(golden.question("q4"), 0.5) == Decimal("2.75")
    assert question_level(golden.question("q5"), ["a", "b", "c", "d"]) == Decimal("3.75")
    assert question_level(golden.question("q6"), ["x", "z"]) == Decimal(4)


def test_unscored_questions_have_no_level(full: Questionnaire) -> None:
    mode = full.question("dig_production_mode")
    assert question_level(mode, "discrete") is None


def test_to_dict_is_json_and_localised(golden: Questionnaire) -> None:
    result = score(golden, {"q1": "l300", "q2": "l350", "q3": "l325"})
    zh = result.to_dict()
    en = result.to_dict("en")
    json.dumps(zh)
    assert list(zh) == [
        "overall", "rung", "rung_name", "stages", "held_back_by", "roadmap", "crosswalk"
    ]  # fmt: skip
    assert (zh["rung_name"], en["rung_name"]) == ("规范级", "Standardised")
    assert zh["crosswalk"]["indicative"] is True
    assert en["crosswalk"]["cmmm"] == "L2 Standardised"
    assert "not a certified" in en["crosswalk"]["note"]
    assert result.questionnaire_id == "golden" and result.questionnaire_version == 1
    assert result.question_levels == {
        "q1": Decimal("3.0"), "q2": Decimal("3.5"), "q3": Decimal("3.25")
    }  # fmt: skip
    assert score(golden, {"q1": "l300"}, with_roadmap=False).to_dict()["roadmap"] is None


def test_questionnaire_lookups(golden: Questionnaire) -> None:
    with pytest.raises(KeyError, match="no question 'zz'"):
        golden.question("zz")
    with pytest.raises(KeyError, match="no stage 'zz'"):
        golden.stage("zz")
    assert golden.find_question("zz") is None
    assert golden.question("q1").option("zz") is None


def test_decimal_special_values_are_not_numbers(golden: Questionnaire) -> None:
    for value in (Decimal("NaN"), Decimal("Infinity")):
        [issue] = validate_answers(golden, {"q4": value})
        assert issue.code == "not_a_number"
    assert validate_answers(golden, {"q4": 12.5, "q5": ("a",)}) == []
