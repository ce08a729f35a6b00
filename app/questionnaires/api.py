from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from app.kit.errors import NotFound
from app.kit.guards import PUBLIC_OPERATION
from app.kit.i18n import LangDep, html_lang
from app.kit.routing import domain_router
from app.questionnaires.schemas import QuestionnaireOut, QuestionnaireSummary, localize, summarize
from app.questionnaires.service import CatalogDep

router = domain_router(prefix="/questionnaires", tags=["questionnaires"])


@router.get(
    "",
    operation_id="questionnaires_list",
    openapi_extra=PUBLIC_OPERATION,
    response_model=list[QuestionnaireSummary],
    summary="The questionnaires served (latest version of each)",
)
def list_questionnaires(
    catalog: CatalogDep, lang: LangDep, response: Response
) -> list[QuestionnaireSummary]:
    response.headers["Content-Language"] = html_lang(lang)
    return [summarize(q, catalog.versions(q.id), lang) for q in catalog.latest()]


@router.get(
    "/{questionnaire_id}",
    operation_id="questionnaires_get",
    openapi_extra=PUBLIC_OPERATION,
    response_model=QuestionnaireOut,
    summary="A questionnaire with its stages and questions, localised",
)
def get_questionnaire(
    questionnaire_id: str,
    catalog: CatalogDep,
    lang: LangDep,
    response: Response,
    version: Annotated[int | None, Query(ge=1, description="Default: the latest version.")] = None,
) -> QuestionnaireOut:
    questionnaire = catalog.get(questionnaire_id, version)
    if questionnaire is None:
        raise NotFound("No questionnaire with this id and version.")
    response.headers["Content-Language"] = html_lang(lang)
    return localize(questionnaire, catalog.versions(questionnaire_id), lang)
