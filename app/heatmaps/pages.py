"""The officials' heatmap page: the matrix with a colour scale and legend, a tile-grid map of the
16 districts, filters (cut, metric, rung, quarter, questionnaire, district) and CSV/JSON export.

Its figures come from ``service.heatmap`` like the API's: the same disclosure control and audit.
Works without JavaScript (the filters are a GET form). Colours are CSS classes and SVG fill
attributes, so the page needs no inline style under the service's CSP.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.heatmaps import service
from app.heatmaps.cuts import CUTS, METRICS, SHARE_RUNGS
from app.heatmaps.disclosure import count_band
from app.heatmaps.schemas import CellRead, HeatmapRead
from app.heatmaps.service import SHANGHAI
from app.kit.db import SessionDep
from app.kit.errors import InvalidInput
from app.kit.i18n import NC_, Lang, translated, trc
from app.kit.reference import DISTRICTS
from app.kit.routing import domain_router
from app.kit.settings import settings_of
from app.kit.web.deps import PageLang, SignedInPage, base_context
from app.kit.web.templating import render
from app.questionnaires.service import CatalogDep

router = domain_router(include_in_schema=False)

#: The table the page opens with.
DEFAULT_CUT = "district-stage"

#: Sequential colour scale (light yellow → dark blue), 10 steps; grey for suppressed.
PALETTE = (
    "#fff7bc",
    "#fee391",
    "#d9f0a3",
    "#addd8e",
    "#78c679",
    "#41ab5d",
    "#238b45",
    "#1d91c0",
    "#225ea8",
    "#0c2c84",
)
SUPPRESSED_FILL = "#bdbdbd"
EMPTY_FILL = "#f5f5f5"
TILE_W, TILE_H = 96, 64

TEXT: dict[str, Any] = {
    "title": NC_("heatmap", "District smart-manufacturing maturity heatmap"),
    "intro": NC_(
        "heatmap",
        "Self-assessment results of verified firms, aggregated over predefined cuts; no "
        "single firm's data is shown.",
    ),
    "cut": NC_("heatmap", "Cut"),
    "metric": NC_("heatmap", "Metric"),
    "rung": NC_("heatmap", "Rung (for share)"),
    "quarter": NC_("heatmap", "Quarter"),
    "questionnaire": NC_("heatmap", "Questionnaire"),
    "district": NC_("heatmap", "Scope"),
    "citywide": NC_("heatmap", "City-wide"),
    "show": NC_("heatmap", "Show"),
    "export": NC_("heatmap", "Export"),
    "csv": NC_("heatmap", "CSV"),
    "json": NC_("heatmap", "JSON"),
    "map": NC_("heatmap", "District map (16 districts)"),
    "matrix": NC_("heatmap", "Heatmap matrix"),
    "legend": NC_("heatmap", "Legend"),
    "suppressed": NC_("heatmap", "suppressed"),
    "suppressed_help": NC_("heatmap", "Grey × marks a cell hidden to protect individual firms."),
    "empty": NC_("heatmap", "no firms"),
    "total": NC_("heatmap", "Total"),
    "no_map": NC_("heatmap", "This cut is not by district, so no map is shown."),
    "synthetic": NC_(
        "heatmap",
        "This database contains synthetic demo firms (labelled synthetic): the figures "
        "are not real statistics.",
    ),
    "low": NC_("heatmap", "low"),
    "high": NC_("heatmap", "high"),
    "firms": NC_("heatmap", "firms"),
    "published": NC_("heatmap", "Published"),
    "not_published": NC_(
        "heatmap",
        "No heatmap has been published for this quarter yet. Figures are published once a "
        "day; come back after the next publication.",
    ),
    "city_total": NC_("heatmap", "City-wide total"),
}

#: Each filter's label in ``TEXT``, by the query field it sets.
FILTER_LABELS = {
    "cut": "cut",
    "metric": "metric",
    "rung": "rung",
    "quarter": "quarter",
    "questionnaire_id": "questionnaire",
    "district": "district",
}

_BAND_ORDER = ("0", "5–9", "10–19", "20–49", "50–99", "100–199", "200–499", "500–999")


def _step(view: HeatmapRead, cell: CellRead) -> int | None:
    """The colour step (0–9) of a published cell, or None for suppressed/empty ones."""
    if cell.suppressed:
        return None
    if view.metric == "count" or cell.value is None:
        if not cell.count_band or cell.count_band == "0":
            return None
        band = cell.count_band
        index = _BAND_ORDER.index(band) if band in _BAND_ORDER else len(_BAND_ORDER)
        return min(9, index)
    low, high = view.value_range or (0.0, 1.0)
    share = (cell.value - low) / (high - low) if high > low else 0.0
    return max(0, min(9, int(share * 10)))


def _shown(view: HeatmapRead, cell: CellRead) -> str:
    if cell.suppressed:
        return "×"
    if view.metric == "count" or cell.value is None:
        return cell.count_band or "—"
    if view.metric == "share":
        return f"{cell.value:g}%"
    return f"{cell.value:.2f}"


def _cell_context(view: HeatmapRead, cell: CellRead) -> dict[str, Any]:
    step = _step(view, cell)
    return {
        "text": _shown(view, cell),
        "css": "hm-x" if cell.suppressed else ("hm-empty" if step is None else f"hm-{step}"),
        "band": cell.count_band,
        "suppressed": cell.suppressed,
    }


def _tiles(view: HeatmapRead, lang: Lang) -> list[dict[str, Any]] | None:
    """Tile-grid map of the districts coloured by their district-level figure: the row totals of
    district cuts (for the trend, the chosen quarter)."""
    if view.rows and CUTS[view.cut].rows != "district":
        return None
    by_district: dict[str, CellRead] = {}
    for index, row in enumerate(view.rows):
        if view.row_totals is not None and view.cut != "district-rung":
            by_district[row.key] = view.row_totals[index]
        elif view.cut == "district-rung" and view.row_totals is not None:
            by_district[row.key] = CellRead(
                value=None,
                count_band=view.row_totals[index].count_band,
                suppressed=view.row_totals[index].suppressed,
            )
        else:
            by_district[row.key] = view.cells[index][-1]
    tiles = []
    for code, district in DISTRICTS.items():
        cell = by_district.get(code)
        shown_view = (
            view if view.cut != "district-rung" else view.model_copy(update={"metric": "count"})
        )
        step = _step(shown_view, cell) if cell is not None else None
        if cell is None:
            fill, text = EMPTY_FILL, ""
        elif cell.suppressed:
            fill, text = SUPPRESSED_FILL, "×"
        else:
            fill = EMPTY_FILL if step is None else PALETTE[step]
            text = _shown(shown_view, cell)
        name = district.short_name(lang)
        tiles.append(
            {
                "x": district.tile_col * TILE_W,
                "y": district.tile_row * TILE_H,
                "w": TILE_W - 4,
                "h": TILE_H - 4,
                "fill": fill,
                "name": name,
                "text": text,
                "dark": step is not None and step >= 6,
                "code": code,
                "title": f"{district.name(lang)}: {text or '—'}",
            }
        )
    return tiles


@router.get("/heatmaps", response_class=HTMLResponse)
def heatmap_page(
    request: Request,
    session: SessionDep,
    principal: SignedInPage,
    catalog: CatalogDep,
    lang: PageLang,
) -> HTMLResponse:
    # The filters as the address gives them (blank: the default).
    asked = {name: request.query_params.get(name) or None for name in FILTER_LABELS}
    cut, metric = asked["cut"] or DEFAULT_CUT, asked["metric"]
    if metric and cut in CUTS and metric not in CUTS[cut].metrics:
        asked["metric"] = None
    settings = settings_of(request)
    # A filter the address sets to something the form never offers (edited, or an old link) is
    # said by its label above the table shown with that filter's default (a 422), not answered
    # with an error page naming "query.cut".
    refused: list[str] = []
    while True:
        query = service.HeatmapQuery(
            cut=asked["cut"] or DEFAULT_CUT,
            **{name: value for name, value in asked.items() if name != "cut"},
        )
        try:
            view = service.heatmap(
                session, principal, catalog, settings, query, lang, channel="page"
            )
            break
        except InvalidInput as exc:
            names = [e.field.removeprefix("query.") for e in exc.errors]
            if not names or any(name not in FILTER_LABELS or name in refused for name in names):
                raise
            refused += names
            asked |= dict.fromkeys(names)
    options = service.options(session, principal, catalog, view.questionnaire.id, lang)
    chosen = {
        "cut": view.cut,
        "metric": view.metric,
        "rung": view.rung or "3.50",
        "quarter": view.quarter,
        "questionnaire_id": view.questionnaire.id,
        "district": view.district or "",
    }
    export_query = urlencode({k: v for k, v in {**chosen, "lang": lang}.items() if v})
    own = principal.district_code if principal.is_official else None
    districts = [d for d in options.districts if own is None or d.key == own]
    legend = []
    if view.metric == "count":
        legend = [{"css": f"hm-{i}", "label": band} for i, band in enumerate(_BAND_ORDER[1:], 1)]
    elif view.value_range is not None:
        low, high = view.value_range
        for i in range(10):
            a = low + (high - low) * i / 10
            label = f"{a:.2f}" if view.metric == "mean" else f"{a:.0f}%"
            legend.append({"css": f"hm-{i}", "label": label})
    texts = translated(TEXT, lang)
    context = {
        **base_context(request, principal, lang),
        "T": texts,
        "refused": trc(
            lang,
            "heatmap",
            "Not among the choices, so shown with its default: %(filters)s.",
            filters=("、" if lang == "zh" else ", ").join(
                texts[FILTER_LABELS[name]] for name in refused
            ),
        )
        if refused
        else None,
        "view": view,
        "rows": [
            {
                "label": row.label,
                "cells": [_cell_context(view, c) for c in view.cells[index]],
                "total": _cell_context(view, view.row_totals[index])
                if view.row_totals is not None
                else None,
            }
            for index, row in enumerate(view.rows)
        ],
        "column_totals": [_cell_context(view, c) for c in view.column_totals],
        "grand_total": _cell_context(view, view.total),
        "options": options,
        "cuts": [(c.id, trc(lang, *c.title), c.metrics) for c in CUTS.values()],
        "metrics": [(k, trc(lang, *m)) for k, m in METRICS.items() if k in CUTS[view.cut].metrics],
        "share_rungs": SHARE_RUNGS,
        "chosen": chosen,
        "districts": districts,
        # A district official sees their own district's tables only (docs/heatmaps.md, "Scope"):
        # a city-wide scope is not theirs to choose (asking for none answers their district).
        "may_choose_citywide": own is None,
        "csv_url": f"/api/v1/heatmaps.csv?{export_query}",
        "json_url": f"/api/v1/heatmaps?{export_query}",
        "tiles": _tiles(view, lang),
        "map_width": 5 * TILE_W,
        "map_height": 5 * TILE_H,
        "legend": legend,
        "min_band": count_band(view.min_cell, view.min_cell),
        "suppressed_fill": SUPPRESSED_FILL,
        "published_at": view.published_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        if view.published_at is not None
        else None,
    }
    return render(
        request, "heatmaps/heatmap.html", context, lang=lang, status_code=422 if refused else 200
    )
