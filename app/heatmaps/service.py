"""Heatmap views for officials: who may see which cut and scope, and the published tables. Every
path (JSON, CSV, HTML page) gets its figures from :func:`heatmap`, which reads the latest
publication (``app/heatmaps/publication.py``: suppression and cell-key perturbation) and audits
the request."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.heatmaps import quarters
from app.heatmaps.cuts import (
    CUTS,
    DEFAULT_SHARE_RUNG,
    METRICS,
    SHARE_RUNGS,
    SIZE_LABELS,
    Cut,
    rung_label,
    share_threshold,
)
from app.heatmaps.disclosure import TOTAL
from app.heatmaps.publication import CITY
from app.heatmaps.publication import HeatmapPublisher as HeatmapPublisher  # the worker's job
from app.heatmaps.publication import parameters_of as parameters_of
from app.heatmaps.publication import publish as publish  # CLI, worker, seed-demo
from app.heatmaps.repository import CurrentTable, HeatmapRepository, StoredTable
from app.heatmaps.repository import table_of as table_of  # bulk loaders write the tables
from app.heatmaps.schemas import (
    CellRead,
    HeatmapOptions,
    HeatmapRead,
    Label,
    QuestionnaireLabel,
)
from app.heatmaps.sums import RUNG_THRESHOLDS
from app.kit.clock import SHANGHAI as SHANGHAI  # pages show times in it
from app.kit.conditional import JsonBody, LruCache, json_body
from app.kit.errors import INVALID_FIELDS, FieldError, InvalidInput, NotFound
from app.kit.guards import require_heatmap_viewer
from app.kit.i18n import N_, Lang, tr, trc
from app.kit.principal import Principal
from app.kit.reference import DISTRICTS, INDUSTRIES
from app.kit.settings import Settings
from app.questionnaires.catalog import QuestionnaireCatalog
from scoring import Questionnaire

DEFAULT_QUESTIONNAIRE = "smart-manufacturing-maturity"

# --- requests --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeatmapQuery:
    cut: str = "district-stage"
    metric: str | None = None
    rung: str | None = None
    quarter: str | None = None
    questionnaire_id: str | None = None
    district: str | None = None


@dataclass(frozen=True, slots=True)
class Resolved:
    cut: Cut
    metric: str
    rung: str
    quarter: int
    questionnaire: Questionnaire
    district: str | None


def _invalid(field_name: str, message: str, **params: object) -> InvalidInput:
    field = f"query.{field_name}"
    return InvalidInput(
        INVALID_FIELDS, fields=field, errors=[FieldError(field, message, "invalid", params)]
    )


def _questionnaire(catalog: QuestionnaireCatalog, questionnaire_id: str | None) -> Questionnaire:
    """The questionnaire a heatmap asks about: the one named, else the default (else the first
    served); a name not served here is a 422 naming the parameter."""
    questionnaire = catalog.get(questionnaire_id or DEFAULT_QUESTIONNAIRE)
    if questionnaire is None and questionnaire_id is None and catalog.latest():
        questionnaire = catalog.latest()[0]
    if questionnaire is None:
        raise _invalid("questionnaire_id", N_("not a questionnaire served here"))
    return questionnaire


def resolve(principal: Principal, catalog: QuestionnaireCatalog, query: HeatmapQuery) -> Resolved:
    """Check the request names a predefined cut and a scope the caller may see."""
    require_heatmap_viewer(principal)
    cut = CUTS.get(query.cut)
    if cut is None:
        raise _invalid("cut", N_("not a predefined cut: %(cuts)s"), cuts=", ".join(CUTS))
    metric = query.metric or cut.metrics[0]
    if metric not in cut.metrics:
        raise _invalid(
            "metric",
            N_("cut %(cut)s offers %(metrics)s"),
            cut=cut.id,
            metrics=", ".join(cut.metrics),
        )
    rung = query.rung or DEFAULT_SHARE_RUNG
    if rung not in SHARE_RUNGS:
        raise _invalid("rung", N_("one of %(rungs)s"), rungs=", ".join(SHARE_RUNGS))
    questionnaire = _questionnaire(catalog, query.questionnaire_id)
    now = quarters.current_quarter()
    quarter = now if not query.quarter else quarters.parse(query.quarter)
    if quarter is None or quarter > now or quarter < 20001:
        raise _invalid("quarter", N_('a past or the current quarter, like "2026Q4"'))
    district = query.district or None
    if district is not None and district not in DISTRICTS:
        raise _invalid("district", N_("not one of Shanghai's 16 district codes"))
    own = principal.district_code if principal.is_official else None
    if own is not None:
        # A district official sees their own district's detail (and the city-wide total row),
        # never another district's.
        district = district or own
        if district != own:
            raise NotFound("No heatmap for this district.")
    return Resolved(cut, metric, rung, quarter, questionnaire, district)


# --- published tables ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored table: row and column keys, and the cells as stored (see
    ``publication.payload_of``), margins last."""

    rows: list[str]
    cols: list[str]
    cells: list[list[Any]]

    @classmethod
    def of(cls, payload: dict[str, Any]) -> Stored:
        return cls(list(payload["rows"]), list(payload["cols"]), payload["cells"])

    def cell(self, row: str, col: str) -> Any:
        r = len(self.rows) if row == TOTAL else self.rows.index(row)
        if col == TOTAL:
            c = len(self.cols)
        elif col in self.cols:
            c = self.cols.index(col)
        else:
            return None  # a column with no firm in this scope
        return self.cells[r][c]


def _cell(resolved: Resolved, stored: Any) -> CellRead:
    """One stored cell as read for the metric asked: the published mean, the share at or above
    the rung (or of the row, in a distribution), or only the band."""
    if stored is None:
        return CellRead(value=None, count_band=None, suppressed=False)
    if stored == "x":
        return CellRead(value=None, count_band=None, suppressed=True)
    _count, band, mean, shares, share_of_row = stored
    value: float | None = None
    if resolved.metric == "mean":
        value = None if mean is None else float(mean)
    elif resolved.metric == "share":
        if resolved.cut.distribution:
            value = None if share_of_row is None else float(share_of_row)
        elif shares is not None:
            value = float(shares[RUNG_THRESHOLDS.index(share_threshold(resolved.rung))])
    return CellRead(value=value, count_band=band, suppressed=False)


def _label(dimension: str, key: str, resolved: Resolved, lang: Lang) -> str:
    if dimension == "district":
        district = DISTRICTS.get(key)
        return district.name(lang) if district else key
    if dimension == "industry":
        industry = INDUSTRIES.get(key)
        name = industry.name(lang) if industry else ""
        return f"{key} {name}".strip()
    if dimension == "size":
        return trc(lang, *SIZE_LABELS[key])
    if dimension == "stage":
        stage = next((s for s in resolved.questionnaire.stages if s.id == key), None)
        return stage.title.get(lang) if stage else key
    if dimension == "rung":
        return rung_label(key, lang)
    return key


def _notes(
    resolved: Resolved, min_cell: int, synthetic: bool, lang: Lang, *, published: bool
) -> list[str]:
    if not published:
        return [
            tr(
                lang,
                "Nothing has been published for this quarter yet. Heatmaps are published once a "
                "day; the first publication will appear here.",
            )
        ]
    notes = [
        tr(
            lang,
            "Each verified firm counts once, with its latest submitted assessment of this "
            "questionnaire up to the end of %(quarter)s (China Standard Time). Unverified firms "
            "are not counted.",
            quarter=quarters.label(resolved.quarter),
        ),
        tr(
            lang,
            "Grey cells are suppressed: built from fewer than %(min_cell)s verified firms, or "
            "hidden as well so that no hidden cell can be worked out from the totals. Counts "
            "are shown as bands.",
            min_cell=min_cell,
        ),
        tr(
            lang,
            "Figures are published once a day, with a small random perturbation that stays the "
            "same for the same firms: changes show only at the next publication.",
        ),
    ]
    if synthetic:
        notes.append(
            tr(
                lang,
                "This database contains synthetic demo firms: the figures are not real statistics.",
            )
        )
    return notes


@dataclass(frozen=True, slots=True)
class _Found:
    """What a heatmap request resolved to and which published tables it reads."""

    resolved: Resolved
    #: The table of the scope asked for, and the city-wide one for its total row (a district's
    #: table whose rows are districts), as read (``HeatmapRepository.current_table``).
    table: CurrentTable | None
    #: The latest publication's id (None: nothing published yet).
    latest_publication_id: int | None

    @property
    def city(self) -> StoredTable | None:
        return self.table.city if self.table is not None else None

    @property
    def published_at(self) -> datetime | None:
        return self.table.published_at if self.table is not None else None

    @property
    def synthetic(self) -> bool:
        return self.table.includes_synthetic if self.table is not None else False

    def key(self, lang: Lang, min_cell: int) -> tuple[object, ...]:
        """Everything the view depends on: the tables' contents (by digest; a publication id
        alone may repeat in another database), a questionnaire's content (by its hash), the
        request and the language."""
        r = self.resolved
        return (
            r.cut.id,
            r.metric,
            r.rung,
            r.quarter,
            r.district,
            r.questionnaire.id,
            r.questionnaire.content_hash,
            _table_key(self.table),
            _table_key(self.city),
            self.published_at,
            self.synthetic,
            lang,
            min_cell,
        )


def _table_key(table: CurrentTable | StoredTable | None) -> tuple[object, ...] | None:
    if table is None:
        return None
    return (*table.ref, hashlib.sha256(table.payload.encode()).hexdigest())


def _find(
    session: Session, principal: Principal, catalog: QuestionnaireCatalog, query: HeatmapQuery
) -> _Found:
    """Resolve and authorise, and read the latest publication's tables (one statement)."""
    resolved = resolve(principal, catalog, query)
    repository = HeatmapRepository(session)
    cut = resolved.cut
    with_city = resolved.district is not None and cut.rows == "district"
    table = repository.current_table(
        resolved.questionnaire.id,
        resolved.quarter,
        cut.id,
        resolved.district or CITY,
        city_scope=CITY if with_city else None,
    )
    if table is None:
        return _Found(resolved, None, repository.latest_publication_id())
    return _Found(resolved, table, table.latest_publication_id)


def _audit(session: Session, principal: Principal, found: _Found, channel: str) -> None:
    """Record the view, and return once the row is committed: nothing of a heatmap is sent
    before its view is on the trail (``audit.record_committed``; a failure is a 503)."""
    resolved = found.resolved
    audit.record_committed(
        session,
        principal,
        "heatmap.view",
        "heatmap",
        resolved.cut.id,
        detail={
            "channel": channel,
            "questionnaire": resolved.questionnaire.id,
            "metric": resolved.metric,
            "rung": resolved.rung if resolved.metric == "share" else None,
            "quarter": quarters.label(resolved.quarter),
            "district": resolved.district,
            "publication": found.latest_publication_id,
        },
    )


def heatmap(
    session: Session,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    settings: Settings,
    query: HeatmapQuery,
    lang: Lang,
    *,
    channel: str = "json",
) -> HeatmapRead:
    """The one way to a heatmap: resolve and authorise, read the latest publication's table,
    audit. Nothing here reads the live aggregates: what officials see changes only with the
    next publication.

    Scope: a table of one district whose rows are districts shows that district's row and the
    city-wide total row (the city-wide table's own published margin, not a sum of rows)."""
    found = _find(session, principal, catalog, query)
    view = _view(found, settings.HEATMAP_MIN_CELL, lang)
    _audit(session, principal, found, channel)
    return view


#: Serialised heatmaps by everything they depend on (``_Found.key``): a published table never
#: changes, so each view's bytes are made once per process (a few KB each).
_HEATMAP_JSON: LruCache[tuple[object, ...], JsonBody] = LruCache(512)


def heatmap_json(
    session: Session,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    *,
    min_cell: int,
    query: HeatmapQuery,
    lang: Lang,
) -> JsonBody:
    """:func:`heatmap` as the API sends it, serialised once: every request is still resolved,
    authorised and audited, and reads which tables are current; the tables' figures are
    drawn only the first time."""
    found = _find(session, principal, catalog, query)
    body = _HEATMAP_JSON.get_or_make(
        found.key(lang, min_cell), lambda: json_body(_view(found, min_cell, lang))
    )
    _audit(session, principal, found, "json")
    return body


def _view(found: _Found, min_cell: int, lang: Lang) -> HeatmapRead:
    resolved, cut = found.resolved, found.resolved.cut
    stored = Stored.of(json.loads(found.table.payload)) if found.table is not None else None
    city = Stored.of(json.loads(found.city.payload)) if found.city is not None else None
    published_at, synthetic = found.published_at, found.synthetic
    value_range: tuple[float, float] | None = None
    if resolved.metric == "mean":
        value_range = (2.75, 4.0)
    elif resolved.metric == "share":
        value_range = (0.0, 100.0)
    table = stored or Stored([], [], [[None]])
    totals = city or table
    return HeatmapRead(
        questionnaire=QuestionnaireLabel(
            id=resolved.questionnaire.id, title=resolved.questionnaire.title.get(lang)
        ),
        cut=cut.id,
        cut_title=trc(lang, *cut.title),
        metric=resolved.metric,
        metric_title=trc(lang, *METRICS[resolved.metric]),
        rung=resolved.rung if resolved.metric == "share" and not cut.distribution else None,
        quarter=quarters.label(resolved.quarter),
        district=resolved.district,
        published_at=published_at,
        min_cell=min_cell,
        rows=[Label(key=r, label=_label(cut.rows, r, resolved, lang)) for r in table.rows],
        columns=[Label(key=c, label=_label(cut.cols, c, resolved, lang)) for c in table.cols],
        cells=[[_cell(resolved, table.cell(r, c)) for c in table.cols] for r in table.rows],
        row_totals=None
        if cut.cols == "quarter"
        else [_cell(resolved, table.cell(r, TOTAL)) for r in table.rows],
        column_totals=[_cell(resolved, totals.cell(TOTAL, c)) for c in table.cols],
        total=_cell(resolved, totals.cell(TOTAL, TOTAL)),
        total_is_city=city is not None,
        value_range=value_range,
        includes_synthetic=synthetic,
        notes=_notes(resolved, min_cell, synthetic, lang, published=stored is not None),
    )


def options(
    session: Session,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    questionnaire_id: str | None,
    lang: Lang,
) -> HeatmapOptions:
    require_heatmap_viewer(principal)
    questionnaire = _questionnaire(catalog, questionnaire_id)
    recorded = HeatmapRepository(session).quarters(questionnaire.id)
    now = quarters.current_quarter()
    first = min([*recorded, now])
    available = [now]
    while available[-1] > first:
        available.append(quarters.previous(available[-1]))
    return HeatmapOptions(
        cuts=[Label(key=c.id, label=trc(lang, *c.title)) for c in CUTS.values()],
        metrics=[Label(key=k, label=trc(lang, *m)) for k, m in METRICS.items()],
        rungs=list(SHARE_RUNGS),
        quarters=[quarters.label(q) for q in available],
        questionnaires=[Label(key=q.id, label=q.title.get(lang)) for q in catalog.latest()],
        districts=[Label(key=d.code, label=d.name(lang)) for d in DISTRICTS.values()],
    )


# --- CSV -------------------------------------------------------------------------------------


def to_csv(view: HeatmapRead, lang: Lang) -> str:
    """The published table as CSV. The publication time heads the file; an empty cell (no
    firm) is written blank, a suppressed one "x", a 0 % share "0"."""
    total_label = trc(lang, "heatmap", "Total")
    count_label = trc(lang, "heatmap", "firms")
    out = io.StringIO()
    writer = csv.writer(out)
    published = (
        view.published_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M %z")
        if view.published_at is not None
        else trc(lang, "heatmap", "not published yet")
    )
    writer.writerow([f"# {trc(lang, 'heatmap', 'Published')}: {published}"])
    writer.writerow(
        [
            f"# {view.cut_title} · {view.metric_title}"
            + (f" ≥ {view.rung}" if view.rung else "")
            + f" · {view.questionnaire.title} · {view.quarter}"
            + (f" · {view.district}" if view.district else "")
        ]
    )
    for note in view.notes:
        writer.writerow([f"# {note}"])
    header = ["", *(c.label for c in view.columns)]
    if view.row_totals is not None:
        header.append(total_label)

    def shown(cell: CellRead) -> str:
        if cell.suppressed:
            return "x"
        if view.metric == "count" or cell.value is None:
            return cell.count_band or ""
        return f"{cell.value:.2f}" if view.metric == "mean" else f"{cell.value:g}"

    def band(cell: CellRead) -> str:  # empty cells blank, like the values
        return "x" if cell.suppressed else (cell.count_band or "")

    def table(cell_text: Callable[[CellRead], str]) -> None:
        writer.writerow(header)
        for index, row in enumerate(view.rows):
            line = [row.label, *(cell_text(c) for c in view.cells[index])]
            if view.row_totals is not None:
                line.append(cell_text(view.row_totals[index]))
            writer.writerow(line)
        footer = [total_label, *(cell_text(c) for c in view.column_totals)]
        if view.row_totals is not None:
            footer.append(cell_text(view.total))
        writer.writerow(footer)

    table(shown)
    if view.metric != "count":
        writer.writerow([])
        writer.writerow([f"# {count_label}"])
        table(band)
    return out.getvalue()


# --- the report's peer comparison --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndustryPeers:
    """The latest published figures of the verified firms of one industry city-wide: the
    count band and the share at or above each rung (percent, keyed "3.00" … "4.00"), as every
    heatmap publishes them (suppressed under the minimum cell, cell-key perturbed)."""

    quarter: str
    band: str
    shares: dict[str, int]


def published_industry_peers(
    session: Session, questionnaire_id: str, industry_code: str, at: datetime
) -> IndustryPeers | None:
    """The industry's city-wide column in the district × industry table of the quarter of
    ``at``, as last published; None when nothing is published for it or its cell is
    suppressed. A firm's report compares it with these published figures only, never with its
    peers' stored scores: a comparison made live from them (a percentile) could be probed
    with submissions of chosen scores until it gave away each peer's score."""
    quarter = quarters.quarter_of(at)
    found = HeatmapRepository(session).current_table(
        questionnaire_id, quarter, "district-industry", CITY
    )
    if found is None:
        return None
    stored = Stored.of(json.loads(found.payload))
    cell = stored.cell(TOTAL, industry_code)
    if cell is None or cell == "x" or cell[3] is None:
        return None
    _count, band, _mean, shares, _share_of_row = cell
    return IndustryPeers(
        quarter=quarters.label(quarter),
        band=str(band),
        shares={f"{t / 100:.2f}": int(s) for t, s in zip(RUNG_THRESHOLDS, shares, strict=True)},
    )
