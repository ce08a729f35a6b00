"""The questionnaire model (design §4) as frozen dataclasses, plus answer and profile types.

Instances are built by ``scoring.loader`` from YAML; they are immutable and safe to share
between threads and requests. Numbers that take part in scoring are ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, cast

if TYPE_CHECKING:
    from scoring.conditions import Condition

__all__ = [
    "NA",
    "AnswerValue",
    "Answers",
    "Band",
    "Better",
    "Kpi",
    "Option",
    "Profile",
    "Question",
    "QuestionType",
    "Questionnaire",
    "Requirement",
    "ScoringRule",
    "Stage",
    "Text",
    "Trend",
]

QuestionType = Literal["single", "multi", "number"]
ScoringRule = Literal["max", "count"]
Better = Literal["higher", "lower"]
#: How a KPI moved between two assessments, judged by its ``better``.
Trend = Literal["better", "worse", "same"]

#: The effort of an option or band that does not state one (every v1 file).
DEFAULT_EFFORT = 1
#: The largest effort: a major capital project.
MAX_EFFORT = 5

#: The answer meaning "not applicable to us"; accepted where a question has ``allow_na: true``.
NA = "n/a"

#: single → option id; multi → list of option ids; number → a number; or ``"n/a"``.
AnswerValue = str | list[str] | Decimal | int | float
Answers = Mapping[str, AnswerValue]

#: Profile fields (district_code, industry_code, size_class, above_designated_size, employees,
#: annual_revenue_cny) plus any free facts; conditions read them as ``profile.<name>``.
Profile = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Text:
    """A text in both service languages. zh-CN is the primary language."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        """The text in ``lang`` ("en" gives English; anything else gives Chinese)."""
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True, slots=True)
class Requirement:
    """A prerequisite: the answer to ``question`` must score at least ``min_level``."""

    question: str
    min_level: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Option:
    """An answer option. ``level`` is None only where it is not used (count scoring, weight 0).

    ``effort`` (1–5) is the relative effort of reaching this option from the one below it (the
    next lower position, see ``Question.positions``): 1 configuration or days of work, 3 a
    project of months, 5 a major capital project. ``requires`` lists the prerequisites of
    choosing it. Neither affects scoring; the roadmap plans with them.
    """

    id: str
    text: Text
    level: Decimal | None = None
    exclusive: bool = False
    effort: int = DEFAULT_EFFORT
    requires: tuple[Requirement, ...] = ()


@dataclass(frozen=True, slots=True)
class Band:
    """Values ≥ ``min`` (up to the next band's min) score ``level``.

    ``effort`` and ``requires`` mean what they mean on an ``Option``.
    """

    min: Decimal
    level: Decimal
    effort: int = DEFAULT_EFFORT
    requires: tuple[Requirement, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Kpi:
    """An unscored baseline indicator (OEE, first-pass yield …) a firm may record.

    KPIs never affect scoring; they are kept so a firm can compare before and after.
    """

    id: str
    text: Text
    unit: Text
    min: Decimal
    max: Decimal
    better: Better
    refs: tuple[str, ...] = ()

    def trend(self, before: Decimal, after: Decimal) -> Trend:
        """``better`` when the value moved the way ``better`` names (up for ``higher``, down
        for ``lower``), ``worse`` the other way, ``same`` when equal: exact values, no
        tolerance (the firm enters the figures; any change it entered is a change)."""
        if after == before:
            return "same"
        rose = after > before
        return "better" if rose == (self.better == "higher") else "worse"


@dataclass(frozen=True, slots=True, kw_only=True)
class Question:
    """One question. ``weight == 0`` marks a profiling question: it steers ``applies_if`` only."""

    id: str
    text: Text
    type: QuestionType
    stage_id: str = ""
    help: Text | None = None
    weight: Decimal = Decimal(1)
    required: bool = True
    allow_na: bool = False
    applies_if: Condition | None = None
    options: tuple[Option, ...] = ()
    scoring: ScoringRule | None = None
    bands: tuple[Band, ...] = ()
    unit: Text | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    refs: tuple[str, ...] = ()
    _options_by_id: dict[str, Option] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self._options_by_id.update((option.id, option) for option in self.options)

    def option(self, option_id: str) -> Option | None:
        """The option with this id, or None."""
        return self._options_by_id.get(option_id)

    @property
    def scored(self) -> bool:
        """Whether the question counts towards its stage score (weight above zero)."""
        return self.weight > 0

    def positions(self) -> tuple[Option | Band, ...]:
        """The answers a firm climbs through, lowest first: the question's *positions*.

        Number questions and multi questions with ``scoring: count``: the bands. Single and
        multi ``max`` questions: the options that carry a level (exclusive options excluded),
        ordered by level, ties in file order. Effort and "at most two positions" count here.
        """
        if self.type == "number" or self.scoring == "count":
            return self.bands
        ranked = [o for o in self.options if o.level is not None and not o.exclusive]
        return tuple(sorted(ranked, key=lambda option: cast(Decimal, option.level)))


@dataclass(frozen=True, slots=True, kw_only=True)
class Stage:
    """A stage (module) of the questionnaire, served in file order."""

    id: str
    title: Text
    questions: tuple[Question, ...]
    weight: Decimal = Decimal(1)
    description: Text | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Questionnaire:
    """A questionnaire: ``(id, version)`` names it; ``content_hash`` pins its published content."""

    id: str
    version: int
    title: Text
    stages: tuple[Stage, ...]
    content_hash: str = ""
    description: Text | None = None
    kpis: tuple[Kpi, ...] = ()
    _questions: tuple[Question, ...] = field(
        init=False, repr=False, compare=False, hash=False, default=()
    )
    _by_id: dict[str, Question] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )
    #: Derived data the engine precomputes once per questionnaire (never part of its content).
    _cache: dict[str, object] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        questions = tuple(question for stage in self.stages for question in stage.questions)
        object.__setattr__(self, "_questions", questions)
        self._by_id.update((question.id, question) for question in questions)

    @property
    def questions(self) -> tuple[Question, ...]:
        """Every question, in served order (stage by stage)."""
        return self._questions

    def question(self, question_id: str) -> Question:
        """The question with this id; ``KeyError`` if there is none."""
        try:
            return self._by_id[question_id]
        except KeyError:
            raise KeyError(f"no question {question_id!r} in {self.id} v{self.version}") from None

    def find_question(self, question_id: str) -> Question | None:
        """The question with this id, or None."""
        return self._by_id.get(question_id)

    def stage(self, stage_id: str) -> Stage:
        """The stage with this id; ``KeyError`` if there is none."""
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise KeyError(f"no stage {stage_id!r} in {self.id} v{self.version}")
