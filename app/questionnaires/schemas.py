from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from scoring import Kpi, Question, Questionnaire, Stage


class QuestionnaireRef(BaseModel):
    id: str
    version: int
    title: str


class OptionOut(BaseModel):
    id: str
    text: str
    exclusive: bool


class QuestionOut(BaseModel):
    id: str
    stage_id: str
    text: str
    help: str | None
    type: Literal["single", "multi", "number"]
    required: bool
    allow_na: bool
    #: Whether the question appears only for some answers or profiles (see an assessment's
    #: ``applicable_questions``).
    conditional: bool
    options: list[OptionOut]
    unit: str | None
    min: float | None
    max: float | None
    refs: list[str]

    @classmethod
    def localized(cls, question: Question, lang: str) -> QuestionOut:
        return cls(
            id=question.id,
            stage_id=question.stage_id,
            text=question.text.get(lang),
            help=question.help.get(lang) if question.help else None,
            type=question.type,
            required=question.required,
            allow_na=question.allow_na,
            conditional=question.applies_if is not None,
            options=[
                OptionOut(id=o.id, text=o.text.get(lang), exclusive=o.exclusive)
                for o in question.options
            ],
            unit=question.unit.get(lang) if question.unit else None,
            min=float(question.min) if question.min is not None else None,
            max=float(question.max) if question.max is not None else None,
            refs=list(question.refs),
        )


class StageOut(BaseModel):
    id: str
    title: str
    weight: float
    questions: list[QuestionOut]

    @classmethod
    def localized(cls, stage: Stage, lang: str) -> StageOut:
        return cls(
            id=stage.id,
            title=stage.title.get(lang),
            weight=float(stage.weight),
            questions=[QuestionOut.localized(q, lang) for q in stage.questions],
        )


class KpiOut(BaseModel):
    """An unscored baseline indicator the firm may record: ``PUT /assessments/{id}/answers``
    takes ``{"kpis": {id: number}}`` with the number between ``min`` and ``max`` (in ``unit``)."""

    id: str = Field(examples=["oee"])
    text: str
    unit: str = Field(examples=["%"])
    min: float = Field(description="The lowest value accepted (inclusive).")
    max: float = Field(description="The highest value accepted (inclusive).")
    better: Literal["higher", "lower"] = Field(
        description="Which way is an improvement: the history compares submissions by it."
    )
    refs: list[str]

    @classmethod
    def localized(cls, kpi: Kpi, lang: str) -> KpiOut:
        return cls(
            id=kpi.id,
            text=kpi.text.get(lang),
            unit=kpi.unit.get(lang),
            min=float(kpi.min),
            max=float(kpi.max),
            better=kpi.better,
            refs=list(kpi.refs),
        )


class QuestionnaireSummary(BaseModel):
    id: str
    version: int
    versions: list[int]
    title: str
    content_hash: str
    stage_ids: list[str]
    question_count: int
    lang: Literal["zh", "en"]


class QuestionnaireOut(QuestionnaireSummary):
    stages: list[StageOut]
    kpis: list[KpiOut] = Field(
        description="Baseline KPIs (unscored) an assessment may record with its answers, in "
        "the questionnaire's order; empty when the version has none (version 1)."
    )


def summarize(
    questionnaire: Questionnaire, versions: list[int], lang: Literal["zh", "en"]
) -> QuestionnaireSummary:
    return QuestionnaireSummary(
        id=questionnaire.id,
        version=questionnaire.version,
        versions=versions,
        title=questionnaire.title.get(lang),
        content_hash=questionnaire.content_hash,
        stage_ids=[s.id for s in questionnaire.stages],
        question_count=len(questionnaire.questions),
        lang=lang,
    )


def localize(
    questionnaire: Questionnaire, versions: list[int], lang: Literal["zh", "en"]
) -> QuestionnaireOut:
    return QuestionnaireOut(
        **summarize(questionnaire, versions, lang).model_dump(),
        stages=[StageOut.localized(stage, lang) for stage in questionnaire.stages],
        kpis=[KpiOut.localized(kpi, lang) for kpi in questionnaire.kpis],
    )
