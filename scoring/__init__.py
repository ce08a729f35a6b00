"""zhizao scoring engine: questionnaires, conditions, exact ladder scoring and roadmaps.

Pure Python (stdlib + PyYAML); data in, data out. ``make install`` also compiles the hot modules
with mypyc from the same source (``scoring/_native.py`` says when that build is used).
Import everything from here::

    from scoring import load_questionnaire, score
    result = score(load_questionnaire("questionnaires/quick-check.yaml"), {"qc_mode": "discrete"})
"""

# First, and sorted first: importing _native keeps a stale compiled build out of the process.
from scoring import _native  # noqa: F401
from scoring.conditions import (
    OPS,
    PROFILE_FIELDS,
    All,
    Any,
    Condition,
    Facts,
    Leaf,
    Not,
    PathCheck,
    evaluate,
    failing_leaves,
    iter_leaves,
    parse_condition,
    path_checker,
)
from scoring.engine import (
    HeldBack,
    ScoreResult,
    applicable_questions,
    question_level,
    score,
    validate_answers,
)
from scoring.errors import (
    ANSWER_ISSUE_CODES,
    AnswerIssue,
    ConditionError,
    InvalidAnswers,
    LoadError,
    LoadIssue,
    Phrase,
    QuestionnaireLoadError,
    ScoringError,
)
from scoring.ladder import (
    MAX_LEVEL,
    MIN_LEVEL,
    RUNG_LEVELS,
    RUNGS,
    Crosswalk,
    Rung,
    crosswalk,
    round_score,
    rung_info,
)
from scoring.loader import load_questionnaire, load_questionnaire_dir, parse_questionnaire
from scoring.models import (
    NA,
    Answers,
    AnswerValue,
    Band,
    Kpi,
    Option,
    Profile,
    Question,
    Questionnaire,
    Stage,
    Text,
    Trend,
)
from scoring.roadmap import Holder, Plan, Roadmap, Step, WhyNotHigher, describe_answer, roadmap

__all__ = [
    "ANSWER_ISSUE_CODES",
    "MAX_LEVEL",
    "MIN_LEVEL",
    "NA",
    "OPS",
    "PROFILE_FIELDS",
    "RUNGS",
    "RUNG_LEVELS",
    "All",
    "AnswerIssue",
    "AnswerValue",
    "Answers",
    "Any",
    "Band",
    "Condition",
    "ConditionError",
    "Crosswalk",
    "Facts",
    "HeldBack",
    "Holder",
    "InvalidAnswers",
    "Kpi",
    "Leaf",
    "LoadError",
    "LoadIssue",
    "Not",
    "Option",
    "PathCheck",
    "Phrase",
    "Plan",
    "Profile",
    "Question",
    "Questionnaire",
    "QuestionnaireLoadError",
    "Roadmap",
    "Rung",
    "ScoreResult",
    "ScoringError",
    "Stage",
    "Step",
    "Text",
    "Trend",
    "WhyNotHigher",
    "applicable_questions",
    "crosswalk",
    "describe_answer",
    "evaluate",
    "failing_leaves",
    "iter_leaves",
    "load_questionnaire",
    "load_questionnaire_dir",
    "parse_condition",
    "parse_questionnaire",
    "path_checker",
    "question_level",
    "roadmap",
    "round_score",
    "rung_info",
    "score",
    "validate_answers",
]
