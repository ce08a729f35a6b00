from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Label(BaseModel):
    key: str = Field(examples=["310115"])
    label: str = Field(examples=["浦东新区"])


class CellRead(BaseModel):
    """One published cell. A suppressed cell has neither value nor count."""

    value: float | None = Field(
        description="The metric: mean score (2 dp), or share in percent; null when suppressed, "
        "empty, or the metric is the count.",
        examples=[3.42],
    )
    count_band: str | None = Field(
        description='Number of verified firms as a band ("5–9", "10–19", …) of the perturbed '
        "count; null when suppressed or empty (no firm).",
        examples=["10–19"],
    )
    suppressed: bool = Field(
        description="Hidden by disclosure control: too few firms, or hidden so that another "
        "hidden cell cannot be worked out from totals."
    )


class QuestionnaireLabel(BaseModel):
    id: str
    title: str


class HeatmapRead(BaseModel):
    """A predefined cut of the aggregates, after disclosure control."""

    questionnaire: QuestionnaireLabel
    cut: str = Field(examples=["district-stage"])
    cut_title: str
    metric: str = Field(examples=["mean"])
    metric_title: str
    rung: str | None = Field(
        description='For metric "share": the rung the share is at or above.', examples=["3.50"]
    )
    quarter: str = Field(
        description="Each firm counts with its latest submission up to this quarter's end "
        "(China Standard Time).",
        examples=["2026Q4"],
    )
    district: str | None = Field(
        description="Scope: only firms of this district; null for city-wide.", examples=[None]
    )
    published_at: datetime | None = Field(
        description="When the figures were published; null before the first publication (the "
        "table is then empty)."
    )
    min_cell: int = Field(description="Fewest verified firms a published cell is built from.")
    rows: list[Label]
    columns: list[Label]
    cells: list[list[CellRead]] = Field(description="rows × columns")
    row_totals: list[CellRead] | None = Field(
        description="Per row over all its firms (the trend cut shows none)."
    )
    column_totals: list[CellRead]
    total: CellRead
    total_is_city: bool = Field(
        description="The total row is the city-wide total (a district's table of a cut whose "
        "rows are districts), not the district's own."
    )
    value_range: tuple[float, float] | None = Field(
        description="The colour scale's domain for the metric (null for counts)."
    )
    includes_synthetic: bool = Field(
        description="Synthetic demo firms exist in this database; figures include them."
    )
    notes: list[str]


class HeatmapOptions(BaseModel):
    cuts: list[Label]
    metrics: list[Label]
    rungs: list[str]
    quarters: list[str]
    questionnaires: list[Label]
    districts: list[Label]
