"""Disclosure control (``app.heatmaps.disclosure.protect``), tested directly.

The property tests check complementary suppression independently of how ``protect`` decides it:
by exact linear algebra on the published table. A suppressed cell is recoverable when its value
is fixed by the equations "each row and each column of cells sums to its margin" given every
published cell and margin, i.e. when its unit vector lies in the row space of those equations
restricted to the unknown cells.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.heatmaps.disclosure import TOTAL, count_band, protect
from tests.app.heatmaps.helpers import recoverable

K = 5


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[str], dict[tuple[str, str], int]]:
    n_rows = draw(st.integers(1, 6))
    n_cols = draw(st.integers(1, 6))
    rows = [f"r{i}" for i in range(n_rows)]
    cols = [f"c{j}" for j in range(n_cols)]
    small = st.integers(0, 4)
    any_count = st.integers(0, 40)
    counts = {(r, c): draw(st.one_of(small, any_count)) for r in rows for c in cols}
    return rows, cols, counts


def with_margins(rows, cols, counts):
    full = dict(counts)
    for r in rows:
        full[(r, TOTAL)] = sum(counts[(r, c)] for c in cols)
    for c in cols:
        full[(TOTAL, c)] = sum(counts[(r, c)] for r in rows)
    full[(TOTAL, TOTAL)] = sum(counts.values())
    return full


@settings(max_examples=300, deadline=None)
@given(tables())
def test_no_suppressed_cell_is_recoverable_from_published_cells_and_margins(table) -> None:
    rows, cols, counts = table
    full = with_margins(rows, cols, counts)
    protection = protect(rows, cols, full, min_cell=K)
    assert recoverable(rows, cols, protection.suppressed) == set()


@settings(max_examples=300, deadline=None)
@given(tables())
def test_no_published_cell_or_margin_has_fewer_than_k_firms(table) -> None:
    rows, cols, counts = table
    full = with_margins(rows, cols, counts)
    protection = protect(rows, cols, full, min_cell=K)
    for key, n in full.items():
        if protection.is_published(*key):
            assert n == 0 or n >= K, (key, n)


@settings(max_examples=200, deadline=None)
@given(tables(), st.data())
def test_margins_that_are_not_sums_are_protected_too(table, data) -> None:
    """Stage cuts: a margin is the number of firms of the row, not the sum of its cells."""
    rows, cols, counts = table
    full = dict(counts)
    for r in rows:
        full[(r, TOTAL)] = data.draw(st.integers(0, 40))
    for c in cols:
        full[(TOTAL, c)] = sum(counts[(r, c)] for r in rows)
    full[(TOTAL, TOTAL)] = sum(full[(r, TOTAL)] for r in rows)
    protection = protect(rows, cols, full, min_cell=K)
    assert recoverable(rows, cols, protection.suppressed) == set()


@settings(max_examples=200, deadline=None)
@given(tables())
def test_distribution_rows_with_every_firm_in_one_cell_are_hidden(table) -> None:
    rows, cols, counts = table
    full = with_margins(rows, cols, counts)
    protection = protect(rows, cols, full, min_cell=K, distribution=True)
    for r in rows:
        total = full[(r, TOTAL)]
        for c in cols:
            if total and full[(r, c)] == total:
                assert not protection.is_published(r, c)
    assert recoverable(rows, cols, protection.suppressed) == set()


def test_same_counts_give_the_same_pattern() -> None:
    rows, cols = ["a", "b", "c"], ["x", "y", "z"]
    counts = with_margins(
        rows,
        cols,
        {
            ("a", "x"): 2,
            ("a", "y"): 9,
            ("a", "z"): 30,
            ("b", "x"): 12,
            ("b", "y"): 6,
            ("b", "z"): 7,
            ("c", "x"): 8,
            ("c", "y"): 0,
            ("c", "z"): 11,
        },
    )
    first = protect(rows, cols, counts, min_cell=K)
    assert first == protect(rows, cols, dict(reversed(list(counts.items()))), min_cell=K)
    assert ("a", "x") in first.suppressed
    assert recoverable(rows, cols, first.suppressed) == set()


def test_a_chain_that_passes_the_two_per_line_rule_is_still_caught() -> None:
    """Two suppressed 2×2 blocks joined by one cell: every row and column with a suppressed
    cell has two, yet the joining cell is recoverable. ``recoverable`` finds it, and ``protect``
    does not produce such a pattern."""
    rows, cols = ["r0", "r1", "r2", "r3"], ["c0", "c1", "c2", "c3"]
    chain = frozenset(
        {
            ("r0", "c0"),
            ("r0", "c1"),
            ("r1", "c0"),
            ("r1", "c1"),
            ("r2", "c2"),
            ("r2", "c3"),
            ("r3", "c2"),
            ("r3", "c3"),
            ("r0", "c2"),
        }
    )
    assert recoverable(rows, cols, chain) == {("r0", "c2")}


def test_count_bands() -> None:
    assert count_band(0, 5) == "0"
    assert count_band(5, 5) == "5–9"
    assert count_band(19, 5) == "10–19"
    assert count_band(120, 5) == "100–199"
    assert count_band(10, 10) == "10–19"
    assert count_band(2_000_000, 5) == "≥100000"
    with pytest.raises(ValueError):
        count_band(3, 5)
