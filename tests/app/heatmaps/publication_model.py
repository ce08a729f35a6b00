"""Published heatmap tables as pure functions of a population (the model the property tests
attack; the real publication job builds the same tables from the stored aggregates).

Every predefined cut of ``app.heatmaps.cuts.CUTS`` is built with the semantics of
``app.heatmaps.tables.build`` (rows, columns, which margins are sums and which are the row's own
firms), for the city and for each district as scope, and for every quarter: closed quarters from
the population as it was when they closed (a closed quarter is published once and never
recomputed), the current quarter from the population now — its trend table's columns for past
quarters too, since ``tables.build`` sums today's aggregates for them: a firm verified or moved
since shows there in its new cells, sets the closed quarter's tables never showed. Each table
goes through ``perturbation.publish_table``. Besides the published cells, the model keeps the
true member set of every published figure, which is what an attacker who knows every firm's
profile can write equations with.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from functools import cache

from app.heatmaps.cuts import CUTS, RUNG_KEYS, SIZE_CLASSES, Cut
from app.heatmaps.disclosure import TOTAL, Key
from app.heatmaps.perturbation import (
    COUNT,
    KEY_RANGE,
    OVERALL,
    RUNG,
    Member,
    Parameters,
    PublishedTable,
    Tally,
    exact_rung_tallies,
    numerator_purpose,
    publish_table,
    stage_measure,
    submission_members,
)
from app.heatmaps.sums import RUNG_THRESHOLDS
from scoring.engine import rung_of
from scoring.ladder import round_score

STAGES = ("digitization", "automation", "data_collection", "cloud_adoption")
DISTRICTS = ("d1", "d2", "d3")
INDUSTRIES = ("i1", "i2", "i3")
QUARTERS = (20261, 20262, 20263)
CURRENT = QUARTERS[-1]


@dataclass(frozen=True, slots=True)
class Submission:
    """A submitted assessment: stage scores in hundredths, and the overall (rounded to 2 dp, as
    stored) and rung the engine computes from them (equal stage weights)."""

    id: str
    quarter: int
    stages: tuple[tuple[str, int], ...]
    overall_c: int
    rung_c: int


def submission(id: str, quarter: int, stages: Mapping[str, int]) -> Submission:
    exact = {stage: Fraction(value, 100) for stage, value in stages.items()}
    overall = sum(exact.values(), Fraction(0)) / len(exact)
    rounded = round_score(Decimal(overall.numerator) / Decimal(overall.denominator))
    return Submission(
        id, quarter, tuple(stages.items()), int(rounded * 100), int(rung_of(overall, exact) * 100)
    )


@dataclass(frozen=True, slots=True)
class Firm:
    id: str
    secret: bytes
    district: str
    industry: str
    size: str
    verified: bool
    submissions: tuple[Submission, ...]

    def state(self, quarter: int) -> Submission | None:
        """The latest submission up to the end of ``quarter``."""
        done = [s for s in self.submissions if s.quarter <= quarter]
        return max(done, key=lambda s: s.quarter) if done else None

    def members(self, quarter: int) -> Mapping[str, tuple[str, Member]] | None:
        """(unit id, member) per measure, for a verified firm with a submission by then."""
        return _members(self, quarter)


@cache
def _members(firm: Firm, quarter: int) -> Mapping[str, tuple[str, Member]] | None:
    state = firm.state(quarter)
    if state is None or not firm.verified:
        return None
    found = submission_members(firm.secret, state.id, state.overall_c, state.rung_c, state.stages)
    return {measure: (state.id, member) for measure, member in found.items()}


Population = tuple[Firm, ...]


@dataclass(slots=True)
class Cell:
    """A cell's tally with the true sets behind it: firms (for counts) and submission units
    (for scores)."""

    tally: Tally
    firms: set[str] = field(default_factory=set)
    units: set[str] = field(default_factory=set)
    #: Firms at or above each rung threshold (the numerators of shares).
    at_least: list[set[str]] = field(default_factory=lambda: [set() for _ in RUNG_THRESHOLDS])
    #: A distribution cell: the rung's index (0 = 2.75) and the submissions of its row.
    rung: int | None = None
    parent: frozenset[str] = frozenset()

    def add(self, firm: str, unit: str, member: Member) -> None:
        self.tally.add(member)
        self.firms.add(firm)
        if member.value_c is not None:
            self.units.add(unit)
        for index, threshold in enumerate(RUNG_THRESHOLDS):
            if member.level_c >= threshold:
                self.at_least[index].add(firm)

    def merge(self, other: Cell) -> None:
        self.tally.merge(other.tally)
        self.firms |= other.firms
        self.units |= other.units
        for mine, theirs in zip(self.at_least, other.at_least, strict=True):
            mine |= theirs


def _cell(measure: str, firms: Iterable[Firm], quarter: int) -> Cell:
    cell = Cell(Tally(measure))
    for firm in firms:
        members = firm.members(quarter)
        if members is not None and measure in members:
            unit, member = members[measure]
            cell.add(firm.id, unit, member)
    return cell


def _sum(measure: str, cells: Iterable[Cell]) -> Cell:
    total = Cell(Tally(measure))
    for cell in cells:
        total.merge(cell)
    return total


@dataclass(frozen=True, slots=True)
class View:
    """One published table: which cut, scope and quarter, the table, and the true sets."""

    cut: str
    scope: str | None
    quarter: int
    table: PublishedTable
    cells: Mapping[Key, Cell]


def _dimension(firm: Firm, dimension: str) -> str:
    return {"district": firm.district, "industry": firm.industry, "size": firm.size}[dimension]


def _rows(cut: Cut, firms: Sequence[Firm], scope: str | None, quarter: int) -> list[str]:
    if cut.rows == "district":
        return [scope] if scope is not None else list(DISTRICTS)
    if cut.rows == "size":
        return list(SIZE_CLASSES)
    return sorted({f.industry for f in firms if f.members(quarter) is not None})


def build_view(
    cut: Cut, now: Population, closed: Population, scope: str | None, quarter: int, p: Parameters
) -> View:
    """One cut, for one scope and quarter, as ``tables.build`` lays it out."""
    # A table is built when it is published: the current quarter's from the firms now, every
    # column of its trend included; a closed quarter's from the firms when it closed.
    source = now if quarter >= CURRENT else closed
    firms = [f for f in source if scope is None or f.district == scope]
    rows = _rows(cut, firms, scope, quarter)
    cells: dict[Key, Cell] = {}

    def by_row(row: str, measure: str, q: int = quarter) -> Cell:
        return _cell(measure, [f for f in firms if _dimension(f, cut.rows) == row], q)

    if cut.cols == "stage":
        cols: list[str] = list(STAGES)
        for row in rows:
            cells[(row, TOTAL)] = by_row(row, OVERALL)
            for stage in STAGES:
                cells[(row, stage)] = by_row(row, stage_measure(stage))
        for stage in STAGES:
            cells[(TOTAL, stage)] = _sum(stage_measure(stage), (cells[(r, stage)] for r in rows))
        cells[(TOTAL, TOTAL)] = _sum(OVERALL, (cells[(r, TOTAL)] for r in rows))
        distribution = False
    elif cut.cols == "industry":
        cols = sorted({f.industry for f in firms if f.members(quarter) is not None})
        for row in rows:
            for industry in cols:
                cells[(row, industry)] = _cell(
                    OVERALL,
                    [f for f in firms if f.district == row and f.industry == industry],
                    quarter,
                )
        _sum_margins(cells, rows, cols)
        distribution = False
    elif cut.cols == "rung":
        cols = list(RUNG_KEYS)
        for row in rows:
            overall = by_row(row, OVERALL)
            cells[(row, TOTAL)] = overall
            for index, tally in enumerate(exact_rung_tallies(overall.tally)):
                cells[(row, cols[index])] = _rung_cell(tally, index, overall)
        grand = _sum(OVERALL, (cells[(r, TOTAL)] for r in rows))
        cells[(TOTAL, TOTAL)] = grand
        for index, col in enumerate(cols):
            total = Tally(f"rung:{index}", count_purpose=RUNG)
            for r in rows:
                total.merge(cells[(r, col)].tally)
            cells[(TOTAL, col)] = _rung_cell(total, index, grand)
        distribution = True
    else:  # quarterly trend: each column is the row's state as of that quarter
        shown = [q for q in QUARTERS if q <= quarter]
        cols = [str(q) for q in shown]
        for row in rows:
            for q in shown:
                cells[(row, str(q))] = by_row(row, OVERALL, q)
            cells[(row, TOTAL)] = cells[(row, str(quarter))]
        for q in shown:
            cells[(TOTAL, str(q))] = _sum(OVERALL, (cells[(r, str(q))] for r in rows))
        cells[(TOTAL, TOTAL)] = _sum(OVERALL, (cells[(r, TOTAL)] for r in rows))
        distribution = False
    table = publish_table(
        rows, cols, {key: cell.tally for key, cell in cells.items()}, p, distribution=distribution
    )
    return View(cut.id, scope, quarter, table, cells)


def _rung_cell(tally: Tally, index: int, row: Cell) -> Cell:
    """A distribution cell: the firms of ``row`` at the rung of ``index`` (0 = 2.75)."""
    firms = set(row.firms)
    if index < len(RUNG_THRESHOLDS):
        firms -= row.at_least[index]
    if index > 0:
        firms &= row.at_least[index - 1]
    return Cell(tally, firms=firms, rung=index, parent=frozenset(row.units))


def _sum_margins(cells: dict[Key, Cell], rows: Sequence[str], cols: Sequence[str]) -> None:
    measure = next(iter(cells.values())).tally.measure if cells else OVERALL
    for row in rows:
        cells[(row, TOTAL)] = _sum(measure, (cells[(row, c)] for c in cols))
    for col in cols:
        cells[(TOTAL, col)] = _sum(measure, (cells[(r, col)] for r in rows))
    cells[(TOTAL, TOTAL)] = _sum(measure, (cells[(r, TOTAL)] for r in rows))


def publication(now: Population, closed: Population, p: Parameters) -> list[View]:
    """Every table any official could be shown: every cut, city-wide and for each district,
    for every quarter (closed quarters from ``closed``)."""
    return [
        build_view(cut, now, closed, scope, quarter, p)
        for cut in CUTS.values()
        for scope in (None, *DISTRICTS)
        for quarter in QUARTERS
    ]


# --- what an attacker can write equations with ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Observation:
    """A published figure as a noisy linear function of unknowns the attacker can name.

    ``kind``: ``score`` (a mean: the sum of its submissions' scores), ``count`` (a cell's
    firms), ``share`` (a share's numerator: its cell's firms at or above a threshold; unknowns
    are (submission, measure, threshold index) indicators) or ``rung`` (a distribution cell:
    its row's firms at one rung, a difference of those indicators). Figures of equal
    ``identity`` carry the same noise. ``n``: the true count behind a count figure."""

    kind: str
    coefficients: Mapping[Hashable, int]
    identity: Hashable
    #: The firms (submissions, for scores) the figure counts or sums: figures of equal
    #: identity must have equal sets.
    members: frozenset[str]
    n: int = 0


def observations(views: Iterable[View]) -> Iterator[Observation]:
    for view in views:
        for key, cell in view.cells.items():
            published = view.table.cells[key]
            if published.state != "published":
                continue
            tally = cell.tally
            if cell.rung is not None:
                yield Observation(
                    "rung",
                    rung_coefficients(cell.parent, cell.rung, OVERALL),
                    (RUNG, _k(tally.count_key)),
                    frozenset(cell.firms),
                    tally.n,
                )
                continue
            firms = frozenset(cell.firms)
            yield Observation(
                "count", dict.fromkeys(firms, 1), (COUNT, _k(tally.count_key)), firms, tally.n
            )
            if published.mean is not None:
                units = frozenset(cell.units)
                yield Observation(
                    "score", dict.fromkeys(units, 1), (tally.measure, _k(tally.value_key)), units
                )
            for index, above in enumerate(cell.at_least):
                if published.shares:
                    yield Observation(
                        "share",
                        {(u, tally.measure, index): 1 for u in cell.units},
                        (
                            numerator_purpose(tally.measure, RUNG_THRESHOLDS[index]),
                            _k(tally.count_key + tally.at_least_key[index]),
                        ),
                        frozenset(above),
                        len(above),
                    )


def _k(key: int) -> int:
    return key % KEY_RANGE


def rung_coefficients(units: Iterable[str], index: int, measure: str) -> dict[Hashable, int]:
    """The number of ``units`` at rung ``index`` in terms of the indicators (unit, measure, j)
    "at or above threshold j": [at rung i] = [≥ threshold i−1] − [≥ threshold i] (plus 1 for
    rung 2.75, a constant that no variance depends on)."""
    coefficients: dict[Hashable, int] = {}
    for unit in units:
        if index >= 1:
            coefficients[(unit, measure, index - 1)] = 1
        if index < len(RUNG_THRESHOLDS):
            coefficients[(unit, measure, index)] = -1
    return coefficients


def primary_cells(views: Iterable[View]) -> Iterator[tuple[View, Key, Cell]]:
    """Cells hidden for their own small count: the sensitive ones (with their firms)."""
    for view in views:
        for key in view.table.protection.primary:
            cell = view.cells.get(key)
            if cell is not None and cell.tally.n > 0:
                yield view, key, cell


def with_firm(population: Population, firm_id: str, **changes: object) -> Population:
    return tuple(replace(f, **changes) if f.id == firm_id else f for f in population)  # type: ignore[arg-type]
