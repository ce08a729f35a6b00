"""Errors raised by the scoring engine.

The hierarchy::

    ScoringError                      base class of everything raised by ``scoring``
    ├── LoadError                     a YAML document or fragment is malformed; ``.issues``
    │   ├── QuestionnaireLoadError    a questionnaire file failed validation
    │   └── ConditionError            a condition (applies_if / eligibility) failed validation
    └── InvalidAnswers                answers do not fit the questionnaire; ``.issues``

Every error carries *all* the problems found, not only the first one: a ``LoadIssue`` names the
file, the path inside it (``stages[1].questions[3].options[0].level``) and what is wrong; an
``AnswerIssue`` names the question, a stable machine ``code`` and an English message.

Messages meant for people (an answer's or a declared fact's problem) are ``Phrase``s: English
text that keeps its template and the values filled into it, so that the service can say them in
the language of the request (the templates are catalog entries, extracted by the name
``Phrase``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "ANSWER_ISSUE_CODES",
    "AnswerIssue",
    "ConditionError",
    "InvalidAnswers",
    "LoadError",
    "LoadIssue",
    "Phrase",
    "QuestionnaireLoadError",
    "ScoringError",
]

#: Every ``AnswerIssue.code`` the engine emits. These are stable: the API localises on them.
ANSWER_ISSUE_CODES = frozenset(
    {
        "unknown_question",  # no question with this id
        "wrong_type",  # single wants an option id, multi a list of option ids
        "empty_selection",  # multi answered with an empty list
        "duplicate_option",  # the same option id twice in a multi answer
        "unknown_option",  # not one of the question's option ids
        "exclusive_conflict",  # an exclusive option ("none of these") chosen with others
        "not_a_number",  # number question answered with a non-number (JSON booleans included)
        "out_of_bounds",  # number outside [min, max]
        "na_not_allowed",  # "n/a" where allow_na is false
        "not_applicable",  # answered, but applies_if is false given the other answers
        "required",  # a required applicable question is unanswered (complete check only)
    }
)


class Phrase(str):
    """English text for people that keeps its ``template`` (``%(name)s`` placeholders) and the
    ``params`` filled into it: a caller translates the template and fills in the same values.
    It is the English text itself, wherever a string goes (compared, printed, serialised)."""

    template: str
    params: Mapping[str, object]

    def __new__(cls, template: str, **params: object) -> Phrase:
        phrase = super().__new__(cls, template % params if params else template)
        phrase.template = template
        phrase.params = params
        return phrase


@dataclass(frozen=True, slots=True)
class LoadIssue:
    """One problem in a loaded document: which file, where inside it, what is wrong."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class AnswerIssue:
    """One problem with one answer. ``code`` is one of ``ANSWER_ISSUE_CODES``."""

    question_id: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.question_id}: {self.message} [{self.code}]"


class ScoringError(Exception):
    """Base class of every error raised by the scoring package."""


class LoadError(ScoringError):
    """A document failed validation. ``issues`` lists every problem found."""

    def __init__(self, issues: Iterable[LoadIssue]) -> None:
        self.issues: list[LoadIssue] = list(issues)
        super().__init__(self._summary())

    def _summary(self) -> str:
        count = len(self.issues)
        head = f"{count} problem{'s' if count != 1 else ''} found"
        return "\n".join([head, *(f"  {issue}" for issue in self.issues)])


class QuestionnaireLoadError(LoadError):
    """Raised by the questionnaire loader when a file is not a valid questionnaire."""


class ConditionError(LoadError):
    """Raised by ``parse_condition`` when a condition is malformed or names an unknown path."""


class InvalidAnswers(ScoringError):
    """Raised by ``score`` when answers do not fit the questionnaire. ``issues`` lists them all."""

    def __init__(self, issues: Iterable[AnswerIssue]) -> None:
        self.issues: list[AnswerIssue] = list(issues)
        count = len(self.issues)
        head = f"{count} invalid answer{'s' if count != 1 else ''}"
        super().__init__("\n".join([head, *(f"  {issue}" for issue in self.issues)]))
