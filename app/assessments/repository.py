from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Executable,
    Select,
    String,
    Table,
    any_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from app.kit.guards import Visibility
from app.models import Answer, Assessment, AssessmentKpi, AuditEvent, Enterprise
from app.models.base import JSONType

_ASSESSMENT: Table = Assessment.__table__  # type: ignore[assignment]
_ENTERPRISE: Table = Enterprise.__table__  # type: ignore[assignment]
_ANSWER: Table = Answer.__table__  # type: ignore[assignment]
_KPI: Table = AssessmentKpi.__table__  # type: ignore[assignment]
_AUDIT_EVENT: Table = AuditEvent.__table__  # type: ignore[assignment]
#: The audit row of a draft's write, inserted here (the audit domain's repository is its own):
#: built once, as the statements below, so its cache key is memoized.
_AUDIT_INSERT = insert(_AUDIT_EVENT)
#: The rows of values a draft's write stores: table, its key column.
_VALUE_TABLES = {"answer": (_ANSWER, "question_id"), "assessment_kpi": (_KPI, "kpi_id")}


class DraftState(NamedTuple):
    """What writing answers needs of an assessment, as plain columns (its ETag, its view)."""

    id: uuid.UUID
    enterprise_id: uuid.UUID
    questionnaire_id: str
    questionnaire_version: int
    questionnaire_hash: str
    status: str
    version: int
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    prefilled_from_id: uuid.UUID | None


# The answer path's statements, built once (their cache keys are then memoized): Core, no ORM
# objects, with the values bound at execution.
_CLAIM = (
    update(_ASSESSMENT)
    .where(_ASSESSMENT.c.id == bindparam("p_id"), _ASSESSMENT.c.version == bindparam("p_version"))
    .values(version=bindparam("p_next"), updated_at=bindparam("p_now"))
)


def _stored(dialect: str, table: Table, key: str) -> ColumnElement[Any]:
    """The assessment's rows of ``table`` as one JSON object, ``key`` → value (a subquery of
    the draft's read; NULL or {} when there are none)."""
    if dialect == "postgresql":
        pairs = func.jsonb_object_agg(table.c[key], table.c.value)
    else:  # SQLite keeps JSON as text: json() makes each value JSON again, not a string
        pairs = func.json_group_object(table.c[key], func.json(table.c.value))
    query = select(pairs).where(table.c.assessment_id == _ASSESSMENT.c.id)
    return type_coerce(query.scalar_subquery(), JSONType)


def _draft_state_query(
    dialect: str, visibility: Visibility, enterprise: Sequence[str]
) -> Select[Any]:
    """The assessment, its answers and KPIs (each as one JSON object) and the ``enterprise``
    columns of its enterprise, if the caller's visibility rule holds for it: one query, the
    assessment's id (``p_id``) and the rule's ids bound at execution."""
    columns = [_ASSESSMENT.c[name] for name in DraftState._fields]
    return (
        select(
            *columns,
            _stored(dialect, _ANSWER, "question_id"),
            _stored(dialect, _KPI, "kpi_id"),
            *(_ENTERPRISE.c[name] for name in enterprise),
        )
        .join_from(_ASSESSMENT, _ENTERPRISE, _ENTERPRISE.c.id == _ASSESSMENT.c.enterprise_id)
        .where(
            _ASSESSMENT.c.id == bindparam("p_id"),
            visibility.condition(_ASSESSMENT.c.enterprise_id),
        )
    )


def _upsert(dialect: str, table: Table, keys: tuple[str, str]) -> Executable:
    """INSERT … ON CONFLICT (the primary key) DO UPDATE SET value, updated_at: a row written
    whether or not it was there (both dialects spell it the same)."""
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return insert.on_conflict_do_update(
        index_elements=[table.c[key] for key in keys],
        set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
    )


_UPSERTS = {
    (dialect, table.name): _upsert(dialect, table, (table.c.assessment_id.name, key))
    for dialect in ("postgresql", "sqlite")
    for table, key in ((_ANSWER, "question_id"), (_KPI, "kpi_id"))
}


def _save_draft_statement(shape: tuple[tuple[str, bool], ...]) -> Executable:
    """PostgreSQL's write of a draft as one statement: the version claim (an UPDATE …
    RETURNING the id when the version is still the one read), and, as writing CTEs that take
    their rows FROM the claim (so that none writes when the claim fails), for each (table,
    set) of ``shape`` an upsert of the values bound as one JSON object (``p_<table>_set``) or
    a DELETE of the ids bound as one array (``p_<table>_cleared``), and the audit row
    (``a_<column>``). Its one row says whether the claim held (1) or not (0).

    One round trip instead of one per write: the answer PUT's path (docs/benchmarks.md)."""
    claim = _CLAIM.returning(_ASSESSMENT.c.id).cte("claim")
    writes: list[Any] = []
    for table_name, kept in shape:
        table, key = _VALUE_TABLES[table_name]
        if kept:
            pairs = func.jsonb_each(
                bindparam(f"p_{table_name}_set", type_=postgresql.JSONB)
            ).table_valued("key", "value")
            upsert = postgresql.insert(table).from_select(
                ["assessment_id", key, "value", "updated_at"],
                select(
                    claim.c.id,
                    pairs.c.key,
                    pairs.c.value,
                    bindparam("p_now", type_=table.c.updated_at.type),
                ).select_from(claim.join(pairs, literal_column("true"))),
            )
            writes.append(
                upsert.on_conflict_do_update(
                    index_elements=[table.c.assessment_id, table.c[key]],
                    set_={"value": upsert.excluded.value, "updated_at": upsert.excluded.updated_at},
                ).cte(f"{table_name}_set")
            )
        else:
            writes.append(
                delete(table)
                .where(
                    table.c.assessment_id.in_(select(claim.c.id)),
                    table.c[key] == any_(bindparam(f"p_{table_name}_cleared", type_=ARRAY(String))),
                )
                .cte(f"{table_name}_cleared")
            )
    columns = [column for column in _AUDIT_EVENT.c if column.name != "id"]
    writes.append(
        _AUDIT_INSERT.from_select(
            [column.name for column in columns],
            select(
                *(bindparam(f"a_{column.name}", type_=column.type) for column in columns)
            ).select_from(claim),
        ).cte("audit")
    )
    return select(func.count()).select_from(claim).add_cte(*writes)


#: ``save_draft``'s PostgreSQL statements by the shape of the write.
_SAVE_DRAFT: dict[tuple[tuple[str, bool], ...], Executable] = {}


#: ``visible_state``'s statements by the shape of the visibility rule.
_VISIBLE_STATE: dict[str, Executable] = {}
#: ``draft_state``'s queries by dialect, shape of the visibility rule and enterprise columns.
_DRAFT_STATE: dict[tuple[str, str, tuple[str, ...]], Select[Any]] = {}


class AssessmentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, assessment_id: uuid.UUID) -> Assessment | None:
        return self.session.get(Assessment, assessment_id)

    def exists(self, assessment_id: uuid.UUID) -> bool:
        """Whether the row is there, read from the database (not the session's objects)."""
        query = select(Assessment.id).where(Assessment.id == assessment_id)
        return self.session.scalar(query) is not None

    def get_where(
        self,
        assessment_id: uuid.UUID,
        visible: ColumnElement[bool],
        *,
        with_enterprise: bool = False,
    ) -> Assessment | None:
        """The assessment if ``visible`` holds for it (one query), with its enterprise loaded
        into the session when asked (``session.get`` of it then reads no more)."""
        query = select(Assessment).where(Assessment.id == assessment_id, visible)
        if with_enterprise:
            query = query.options(joinedload(Assessment.enterprise, innerjoin=True))
        return self.session.scalar(query)

    def visible_state(
        self, assessment_id: uuid.UUID, visibility: Visibility
    ) -> tuple[int, str] | None:
        """The assessment's version and status if the caller may see it, as plain columns (no
        ORM object: what a cached read needs). One statement per shape of the visibility rule,
        built once (``Visibility``'s docstring)."""
        statement = _VISIBLE_STATE.get(visibility.shape)
        if statement is None:
            table = Assessment.__table__.c
            statement = select(table.version, table.status).where(
                table.id == bindparam("assessment_id"), visibility.condition(table.enterprise_id)
            )
            _VISIBLE_STATE[visibility.shape] = statement
        row = self.session.execute(
            statement, {"assessment_id": assessment_id, **visibility.params}
        ).one_or_none()
        return (row.version, row.status) if row is not None else None

    def draft_state(
        self, assessment_id: uuid.UUID, visibility: Visibility, enterprise: tuple[str, ...]
    ) -> tuple[DraftState, dict[str, Any], dict[str, Any], tuple[Any, ...]] | None:
        """The assessment if the caller may see it: its columns, its answers and KPIs
        (id → value), its enterprise's ``enterprise`` columns. One query, built once per
        dialect and shape of the visibility rule (``Visibility``'s docstring)."""
        dialect = self.session.get_bind().dialect.name
        key = (dialect, visibility.shape, enterprise)
        query = _DRAFT_STATE.get(key)
        if query is None:
            query = _DRAFT_STATE[key] = _draft_state_query(dialect, visibility, enterprise)
        row = self.session.execute(
            query, {"p_id": assessment_id, **visibility.params}
        ).one_or_none()
        if row is None:
            return None
        cut = len(DraftState._fields)
        answers, kpis = row[cut] or {}, row[cut + 1] or {}
        return DraftState._make(row[:cut]), answers, kpis, tuple(row[cut + 2 :])

    def answer_as_stored(self, value: Any) -> Any:
        """An answer as this database keeps it, and so reads it back: SQLite's JSON columns
        have NUMERIC affinity, which stores a whole number sent as a float (``50.0``) as the
        integer ``50`` (when it fits 64 bits); PostgreSQL's jsonb keeps ``50.0``. Any other
        value as it is."""
        if (
            value.__class__ is float
            and value.is_integer()
            and -(2**63) <= value < 2**63
            and self.session.get_bind().dialect.name == "sqlite"
        ):
            return int(value)
        return value

    def forget_loaded(self, assessment_id: uuid.UUID) -> None:
        """After plain statements changed the assessment, its answers or KPIs: this session's
        ORM copies of them are expired (the assessment is read again on next use) or dropped
        (its answers and KPIs), so a caller holding them (a page, a script that writes answers
        then submits in one session) never acts on a stale version. The API's path loads none:
        nothing to do."""
        for loaded in list(self.session.identity_map.values()):
            if isinstance(loaded, Assessment) and loaded.id == assessment_id:
                self.session.expire(loaded)
            elif (
                isinstance(loaded, Answer | AssessmentKpi) and loaded.assessment_id == assessment_id
            ):
                self.session.expunge(loaded)

    def save_draft(
        self,
        draft: DraftState,
        now: datetime,
        values: Mapping[str, Mapping[str, Any]],
        audit_row: Mapping[str, Any],
    ) -> bool:
        """Claim the draft's next version (from ``draft.version``) and store ``values`` (table
        name, "answer" or "assessment_kpi" → id → value; None removes one) and the audit row,
        all or nothing. False: another writer changed the draft first, and nothing was written.

        PostgreSQL: one statement, built once per shape of the write (see
        :func:`_save_draft_statement`). SQLite, which has no writing CTEs: the claim, then an
        upsert of the values set and a DELETE of those cleared per table, then the audit row;
        the caller holds the write lock (``begin_write``)."""
        params: dict[str, Any] = {
            "p_id": draft.id,
            "p_version": draft.version,
            "p_next": draft.version + 1,
            "p_now": now,
        }
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            shape: list[tuple[str, bool]] = []
            for table, given in values.items():
                kept = {k: v for k, v in given.items() if v is not None}
                cleared = [k for k, v in given.items() if v is None]
                if kept:
                    shape.append((table, True))
                    params[f"p_{table}_set"] = kept
                if cleared:
                    shape.append((table, False))
                    params[f"p_{table}_cleared"] = cleared
            key = tuple(shape)
            statement = _SAVE_DRAFT.get(key)
            if statement is None:
                statement = _SAVE_DRAFT[key] = _save_draft_statement(key)
            params.update({f"a_{name}": value for name, value in audit_row.items()})
            return bool(self.session.execute(statement, params).scalar_one())
        claimed = self.session.execute(_CLAIM, params)
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        for table, given in values.items():
            self._write_values(dialect, table, draft.id, given, now)
        self.session.execute(_AUDIT_INSERT, dict(audit_row))
        return True

    def _write_values(
        self,
        dialect: str,
        table: str,
        assessment_id: uuid.UUID,
        values: Mapping[str, Any],
        now: datetime,
    ) -> None:
        """Store ``values`` (id → value; None removes one) as rows of ``table``: one upsert of
        those given, one DELETE of those cleared."""
        target, key = _VALUE_TABLES[table]
        cleared = [k for k, v in values.items() if v is None]
        rows = [
            {"assessment_id": assessment_id, key: k, "value": v, "updated_at": now}
            for k, v in values.items()
            if v is not None
        ]
        if cleared:
            self.session.execute(
                delete(target).where(
                    target.c.assessment_id == assessment_id, target.c[key].in_(cleared)
                )
            )
        if rows:
            self.session.execute(_UPSERTS[(dialect, table)], rows[0] if len(rows) == 1 else rows)

    def add(self, assessment: Assessment) -> Assessment:
        self.session.add(assessment)
        self.session.flush()
        return assessment

    def answer_values(self, assessment_id: uuid.UUID) -> dict[str, Any]:
        rows = self.session.execute(
            select(Answer.question_id, Answer.value).where(Answer.assessment_id == assessment_id)
        )
        return {question_id: value for question_id, value in rows}  # noqa: C416

    def delete_answers(self, assessment_id: uuid.UUID, question_ids: Sequence[str]) -> None:
        self.session.execute(
            delete(Answer).where(
                Answer.assessment_id == assessment_id, Answer.question_id.in_(question_ids)
            )
        )

    def kpis(self, assessment_id: uuid.UUID) -> dict[str, AssessmentKpi]:
        rows = self.session.scalars(
            select(AssessmentKpi).where(AssessmentKpi.assessment_id == assessment_id)
        )
        return {row.kpi_id: row for row in rows}

    def kpi_values(self, assessment_id: uuid.UUID) -> dict[str, Any]:
        return {kpi_id: row.value for kpi_id, row in self.kpis(assessment_id).items()}

    def submitted_kpis(self, enterprise_id: uuid.UUID) -> list[tuple[Assessment, AssessmentKpi]]:
        """Every KPI recorded on the firm's submitted assessments, with its assessment (one
        query)."""
        rows = self.session.execute(
            select(Assessment, AssessmentKpi)
            .join(AssessmentKpi, AssessmentKpi.assessment_id == Assessment.id)
            .where(Assessment.enterprise_id == enterprise_id, Assessment.status == "submitted")
        )
        return [(assessment, kpi) for assessment, kpi in rows]

    def add_answers(self, answers: Iterable[Answer]) -> None:
        self.session.add_all(answers)
        self.session.flush()

    def latest_submitted(
        self, enterprise_id: uuid.UUID, questionnaire_id: str
    ) -> Assessment | None:
        return self.session.scalar(
            select(Assessment)
            .where(
                Assessment.enterprise_id == enterprise_id,
                Assessment.questionnaire_id == questionnaire_id,
                Assessment.status == "submitted",
            )
            .order_by(Assessment.submitted_at.desc(), Assessment.id.desc())
            .limit(1)
        )

    def history_page(
        self,
        enterprise_id: uuid.UUID,
        *,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Assessment]:
        """Newest first, by (created_at, id)."""
        query = (
            select(Assessment)
            .where(Assessment.enterprise_id == enterprise_id)
            .order_by(Assessment.created_at.desc(), Assessment.id.desc())
            .limit(limit)
        )
        if after is not None:
            query = query.where(tuple_(Assessment.created_at, Assessment.id) < tuple_(*after))
        return list(self.session.scalars(query))
