"""``/api/v1/heatmaps``: aggregate maturity by predefined cut, for officials and admins only.

Everyone else (enterprise users, integrators, anonymous callers) gets 404: the resource does not
exist for them. Every request is audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Query, Request, Response
from pydantic import WithJsonSchema

from app.heatmaps import service
from app.heatmaps.cuts import CutId
from app.heatmaps.schemas import HeatmapOptions, HeatmapRead
from app.kit.db import SessionDep
from app.kit.guards import HeatmapViewer
from app.kit.i18n import Lang, LangDep
from app.kit.principal import Principal
from app.kit.reference import DISTRICTS
from app.kit.routing import domain_router
from app.kit.settings import settings_of
from app.questionnaires.service import CatalogDep, QuestionnaireCatalog

router = domain_router(prefix="/heatmaps", tags=["heatmaps"])


def _optional(schema: dict[str, object]) -> WithJsonSchema:
    """An optional query parameter as the document states it (validation stays the service's)."""
    return WithJsonSchema({"anyOf": [schema, {"type": "null"}]}, mode="validation")


#: A quarter as ``quarters.parse`` reads it; "past or current, from 2000Q1" is the custom
#: format (docs/integrators.md, "Formats").
_QUARTER = _optional(
    {
        "type": "string",
        "maxLength": 7,
        "pattern": "^([0-9]{4}-?[Qq][1-4])?$",
        "format": "zhizao-quarter",
    }
)
#: A questionnaire served here (GET /questionnaires): the custom format says so.
_QUESTIONNAIRE = _optional(
    {"type": "string", "maxLength": 100, "format": "zhizao-questionnaire-id"}
)
_DISTRICT = _optional({"type": "string", "enum": sorted(DISTRICTS)})


async def heatmap_query(  # async: no I/O, so no trip through the thread pool
    cut: Annotated[CutId, Query(description="A predefined cut.")] = "district-stage",
    metric: Annotated[
        Literal["mean", "share", "count"] | None,
        Query(
            description="mean score; share at or above `rung`; or number of firms (band). "
            "Default: the cut's first metric (mean; share for district-rung)."
        ),
    ] = None,
    rung: Annotated[
        Literal["3.00", "3.25", "3.50", "3.75", "4.00"] | None,
        Query(description='For metric "share": the rung (default 3.50).'),
    ] = None,
    quarter: Annotated[
        str | None,
        _QUARTER,
        Query(
            description='As of the end of this quarter, e.g. "2026Q4" (default: current).',
            max_length=7,
        ),
    ] = None,
    questionnaire_id: Annotated[str | None, _QUESTIONNAIRE, Query(max_length=100)] = None,
    district: Annotated[
        str | None,
        _DISTRICT,
        Query(
            description="Only firms of this district (GB/T 2260 code); district officials "
            "see their own district's breakdowns.",
            max_length=6,
        ),
    ] = None,
) -> service.HeatmapQuery:
    return service.HeatmapQuery(
        cut=cut,
        metric=metric,
        rung=rung,
        quarter=quarter,
        questionnaire_id=questionnaire_id,
        district=district,
    )


QueryDep = Annotated[service.HeatmapQuery, Depends(heatmap_query)]


@dataclass(frozen=True, slots=True)
class HeatmapAsk:
    """Who asks for which heatmap, in which language: what the JSON and CSV routes both read."""

    principal: Principal
    catalog: QuestionnaireCatalog
    lang: Lang
    query: service.HeatmapQuery


async def heatmap_ask(  # async, as heatmap_query
    principal: HeatmapViewer, catalog: CatalogDep, lang: LangDep, query: QueryDep
) -> HeatmapAsk:
    return HeatmapAsk(principal, catalog, lang, query)


AskDep = Annotated[HeatmapAsk, Depends(heatmap_ask)]


@router.get(
    "",
    operation_id="heatmaps_get",
    response_model=HeatmapRead,
    summary="A heatmap: one predefined cut, after disclosure control (officials, admins)",
)
def get_heatmap(
    request: Request,
    session: SessionDep,
    principal: HeatmapViewer,
    catalog: CatalogDep,
    lang: LangDep,
    query: QueryDep,
) -> Response:
    min_cell = settings_of(request).HEATMAP_MIN_CELL
    stored = service.heatmap_json(
        session, principal, catalog, min_cell=min_cell, query=query, lang=lang
    )
    return Response(stored.body, media_type="application/json")


@router.get(
    ".csv",
    operation_id="heatmaps_csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The published table as CSV"}},
    summary="The same heatmap as CSV (suppressed cells are written as x)",
)
def get_heatmap_csv(request: Request, session: SessionDep, ask: AskDep) -> Response:
    view = service.heatmap(
        session,
        ask.principal,
        ask.catalog,
        settings_of(request),
        ask.query,
        ask.lang,
        channel="csv",
    )
    filename = f"heatmap-{view.cut}-{view.metric}-{view.quarter}.csv"
    return Response(
        content="\ufeff" + service.to_csv(view, ask.lang),  # BOM: Excel then reads UTF-8 Chinese
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/options",
    operation_id="heatmaps_options",
    response_model=HeatmapOptions,
    summary="The cuts, metrics, quarters and questionnaires a heatmap can be asked for",
)
def get_options(
    session: SessionDep,
    principal: HeatmapViewer,
    catalog: CatalogDep,
    lang: LangDep,
    questionnaire_id: Annotated[str | None, _QUESTIONNAIRE, Query(max_length=100)] = None,
) -> HeatmapOptions:
    return service.options(session, principal, catalog, questionnaire_id, lang)
