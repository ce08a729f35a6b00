"""Heatmap views for officials: who may see which cut, the tables, and their publication through
disclosure control. Every path (JSON, CSV, HTML page, PDF) gets its figures from :func:`heatmap`,
which applies :func:`app.heatmaps.disclosure.protect` and audits the request."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.heatmaps import quarters, upkeep
from app.heatmaps.cuts import (
    CUTS,
    DEFAULT_SHARE_RUNG,
    METRICS,
    RUNG_KEYS,
    SHARE_RUNGS,
    SIZE_CLASSES,
    SIZE_LABELS,
    TREND_QUARTERS,
    Cut,
    rung_label,
    share_threshold,
)
from app.heatmaps.disclosure import TOTAL, Protection, protect
from app.heatmaps.repository import DIMENSIONS, HeatmapRepository
from app.heatmaps.repository import table_of as table_of  # bulk loaders write the tables
from app.heatmaps.schemas import (
    CellRead,
    HeatmapOptions,
    HeatmapRead,
    Label,
    QuestionnaireLabel,
)
from app.heatmaps.sums import RUNG_THRESHOLDS
from app.kit.errors import FieldError, InvalidInput, NotFound
from app.kit.guards import require_heatmap_viewer
from app.kit.i18n import Lang, tr, trc
from app.kit.principal import Principal
from app.kit.reference import DISTRICTS, INDUSTRIES
from app.kit.settings import Settings
from app.models import Enterprise
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


def _invalid(field_name: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"{field_name}: {message}", errors=[FieldError(f"query.{field_name}", message, "invalid")]
    )


def resolve(principal: Principal, catalog: QuestionnaireCatalog, query: HeatmapQuery) -> Resolved:
    """Check the request names a predefined cut and a scope the caller may see."""
    require_heatmap_viewer(principal)
    cut = CUTS.get(query.cut)
    if cut is None:
        raise _invalid("cut", "not a predefined cut: " + ", ".join(CUTS))
    metric = query.metric or cut.metrics[0]
    if metric not in cut.metrics:
        raise _invalid("metric", f"cut {cut.id} offers " + ", ".join(cut.metrics))
    rung = query.rung or DEFAULT_SHARE_RUNG
    if rung not in SHARE_RUNGS:
        raise _invalid("rung", "one of " + ", ".join(SHARE_RUNGS))
    questionnaire = catalog.get(query.questionnaire_id or DEFAULT_QUESTIONNAIRE)
    if questionnaire is None and query.questionnaire_id is None and catalog.latest():
        questionnaire = catalog.latest()[0]
    if questionnaire is None:
        raise _invalid("questionnaire_id", "not a questionnaire served here")
    now = quarters.current_quarter()
    quarter = now if not query.quarter else quarters.parse(query.quarter)
    if quarter is None or quarter > now or quarter < 20001:
        raise _invalid("quarter", 'a past or the current quarter, like "2026Q4"')
    district = query.district or None
    if district is not None and district not in DISTRICTS:
        raise _invalid("district", "not one of Shanghai's 16 district codes")
    own = principal.district_code if principal.is_official else None
    if own is not None:
        if district is None and not cut.comparison:
            district = own  # a district official's breakdowns are of their own district
        if district is not None and district != own:
            raise NotFound("No heatmap for this district.")
    return Resolved(cut, metric, rung, quarter, questionnaire, district)


# --- tables ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Stats:
    """Additive sums of one cell: firms, firms scored, score sum (hundredths), counts ≥ rungs."""

    n: int = 0
    scored: int = 0
    total: int = 0
    ge: list[int] = field(default_factory=lambda: [0] * len(RUNG_THRESHOLDS))

    def add(self, other: Stats) -> None:
        self.n += other.n
        self.scored += other.scored
        self.total += other.total
        self.ge = [a + b for a, b in zip(self.ge, other.ge, strict=True)]

    @classmethod
    def of_cell(cls, values: tuple[Any, ...]) -> Stats:
        firms, scored, total, *ge = (int(v or 0) for v in values)
        return cls(firms, scored, total, ge)

    @classmethod
    def of_stage(cls, values: tuple[Any, ...]) -> Stats:
        firms, total, *ge = (int(v or 0) for v in values)
        return cls(firms, firms, total, ge)


@dataclass(slots=True)
class Table:
    rows: list[str]
    cols: list[str]
    cells: dict[tuple[str, str], Stats] = field(default_factory=dict)

    def stats(self, row: str, col: str) -> Stats:
        return self.cells.get((row, col)) or Stats()


def _sum_into(target: dict[tuple[str, str], Stats], key: tuple[str, str], stats: Stats) -> None:
    target.setdefault(key, Stats()).add(stats)


def _with_margins(table: Table, row_margins: dict[str, Stats] | None = None) -> None:
    """Fill column margins (and row margins, unless given) and the grand total by summing."""
    for (row, col), stats in list(table.cells.items()):
        if row == TOTAL or col == TOTAL:
            continue
        _sum_into(table.cells, (TOTAL, col), stats)
        if row_margins is None:
            _sum_into(table.cells, (row, TOTAL), stats)
    if row_margins is not None:
        for row, stats in row_margins.items():
            table.cells[(row, TOTAL)] = stats
    for row in table.rows:
        _sum_into(table.cells, (TOTAL, TOTAL), table.stats(row, TOTAL))


def _row_keys(dimension: str, present: set[str], district: str | None) -> list[str]:
    if dimension == "district":
        return [district] if district is not None else list(DISTRICTS)
    if dimension == "size":
        return list(SIZE_CLASSES)
    return sorted(present)  # industries with firms in scope


def build_table(repository: HeatmapRepository, resolved: Resolved) -> Table:
    cut, qid, quarter, district = (
        resolved.cut,
        resolved.questionnaire.id,
        resolved.quarter,
        resolved.district,
    )
    row_col = DIMENSIONS[cut.rows]
    if cut.cols == "stage":
        stage_ids = [s.id for s in resolved.questionnaire.stages]
        margins = {
            str(row[0]): Stats.of_cell(row[1:])
            for row in repository.cell_sums(qid, quarter, [row_col], district=district)
        }
        present = {r for r, stats in margins.items() if stats.n > 0}
        table = Table(_row_keys(cut.rows, present, district), stage_ids)
        for row in repository.stage_sums(qid, quarter, [row_col, "stage_id"], district=district):
            if row[1] in stage_ids:
                table.cells[(str(row[0]), str(row[1]))] = Stats.of_stage(row[2:])
        _with_margins(table, {r: margins.get(r, Stats()) for r in table.rows})
        return table
    if cut.cols == "industry":
        grouped = repository.cell_sums(qid, quarter, [row_col, "industry_code"], district=district)
        table = Table(
            _row_keys(cut.rows, set(), district),
            sorted({str(r[1]) for r in grouped if int(r[2] or 0) > 0}),
        )
        for row in grouped:
            table.cells[(str(row[0]), str(row[1]))] = Stats.of_cell(row[2:])
        _with_margins(table)
        return table
    if cut.cols == "rung":
        table = Table(_row_keys(cut.rows, set(), district), list(RUNG_KEYS))
        for row in repository.cell_sums(qid, quarter, [row_col], district=district):
            overall = Stats.of_cell(row[1:])
            at_or_above = [overall.n, *overall.ge, 0]
            for index, key in enumerate(RUNG_KEYS):
                table.cells[(str(row[0]), key)] = Stats(
                    n=at_or_above[index] - at_or_above[index + 1]
                )
        _with_margins(table)
        return table
    # quarterly trend: cumulative changes up to each quarter
    shown = quarters.last_n(quarter, TREND_QUARTERS)
    changes: dict[str, dict[int, Stats]] = {}
    for row in repository.cell_sums(qid, quarter, [row_col], district=district, by_quarter=True):
        changes.setdefault(str(row[0]), {})[int(row[1])] = Stats.of_cell(row[2:])
    table = Table(_row_keys(cut.rows, set(), district), [quarters.label(q) for q in shown])
    for key, by_quarter in changes.items():
        for column in shown:
            cumulative = Stats()
            for q, stats in by_quarter.items():
                if q <= column:
                    cumulative.add(stats)
            table.cells[(key, quarters.label(column))] = cumulative
    _with_margins(table, {r: table.stats(r, quarters.label(quarter)) for r in table.rows})
    return table


# --- publication -----------------------------------------------------------------------------


def _round2(numerator: int, denominator: int) -> float:
    return float(
        (Decimal(numerator) / Decimal(denominator) / 100).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    )


def _percent(numerator: int, denominator: int) -> float:
    return float(
        (Decimal(100 * numerator) / Decimal(denominator)).quantize(
            Decimal("1"), rounding=ROUND_HALF_UP
        )
    )


def _value(resolved: Resolved, table: Table, row: str, col: str) -> float | None:
    stats = table.stats(row, col)
    if resolved.metric == "count" or stats.n == 0:
        return None
    if resolved.metric == "mean":
        return _round2(stats.total, stats.scored) if stats.scored else None
    if resolved.cut.distribution:
        base = table.stats(row, TOTAL).n if col != TOTAL else table.stats(TOTAL, TOTAL).n
        return _percent(stats.n, base) if base else None
    index = RUNG_THRESHOLDS.index(share_threshold(resolved.rung))
    return _percent(stats.ge[index], stats.n)


def _cell(resolved: Resolved, table: Table, protection: Protection, row: str, col: str) -> CellRead:
    if not protection.is_published(row, col):
        return CellRead(value=None, count_band=None, suppressed=True)
    return CellRead(
        value=_value(resolved, table, row, col),
        count_band=protection.band(row, col),
        suppressed=False,
    )


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


def _notes(resolved: Resolved, min_cell: int, synthetic: bool, lang: Lang) -> list[str]:
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
    ]
    if synthetic:
        notes.append(
            tr(
                lang,
                "This database contains synthetic demo firms: the figures are not real statistics.",
            )
        )
    return notes


def includes_synthetic(session: Session) -> bool:
    return bool(session.scalar(select(exists().where(Enterprise.synthetic.is_(True)))))


class Snapshots:
    """Built tables of one running app, reused for ``HEATMAP_SNAPSHOT_SECONDS`` or until an
    upkeep in this process changes the sums (``upkeep.generation``)."""

    def __init__(self, seconds: int, size: int = 256) -> None:
        self.seconds = seconds
        self.size = size
        self._tables: dict[tuple[Any, ...], tuple[float, int, Table]] = {}
        self._lock = threading.Lock()

    def table(self, repository: HeatmapRepository, resolved: Resolved) -> Table:
        if self.seconds <= 0:
            return build_table(repository, resolved)
        key = (resolved.questionnaire.id, resolved.quarter, resolved.cut.id, resolved.district)
        now = time.monotonic()
        generation = upkeep.generation()
        with self._lock:
            hit = self._tables.get(key)
        if hit is not None and hit[0] > now and hit[1] == generation:
            return hit[2]
        table = build_table(repository, resolved)
        with self._lock:
            if len(self._tables) >= self.size:
                self._tables.clear()
            self._tables[key] = (now + self.seconds, generation, table)
        return table


def heatmap(
    session: Session,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    settings: Settings,
    query: HeatmapQuery,
    lang: Lang,
    *,
    channel: str = "json",
    snapshots: Snapshots | None = None,
) -> HeatmapRead:
    """The one way to a published heatmap: resolve and authorise, build, protect, audit."""
    resolved = resolve(principal, catalog, query)
    repository = HeatmapRepository(session)
    table = (
        snapshots.table(repository, resolved)
        if snapshots is not None
        else build_table(repository, resolved)
    )
    min_cell = settings.HEATMAP_MIN_CELL
    protection = protect(
        table.rows,
        table.cols,
        {key: stats.n for key, stats in table.cells.items()},
        min_cell=min_cell,
        distribution=resolved.cut.distribution,
    )
    cut = resolved.cut
    synthetic = includes_synthetic(session)
    audit.record(
        session,
        principal,
        "heatmap.view",
        "heatmap",
        cut.id,
        detail={
            "channel": channel,
            "questionnaire": resolved.questionnaire.id,
            "metric": resolved.metric,
            "rung": resolved.rung if resolved.metric == "share" else None,
            "quarter": quarters.label(resolved.quarter),
            "district": resolved.district,
            "suppressed": len(protection.suppressed),
        },
    )
    value_range: tuple[float, float] | None = None
    if resolved.metric == "mean":
        value_range = (2.75, 4.0)
    elif resolved.metric == "share":
        value_range = (0.0, 100.0)
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
        min_cell=min_cell,
        rows=[Label(key=r, label=_label(cut.rows, r, resolved, lang)) for r in table.rows],
        columns=[Label(key=c, label=_label(cut.cols, c, resolved, lang)) for c in table.cols],
        cells=[[_cell(resolved, table, protection, r, c) for c in table.cols] for r in table.rows],
        row_totals=None
        if cut.cols == "quarter"
        else [_cell(resolved, table, protection, r, TOTAL) for r in table.rows],
        column_totals=[_cell(resolved, table, protection, TOTAL, c) for c in table.cols],
        total=_cell(resolved, table, protection, TOTAL, TOTAL),
        value_range=value_range,
        includes_synthetic=synthetic,
        notes=_notes(resolved, min_cell, synthetic, lang),
    )


def options(
    session: Session,
    principal: Principal,
    catalog: QuestionnaireCatalog,
    questionnaire_id: str | None,
    lang: Lang,
) -> HeatmapOptions:
    require_heatmap_viewer(principal)
    questionnaire = catalog.get(questionnaire_id or DEFAULT_QUESTIONNAIRE)
    recorded = HeatmapRepository(session).quarters(questionnaire.id) if questionnaire else []
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
    """The published table as CSV: suppressed cells are written as "x", never with a value."""
    total_label = trc(lang, "heatmap", "Total")
    count_label = trc(lang, "heatmap", "firms")
    out = io.StringIO()
    writer = csv.writer(out)
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
        return f"{cell.value:g}"

    def band(cell: CellRead) -> str:
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
