"""Queries of the heatmap aggregates (and the raw rows ``aggregates verify`` recomputes from)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from app.heatmaps import quarters
from app.heatmaps.sums import (
    CELL_COLUMNS,
    CELL_KEY,
    CURRENT,
    STAGE_COLUMNS,
    STAGE_KEY,
    CellKey,
    Changes,
    StageKey,
)
from app.kit.db import lock_row
from app.models import (
    Assessment,
    Enterprise,
    HeatmapCell,
    HeatmapContribution,
    HeatmapPublication,
    HeatmapPublishedTable,
    HeatmapStageCell,
    Result,
)

#: Dimensions a cut may group by, as columns of both cell tables.
DIMENSIONS = {"district": "district_code", "industry": "industry_code", "size": "size_class"}


def table_of(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


#: The two levels of maintained sums: a firm's overall scores and its per-stage scores.
SumLevel = Literal["cell", "stage"]
_LEVELS: dict[str, tuple[type[Any], Sequence[str]]] = {
    "cell": (HeatmapCell, CELL_COLUMNS),
    "stage": (HeatmapStageCell, STAGE_COLUMNS),
}


class TableRef(NamedTuple):
    """A stored published table by its key (the publication that stored it)."""

    questionnaire_id: str
    quarter: int
    cut: str
    scope: str
    publication_id: int


class StoredTable(NamedTuple):
    """A stored published table: its key and its payload as stored (JSON text)."""

    ref: TableRef
    payload: str


class CurrentTable(NamedTuple):
    """A published table as a heatmap reads it (:meth:`HeatmapRepository.current_table`)."""

    ref: TableRef
    #: The payload as stored (JSON text).
    payload: str
    #: When the publication that stored it was published, and whether it had synthetic firms.
    published_at: datetime
    includes_synthetic: bool
    #: The latest publication's id (the table may have been stored by an earlier one).
    latest_publication_id: int
    #: The city-wide table read with it (when asked for and stored).
    city: StoredTable | None = None


class HeatmapRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- upkeep ----------------------------------------------------------------------------

    def lock_enterprise(self, enterprise_id: uuid.UUID) -> None:
        """Serialise upkeep per firm (``kit.db.lock_row``)."""
        lock_row(self.session, Enterprise.id, enterprise_id)

    def contributions(
        self, enterprise_id: uuid.UUID, questionnaire_id: str | None = None
    ) -> list[HeatmapContribution]:
        query = select(HeatmapContribution).where(
            HeatmapContribution.enterprise_id == enterprise_id
        )
        if questionnaire_id is not None:
            query = query.where(HeatmapContribution.questionnaire_id == questionnaire_id)
        return list(
            self.session.scalars(
                query.order_by(HeatmapContribution.questionnaire_id, HeatmapContribution.quarter)
            )
        )

    def around(
        self, enterprise_id: uuid.UUID, questionnaire_id: str, quarter: int
    ) -> tuple[HeatmapContribution | None, HeatmapContribution | None, HeatmapContribution | None]:
        """The firm's rows just before, at and just after ``quarter`` (two indexed lookups)."""
        where = and_(
            HeatmapContribution.enterprise_id == enterprise_id,
            HeatmapContribution.questionnaire_id == questionnaire_id,
        )
        before = self.session.scalar(
            select(HeatmapContribution)
            .where(where, HeatmapContribution.quarter < quarter)
            .order_by(HeatmapContribution.quarter.desc())
            .limit(1)
        )
        later = list(
            self.session.scalars(
                select(HeatmapContribution)
                .where(where, HeatmapContribution.quarter >= quarter)
                .order_by(HeatmapContribution.quarter)
                .limit(2)
            )
        )
        at = later.pop(0) if later and later[0].quarter == quarter else None
        return before, at, (later[0] if later else None)

    def add_contribution(self, row: HeatmapContribution) -> None:
        self.session.add(row)

    def delete_contributions(self, enterprise_id: uuid.UUID) -> None:
        self.session.execute(
            delete(HeatmapContribution).where(HeatmapContribution.enterprise_id == enterprise_id)
        )

    def apply(self, changes: Changes) -> None:
        """Add the changes to the cell rows: one upsert per touched row, in key order (so that
        concurrent submits lock rows in the same order and cannot deadlock)."""
        cells, stage_cells = changes.nonzero()
        self.session.flush()
        connection = self.session.connection()
        if cells:
            connection.execute(
                _upsert(connection.dialect.name, table_of(HeatmapCell), CELL_KEY, CELL_COLUMNS),
                _rows(cells, CELL_KEY, CELL_COLUMNS),
            )
        if stage_cells:
            connection.execute(
                _upsert(
                    connection.dialect.name, table_of(HeatmapStageCell), STAGE_KEY, STAGE_COLUMNS
                ),
                _rows(stage_cells, STAGE_KEY, STAGE_COLUMNS),
            )

    # --- reads -----------------------------------------------------------------------------

    def quarters(self, questionnaire_id: str) -> list[int]:
        return list(
            self.session.scalars(
                select(HeatmapCell.quarter)
                .where(
                    HeatmapCell.questionnaire_id == questionnaire_id, HeatmapCell.quarter > CURRENT
                )
                .distinct()
                .order_by(HeatmapCell.quarter)
            )
        )

    def sums(
        self,
        level: SumLevel,
        questionnaire_id: str,
        until_quarter: int,
        group_by: Sequence[str],
        *,
        district: str | None = None,
        by_quarter: bool = False,
    ) -> list[tuple[Any, ...]]:
        """The maintained sums of one ``level`` (``"cell"``: overall scores, ``CELL_COLUMNS``;
        ``"stage"``: per stage, ``STAGE_COLUMNS``, ``group_by`` may include stage_id) as of the
        end of ``until_quarter`` (or per quarter of change, when ``by_quarter``), grouped by
        dimension columns: rows of (*group values, *the level's columns)."""
        model, columns = _LEVELS[level]
        table = table_of(model)
        groups: list[ColumnElement[Any]] = [table.c[name] for name in group_by]
        if by_quarter:
            groups.append(table.c.quarter)
        if not by_quarter and until_quarter >= quarters.current_quarter():
            # As of now: the running totals (one row per cell), not the sum of the changes.
            in_range = table.c.quarter == CURRENT
        else:
            in_range = and_(table.c.quarter > CURRENT, table.c.quarter <= until_quarter)
        query: Select[Any] = select(*groups, *(func.sum(table.c[name]) for name in columns)).where(
            table.c.questionnaire_id == questionnaire_id, in_range
        )
        if district is not None:
            query = query.where(table.c.district_code == district)
        if groups:
            query = query.group_by(*groups)
        return [tuple(row) for row in self.session.execute(query)]

    # --- publications ----------------------------------------------------------------------

    def includes_synthetic(self) -> bool:
        return bool(self.session.scalar(select(exists().where(Enterprise.synthetic.is_(True)))))

    def add_publication(self, publication: HeatmapPublication) -> None:
        self.session.add(publication)
        self.session.flush()

    def add_published_tables(self, rows: list[HeatmapPublishedTable]) -> None:
        self.session.add_all(rows)
        self.session.flush()

    def latest_publication(self) -> HeatmapPublication | None:
        return self.session.scalar(
            select(HeatmapPublication).order_by(HeatmapPublication.id.desc()).limit(1)
        )

    def publication(self, publication_id: int) -> HeatmapPublication | None:
        return self.session.get(HeatmapPublication, publication_id)

    def closed_published(self, questionnaire_id: str, quarter: int) -> bool:
        """Whether a publication after the quarter's end already stored its tables."""
        table = HeatmapPublishedTable
        return bool(
            self.session.scalar(
                select(
                    exists().where(
                        table.questionnaire_id == questionnaire_id,
                        table.quarter == quarter,
                        table.closed.is_(True),
                    )
                )
            )
        )

    def current_table(
        self,
        questionnaire_id: str,
        quarter: int,
        cut: str,
        scope: str,
        *,
        city_scope: str | None = None,
    ) -> CurrentTable | None:
        """The table a heatmap shows, in one statement: the newest stored table of this key in
        the latest publication or before, its payload as stored (text: what a view made of it
        may be cached under), the publication that stored it, the latest publication's id and,
        with ``city_scope``, the newest table of that scope (the city-wide one) in the found
        table's publication or before. Plain columns: no ORM object on every heatmap GET."""
        key = {"questionnaire_id": questionnaire_id, "quarter": quarter, "cut": cut, "scope": scope}
        if city_scope is None:
            found = self.session.connection().execute(_CURRENT_TABLE, key).first()
        else:
            found = (
                self.session.connection()
                .execute(_CURRENT_TABLE_AND_CITY, {**key, "city_scope": city_scope})
                .first()
            )
        if found is None:
            return None
        stored_in, text, published_at, synthetic, latest_id, *city = found
        ref = TableRef(questionnaire_id, quarter, cut, scope, stored_in)
        city_table = None
        if city and city[0] is not None:
            city_ref = TableRef(questionnaire_id, quarter, cut, str(city_scope), city[0])
            city_table = StoredTable(city_ref, city[1])
        return CurrentTable(ref, text, published_at, bool(synthetic), latest_id, city_table)

    def latest_publication_id(self) -> int | None:
        return self.session.scalar(select(func.max(HeatmapPublication.id)))

    # --- verification from raw rows -------------------------------------------------------

    def stored_cells(self) -> Iterator[tuple[CellKey, tuple[int, ...]]]:
        table = table_of(HeatmapCell)
        query = select(*(table.c[k] for k in CELL_KEY), *(table.c[c] for c in CELL_COLUMNS))
        for row in self.session.execute(query).yield_per(10_000):
            yield tuple(row[: len(CELL_KEY)]), tuple(int(v) for v in row[len(CELL_KEY) :])

    def stored_stage_cells(self) -> Iterator[tuple[StageKey, tuple[int, ...]]]:
        table = table_of(HeatmapStageCell)
        query = select(*(table.c[k] for k in STAGE_KEY), *(table.c[c] for c in STAGE_COLUMNS))
        for row in self.session.execute(query).yield_per(10_000):
            yield tuple(row[: len(STAGE_KEY)]), tuple(int(v) for v in row[len(STAGE_KEY) :])

    def raw_submissions(self) -> Iterator[tuple[Any, ...]]:
        """Every submitted assessment with its result and firm, ordered by firm, questionnaire
        and submission time: (enterprise_id, verified, district, industry, size, questionnaire_id,
        assessment_id, submitted_at, overall, rung, stages, record_secret)."""
        query = (
            select(
                Assessment.enterprise_id,
                Enterprise.verified,
                Enterprise.district_code,
                Enterprise.industry_code,
                Enterprise.size_class,
                Assessment.questionnaire_id,
                Assessment.id,
                Assessment.submitted_at,
                Result.overall,
                Result.rung,
                Result.stages,
                Enterprise.record_secret,
            )
            .join(Result, Result.assessment_id == Assessment.id)
            .join(Enterprise, Enterprise.id == Assessment.enterprise_id)
            .where(Assessment.status == "submitted")
            .order_by(
                Assessment.enterprise_id,
                Assessment.questionnaire_id,
                Assessment.submitted_at,
                Assessment.id,
            )
        )
        yield from (tuple(row) for row in self.session.execute(query).yield_per(20_000))

    def stored_contributions(self) -> Iterator[HeatmapContribution]:
        query = select(HeatmapContribution).order_by(
            HeatmapContribution.enterprise_id,
            HeatmapContribution.questionnaire_id,
            HeatmapContribution.quarter,
        )
        yield from self.session.scalars(query.execution_options(yield_per=20_000))

    def clear(self) -> None:
        for model in (HeatmapStageCell, HeatmapCell, HeatmapContribution):
            self.session.execute(delete(model))


def _rows(
    changes: dict[Any, list[int]], key_names: Sequence[str], columns: Sequence[str]
) -> list[dict[str, Any]]:
    return [
        {**dict(zip(key_names, key, strict=True)), **dict(zip(columns, values, strict=True))}
        for key, values in sorted(changes.items())
    ]


def _upsert(dialect: str, table: Table, key: Sequence[str], columns: Sequence[str]) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c[k] for k in key],
        set_={name: table.c[name] + statement.excluded[name] for name in columns},
    )


def _current_table_query(*, with_city: bool) -> Select[Any]:
    """The newest stored table of a key (bound parameters) in the latest publication or
    before, with the publication that stored it and the latest publication's id; ``with_city``:
    and the newest table of scope ``city_scope`` in that table's publication or before."""
    table, publication = HeatmapPublishedTable, HeatmapPublication
    columns: list[Any] = [
        table.publication_id,
        cast(table.payload, Text),
        publication.published_at,
        publication.includes_synthetic,
        _LATEST,
    ]
    if with_city:
        city = aliased(HeatmapPublishedTable)
        newest_city = (
            select(city.publication_id)
            .where(
                city.questionnaire_id == table.questionnaire_id,
                city.quarter == table.quarter,
                city.cut == table.cut,
                city.scope == bindparam("city_scope"),
                city.publication_id <= table.publication_id,
            )
            .order_by(city.publication_id.desc())
            .limit(1)
        )
        columns.append(newest_city.scalar_subquery())
        columns.append(newest_city.with_only_columns(cast(city.payload, Text)).scalar_subquery())
    return (
        select(*columns)
        .join(publication, publication.id == table.publication_id)
        .where(
            table.questionnaire_id == bindparam("questionnaire_id"),
            table.quarter == bindparam("quarter"),
            table.cut == bindparam("cut"),
            table.scope == bindparam("scope"),
            table.publication_id <= _LATEST,
        )
        .order_by(table.publication_id.desc())
        .limit(1)
    )


_LATEST = select(func.max(HeatmapPublication.id)).scalar_subquery()
#: Built once: on every heatmap GET, building the statement cost more than running it.
_CURRENT_TABLE = _current_table_query(with_city=False)
_CURRENT_TABLE_AND_CITY = _current_table_query(with_city=True)
