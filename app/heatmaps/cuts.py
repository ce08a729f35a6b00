"""The predefined cuts and metrics: the only views of the aggregates that exist (no free-form
filters or drill-down, ecosystem.md §2.3 rule 6)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from app.kit.i18n import NC_, Message
from scoring import RUNGS

CutId = Literal[
    "district-stage",
    "district-industry",
    "industry-stage",
    "size-stage",
    "district-rung",
    "district-quarter",
]
MetricId = Literal["mean", "share", "count"]
#: Dimension ids: table rows/columns.
Dimension = Literal["district", "industry", "size", "stage", "rung", "quarter"]

SIZE_CLASSES = ("micro", "small", "medium", "large")
SIZE_LABELS = {
    "micro": NC_("size class", "Micro"),
    "small": NC_("size class", "Small"),
    "medium": NC_("size class", "Medium"),
    "large": NC_("size class", "Large"),
}
#: Rungs a share can be asked for ("share at or above"): 3.00 … 4.00.
SHARE_RUNGS = ("3.00", "3.25", "3.50", "3.75", "4.00")
DEFAULT_SHARE_RUNG = "3.50"
#: How many quarters the trend cut shows, ending with the chosen quarter.
TREND_QUARTERS = 8


@dataclass(frozen=True, slots=True)
class Cut:
    id: CutId
    rows: Dimension
    cols: Dimension
    title: Message
    metrics: tuple[MetricId, ...]
    #: Firms partition the columns (so the row margin is the sum of the row).
    partition: bool
    #: Cells count firms per rung: a row with all firms in one cell is disclosive.
    distribution: bool = False
    #: District officials may see this cut city-wide (it compares districts).
    comparison: bool = False


CUTS: dict[str, Cut] = {
    c.id: c
    for c in (
        Cut(
            "district-stage",
            "district",
            "stage",
            NC_("heatmap", "District × stage"),
            ("mean", "share", "count"),
            partition=False,
            comparison=True,
        ),
        Cut(
            "district-industry",
            "district",
            "industry",
            NC_("heatmap", "District × industry"),
            ("mean", "share", "count"),
            partition=True,
        ),
        Cut(
            "industry-stage",
            "industry",
            "stage",
            NC_("heatmap", "Industry × stage"),
            ("mean", "share", "count"),
            partition=False,
        ),
        Cut(
            "size-stage",
            "size",
            "stage",
            NC_("heatmap", "Size class × stage"),
            ("mean", "share", "count"),
            partition=False,
        ),
        Cut(
            "district-rung",
            "district",
            "rung",
            NC_("heatmap", "District × rung distribution"),
            ("share", "count"),
            partition=True,
            distribution=True,
            comparison=True,
        ),
        Cut(
            "district-quarter",
            "district",
            "quarter",
            NC_("heatmap", "District × quarterly trend"),
            ("mean", "share", "count"),
            partition=False,
            comparison=True,
        ),
    )
}

METRICS: dict[str, Message] = {
    "mean": NC_("heatmap", "Mean score"),
    "share": NC_("heatmap", "Share at or above the chosen rung"),
    "count": NC_("heatmap", "Number of firms (band)"),
}

#: Rungs 2.75 … 4.00 as distribution columns, keyed like "3.25".
RUNG_KEYS = tuple(f"{r.level:.2f}" for r in RUNGS)


def rung_label(key: str, lang: str) -> str:
    for rung in RUNGS:
        if f"{rung.level:.2f}" == key:
            return f"{key} {rung.name.get(lang)}"
    return key


def share_threshold(rung: str) -> int:
    return int(Decimal(rung) * 100)
