"""Questionnaires as other domains use them: the served catalogue (a request dependency) and
the questionnaire a stored assessment was started on."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.kit.i18n import Lang
from app.questionnaires.catalog import QuestionnaireCatalog
from app.questionnaires.schemas import QuestionnaireRef
from scoring import Questionnaire

__all__ = ["CatalogDep", "QuestionnaireCatalog", "get_catalog", "questionnaire_of", "reference"]


async def get_catalog(request: Request) -> QuestionnaireCatalog:
    """Async on purpose (no I/O): a sync dependency costs a trip through the thread pool."""
    catalog: QuestionnaireCatalog = request.app.state.questionnaires
    return catalog


CatalogDep = Annotated[QuestionnaireCatalog, Depends(get_catalog)]


class QuestionnaireGone(RuntimeError):
    """A stored assessment's questionnaire is no longer served with the content it was started
    on. The catalogue pins published versions at start-up, so this is an operator error."""


def questionnaire_of(
    catalog: QuestionnaireCatalog, questionnaire_id: str, version: int, content_hash: str
) -> Questionnaire:
    """The questionnaire (id, version) with exactly the content an assessment was started on."""
    questionnaire = catalog.get(questionnaire_id, version)
    if questionnaire is None or questionnaire.content_hash != content_hash:
        raise QuestionnaireGone(
            f"questionnaire {questionnaire_id} v{version} "
            "is no longer served with the content this assessment was started on"
        )
    return questionnaire


def reference(questionnaire: Questionnaire, lang: Lang) -> QuestionnaireRef:
    return QuestionnaireRef(
        id=questionnaire.id, version=questionnaire.version, title=questionnaire.title.get(lang)
    )
