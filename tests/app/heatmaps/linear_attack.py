"""The best linear attack on published figures.

An attacker who knows which firms (or submissions) every published figure sums over writes one
equation per figure: ``y_o = Σ_u a_ou x_u + e_o``, with ``e_o`` the figure's noise (variance
``v_o``; figures sharing a cell key and purpose share their noise, so they are one equation).
Any estimate of a target ``Σ c_u x_u`` that is a linear combination of the figures and exact
whenever the noise is zero — every differencing attack, across any number of tables, margins and
publications, averaged in the best way — has variance at least that of the best linear unbiased
estimate (Gauss–Markov): ``cᵀ G⁺ c`` with ``G = Σ_o a_o a_oᵀ / v_o``, provided ``c`` lies in the
span of the equations; otherwise no such estimate exists at all (``None``).

Solved by Gauss–Jordan elimination with partial pivoting in floating point: ``G`` is a small
symmetric positive semi-definite matrix of small integers over the noise variance, and a target
outside the span leaves a residual many orders of magnitude above the rounding error.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

#: Relative size below which a pivot or a residual counts as zero.
TOLERANCE = 1e-9

Equation = Mapping[Hashable, float] | frozenset[Hashable]


def best_linear_variances(
    equations: Sequence[tuple[Equation, float]],
    targets: Sequence[Mapping[Hashable, float]],
) -> list[float | None]:
    """For each target, the variance of its best linear unbiased estimate (None: no linear
    combination of the equations gives it). ``equations``: (coefficients, or a set summed over;
    noise variance > 0), with independent noises."""
    distinct = list({_canonical(t): t for t in targets}.values())
    found = dict(zip(map(_canonical, distinct), _variances(equations, distinct), strict=True))
    return [found[_canonical(t)] for t in targets]


def _canonical(target: Mapping[Hashable, float]) -> frozenset[tuple[Hashable, float]]:
    return frozenset((u, float(c)) for u, c in target.items() if c)


def _variances(
    equations: Sequence[tuple[Equation, float]],
    targets: Sequence[Mapping[Hashable, float]],
) -> list[float | None]:
    rows = [(dict.fromkeys(e, 1.0) if isinstance(e, frozenset) else e, v) for e, v in equations]
    units = sorted({u for coefficients, _ in rows for u in coefficients}, key=repr)
    index = {u: i for i, u in enumerate(units)}
    size = len(units)
    gram = [[0.0] * size for _ in range(size)]
    for coefficients, variance in rows:
        if variance <= 0:
            raise ValueError("every equation carries noise")
        entries = [(index[u], float(c)) for u, c in coefficients.items() if c]
        for i, ci in entries:
            row = gram[i]
            for j, cj in entries:
                row[j] += ci * cj / variance
    right = [[0.0] * len(targets) for _ in range(size)]
    outside = [False] * len(targets)
    for t, target in enumerate(targets):
        for unit, coefficient in target.items():
            if not coefficient:
                continue
            if unit not in index:
                outside[t] = True  # no figure mentions it: nothing to estimate it from
            else:
                right[index[unit]][t] = float(coefficient)
    scale = max((gram[i][i] for i in range(size)), default=1.0) or 1.0
    pivots = _eliminate(gram, right, TOLERANCE * scale)
    results: list[float | None] = []
    for t, target in enumerate(targets):
        size_of_target = max((abs(c) for c in target.values()), default=1.0)
        residual = max((abs(right[r][t]) for r in range(size) if r not in pivots), default=0.0)
        if outside[t] or residual > TOLERANCE * 1e3 * size_of_target:
            results.append(None)
            continue
        solution = [0.0] * size
        for row, col in pivots.items():
            solution[col] = right[row][t]
        results.append(sum(c * solution[index[u]] for u, c in target.items() if c))
    return results


def _eliminate(matrix: list[list[float]], right: list[list[float]], tiny: float) -> dict[int, int]:
    """Gauss–Jordan in place on [matrix | right]; returns {pivot row: pivot column}."""
    size = len(matrix)
    pivots: dict[int, int] = {}
    row = 0
    for col in range(size):
        pivot = max(range(row, size), key=lambda r: abs(matrix[r][col]), default=None)
        if pivot is None or abs(matrix[pivot][col]) <= tiny:
            for below in range(row, size):
                matrix[below][col] = 0.0
            continue
        matrix[row], matrix[pivot] = matrix[pivot], matrix[row]
        right[row], right[pivot] = right[pivot], right[row]
        lead = matrix[row][col]
        matrix[row] = [v / lead for v in matrix[row]]
        right[row] = [v / lead for v in right[row]]
        lead_row, lead_right = matrix[row], right[row]
        for other in range(size):
            factor = matrix[other][col]
            if other != row and factor:
                matrix[other] = [
                    a - factor * b for a, b in zip(matrix[other], lead_row, strict=True)
                ]
                right[other] = [
                    a - factor * b for a, b in zip(right[other], lead_right, strict=True)
                ]
        pivots[row] = col
        row += 1
    return pivots
