"""Disclosure control: the one function every published aggregate goes through (``protect``).

API, HTML page, CSV export and PDF call :func:`protect` on the table of contributor counts and
publish only what it allows. Rules (ecosystem.md §2.3):

1. **Primary suppression.** A cell (or margin) built from 1 … k−1 verified firms shows no value
   (k = ``HEATMAP_MIN_CELL``). In a *distribution* table (firms per rung) a row whose firms all sit
   in one cell is also suppressed there, since it would reveal every member's rung.
2. **Complementary suppression.** Margins (row, column and grand totals) are published, so hidden
   cells must not be derivable from them. Treat the table with its margins as one extended
   (rows+1) × (columns+1) grid in which every row and column sums to a known value. The unknown
   (suppressed) cells form the edges of a bipartite graph between row and column nodes; a suppressed
   cell's value is determined by the published cells and margins exactly when its edge is a
   *bridge* of that graph (it lies on no cycle). So further cells are suppressed, cheapest first
   (interior before margins, smallest count first), until no suppressed cell is a bridge. This is
   stronger than "every row and column with a suppressed cell has two": it also covers chains.
3. **Bands.** Counts are never shown exactly, only as bands ("5–9", "10–19", …).

The property tests in tests/app/heatmaps/test_disclosure.py check rule 2 independently by linear
algebra on random tables.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

#: The margin's key, used as the row key of the column totals and the column key of row totals.
TOTAL = "__total__"

_BAND_FLOORS = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000)

Key = tuple[Hashable, Hashable]


def count_band(n: int, min_cell: int) -> str:
    """The band a published count is shown as, e.g. ``"10–19"``; ``"0"`` for none."""
    if n <= 0:
        return "0"
    if n < min_cell:
        raise ValueError("counts below the minimum cell size are never shown")
    floors = [min_cell, *(f for f in _BAND_FLOORS if f > min_cell)]
    for low, high in zip(floors, floors[1:], strict=False):
        if n < high:
            return f"{low}–{high - 1}"
    return f"≥{floors[-1]}"


@dataclass(frozen=True, slots=True)
class Protection:
    """Which cells of the extended table (margins keyed with ``TOTAL``) may be published."""

    min_cell: int
    counts: Mapping[Key, int]
    suppressed: frozenset[Key]
    #: Suppressed because of their own small count (or group disclosure), not as complements.
    primary: frozenset[Key] = field(default_factory=frozenset)

    def is_published(self, row: Hashable, col: Hashable) -> bool:
        return (row, col) not in self.suppressed

    def band(self, row: Hashable, col: Hashable) -> str | None:
        if (row, col) in self.suppressed:
            return None
        return count_band(self.counts.get((row, col), 0), self.min_cell)


def protect(
    rows: Sequence[Hashable],
    cols: Sequence[Hashable],
    counts: Mapping[Key, int],
    *,
    min_cell: int,
    distribution: bool = False,
) -> Protection:
    """Decide which cells of a table with margins may be published.

    ``counts`` maps (row, col) to the number of distinct verified firms in the cell, including the
    margins ``(row, TOTAL)``, ``(TOTAL, col)`` and ``(TOTAL, TOTAL)`` (for tables whose columns do
    not partition the firms, e.g. stages, a margin is the number of firms of the row, not the sum
    of its cells). Missing keys count as 0.
    """
    if min_cell < 2:
        raise ValueError("min_cell must be at least 2")
    ext_rows = [*rows, TOTAL]
    ext_cols = [*cols, TOTAL]
    full = {(r, c): max(0, int(counts.get((r, c), 0))) for r in ext_rows for c in ext_cols}

    primary: set[Key] = {key for key, n in full.items() if 0 < n < min_cell}
    if distribution:
        for r in ext_rows:
            row_total = full[(r, TOTAL)]
            if row_total > 0:
                primary.update((r, c) for c in cols if full[(r, c)] == row_total)
    suppressed = set(primary)

    while True:
        bridge = _first_bridge(suppressed)
        if bridge is None:
            break
        suppressed.add(_complement(bridge, suppressed, full, ext_rows, ext_cols))
    return Protection(
        min_cell=min_cell,
        counts=full,
        suppressed=frozenset(suppressed),
        primary=frozenset(primary),
    )


def _cost(key: Key, full: Mapping[Key, int]) -> tuple[int, int, int, str]:
    row, col = key
    margin = (row == TOTAL) + (col == TOTAL)
    n = full[key]
    # Interior before margins (margin choices then depend on margin counts only, the same in
    # every table sharing a margin), non-empty before empty, smallest first; ties by name.
    return (margin, n == 0, n, repr(key))


def _complement(
    bridge: Key,
    suppressed: set[Key],
    full: Mapping[Key, int],
    ext_rows: Sequence[Hashable],
    ext_cols: Sequence[Hashable],
) -> Key:
    row, col = bridge
    rest = suppressed - {bridge}
    row_side = _component(("r", row), rest)
    col_side = _component(("c", col), rest)
    # A cell joining a row node of one side to a column node of the other closes a cycle
    # through the bridge at once.
    side_a_rows = [r for kind, r in row_side if kind == "r"]
    side_a_cols = [c for kind, c in row_side if kind == "c"]
    side_b_rows = [r for kind, r in col_side if kind == "r"]
    side_b_cols = [c for kind, c in col_side if kind == "c"]
    closing = [(r, c) for r in side_a_rows for c in side_b_cols if (r, c) not in suppressed]
    closing += [(r, c) for r in side_b_rows for c in side_a_cols if (r, c) not in suppressed]
    if closing:
        return min(closing, key=lambda k: _cost(k, full))
    # Otherwise grow either side and let a later round close the cycle.
    nearby = [
        (r, c) for r in side_a_rows + side_b_rows for c in ext_cols if (r, c) not in suppressed
    ]
    nearby += [
        (r, c) for c in side_a_cols + side_b_cols for r in ext_rows if (r, c) not in suppressed
    ]
    if not nearby:  # cannot happen: a fully suppressed extended table has no bridge
        raise RuntimeError("no cell left to suppress")
    return min(nearby, key=lambda k: _cost(k, full))


def _adjacency(edges: set[Key]) -> dict[tuple[str, Hashable], list[tuple[str, Hashable]]]:
    graph: dict[tuple[str, Hashable], list[tuple[str, Hashable]]] = {}
    for row, col in edges:
        graph.setdefault(("r", row), []).append(("c", col))
        graph.setdefault(("c", col), []).append(("r", row))
    return graph


def _component(start: tuple[str, Hashable], edges: set[Key]) -> set[tuple[str, Hashable]]:
    graph = _adjacency(edges)
    seen = {start}
    stack = [start]
    while stack:
        for nxt in graph.get(stack.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _first_bridge(edges: set[Key]) -> Key | None:
    """A bridge of the bipartite graph whose edges are the suppressed cells, or None.

    Deterministic (sorted) so the same counts always give the same suppression pattern.
    """
    graph = _adjacency(edges)
    for node in graph:
        graph[node].sort(key=repr)
    order: dict[tuple[str, Hashable], int] = {}
    low: dict[tuple[str, Hashable], int] = {}
    bridges: list[Key] = []
    counter = 0
    for root in sorted(graph, key=repr):
        if root in order:
            continue
        # Iterative DFS (Tarjan): stack of (node, parent, iterator position).
        order[root] = low[root] = counter
        counter += 1
        stack: list[tuple[tuple[str, Hashable], tuple[str, Hashable] | None, int]] = [
            (root, None, 0)
        ]
        while stack:
            node, parent, index = stack[-1]
            neighbours = graph[node]
            if index < len(neighbours):
                stack[-1] = (node, parent, index + 1)
                nxt = neighbours[index]
                if nxt == parent:
                    continue  # no parallel edges in a table: each cell is one edge
                if nxt in order:
                    low[node] = min(low[node], order[nxt])
                else:
                    order[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append((nxt, node, 0))
            else:
                stack.pop()
                if parent is not None:
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent]:
                        a, b = (parent, node) if parent[0] == "r" else (node, parent)
                        bridges.append((a[1], b[1]))
    if not bridges:
        return None
    return min(bridges, key=repr)
