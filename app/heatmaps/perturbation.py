"""Consistent cell-key perturbation of published heatmap tables (pure: standard library, no I/O).

The cell-key method of national statistics offices (ABS TableBuilder, ONS, Destatis; see
reference/disclosure.md), fitted to zhizao's tables of verified firms:

1. **Record keys.** Every firm has a secret of :data:`SECRET_BYTES` random bytes
   (:func:`new_record_secret`), generated once, stored with the firm and never exported. Two
   keys in ``[0, KEY_RANGE)`` are derived from it with keyed BLAKE2b:

   * the **count key** (:func:`count_key`), fixed for the firm's life: whether the firm is in a
     set does not change when it re-submits, so neither may the noise of the set's count;
   * the **submission key** (:func:`submission_key`), one per submitted assessment: a cell's
     score sum gets fresh noise whenever a member's score changes, so that two publications
     between which one firm re-submitted do not difference to that firm's exact change.

2. **Cell keys.** A cell's count key is the sum of its members' count keys modulo
   ``KEY_RANGE``; its sum key the sum of its scored members' submission keys. The same set of
   firms has the same keys whatever table, scope or publication shows it, and a firm entering
   or leaving a cell changes the keys in O(1) (add or subtract its key, like the other sums:
   :class:`Tally` is additive, so the stored aggregates can carry the key sums as further
   columns beside the sums they belong to). Sets defined by a rung (the firms of a cell at or
   above a rung: a share's numerator; or at a rung: a distribution cell) are keyed by their
   own members' keys *plus* their cell's, and a numerator's noise is drawn for its measure and
   rung: the same figure always gets the same noise, but never the noise of another set or
   another rung, since equal noise would tell an attacker that two such sets are equal, i.e.
   that every firm of the one cell outside the other is below the rung, or that no firm lies
   between two rungs.

3. **Noise from keys.** A cell key is turned into uniform numbers by hashing it together with
   the *purpose* of the figure (``count``, ``share``, ``rung``, ``overall``, ``stage:<id>``)
   (:func:`key_uniforms`): the same set gets independent noise for its count and for each of
   its score sums, and the noise of a margin bears no algebraic relation to the noise of its
   inner cells.

4. **Counts** are perturbed by a perturbation table (:class:`CountTable`, built by maximum
   entropy like the ``ptable`` package): noise at most ``D`` in absolute value, zero mean,
   variance ``V``, and never a negative count or a count below ``k`` from a true count of at
   least ``k`` (suppression applies below ``k``, so a published count is never below ``k``).

5. **Score sums** get bounded, zero-mean noise of a fixed size in score points
   (:func:`sum_noise`): what is protected is one firm's contribution (at most 1.25 points above
   the ladder's floor), and differencing isolates it absolutely, whatever the cell's size. The
   published mean is the noised sum over the true number of scored firms (:func:`mean_of`).

6. **Composition with suppression** (:func:`publish_table`): cells and margins of 1 … k−1 firms
   and their complements are hidden by :func:`app.heatmaps.disclosure.protect`, decided on the
   true counts exactly as before; only the cells it publishes are perturbed. Margins are
   perturbed from their own keys, never as sums of perturbed inner cells, so a total minus the
   visible cells leaves noise from every term.

7. **Shares** derive from perturbed counts and are rounded to a step chosen per count band
   (:func:`share_step`) so that no (band, share) pair is shown by only one count; a cell's
   shares at or above rising rungs are then put in nonincreasing order (:func:`nonincreasing`,
   from the published figures alone).

docs/heatmaps.md states the threat model, the parameters and the measured utility cost.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from bisect import bisect_right
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from app.heatmaps.disclosure import TOTAL, Key, Protection, count_band, protect
from app.heatmaps.sums import RUNG_THRESHOLDS
from scoring import MAX_LEVEL, MIN_LEVEL, round_score

#: Bits of a record or cell key; keys are integers in ``[0, KEY_RANGE)``. Sums of up to 2**31
#: keys fit a signed 64-bit column, so the stored aggregates can keep them unreduced.
KEY_BITS = 32
KEY_RANGE = 1 << KEY_BITS
#: Length of a firm's secret, from which its keys are derived.
SECRET_BYTES = 32
#: Purposes of counts: a cell's or margin's firms (the same set shows the same count wherever it
#: appears); the firms of a cell at or above a rung (a share's numerator); the firms of a cell
#: at one rung (a distribution cell).
COUNT = "count"
SHARE = "share"
RUNG = "rung"
#: Measures of score sums: the overall score, or one stage's score.
OVERALL = "overall"


def stage_measure(stage_id: str) -> str:
    return f"stage:{stage_id}"


def numerator_purpose(measure: str, threshold: int) -> str:
    """The purpose of a share's numerator: each (measure, threshold) gets its own noise, so two
    shares of one cell never carry the same noise (equal noise at two rungs would tell that no
    firm lies between them)."""
    return f"{SHARE}:{measure}:{threshold}"


# --- record keys -----------------------------------------------------------------------------


def new_record_secret() -> bytes:
    """A firm's secret: drawn once from the operating system's CSPRNG, stored, never shown."""
    return secrets.token_bytes(SECRET_BYTES)


def _derive(secret: bytes, label: str) -> int:
    if len(secret) != SECRET_BYTES:
        raise ValueError(f"a record secret has {SECRET_BYTES} bytes")
    digest = hashlib.blake2b(label.encode(), key=secret, digest_size=8, person=b"zhizao-record")
    return int.from_bytes(digest.digest(), "big") % KEY_RANGE


def count_key(secret: bytes) -> int:
    """The firm's count key: fixed for its life, summed into every set it belongs to."""
    return _derive(secret, "count")


def submission_key(secret: bytes, submission_id: str) -> int:
    """The key of one of the firm's submissions (``submission_id``: the assessment id), summed
    into the score-sum keys of the cells it counts in."""
    return _derive(secret, f"submission:{submission_id}")


def key_uniforms(cell_key: int, purpose: str, count: int) -> tuple[float, ...]:
    """``count`` (1–4) numbers in (0, 1), fixed by the cell key and purpose and independent
    across purposes and keys (BLAKE2b of both; 32 bits each)."""
    if not 1 <= count <= 4:
        raise ValueError("one to four uniforms per key")
    digest = hashlib.blake2b(
        f"{purpose}:{cell_key % KEY_RANGE}".encode(), digest_size=16, person=b"zhizao-cellkey"
    ).digest()
    return tuple(
        (int.from_bytes(digest[4 * i : 4 * i + 4], "big") + 0.5) / 2**32 for i in range(count)
    )


# --- additive cell sums with their keys --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    """What one firm adds to the cells of one measure.

    ``value_c``: its score on the measure in hundredths (None: not scored on it). ``level_c``:
    what the rung thresholds are compared with, in hundredths (the rung for the overall
    measure, the stage score for a stage)."""

    count_key: int
    submission_key: int
    value_c: int | None
    level_c: int


def submission_members(
    secret: bytes,
    submission_id: str,
    overall_c: int | None,
    rung_c: int,
    stages: Iterable[tuple[str, int]],
) -> dict[str, Member]:
    """What one firm's submission adds to the cells of each measure: to the overall's with its
    overall score, compared with the rung thresholds by its rung; to each stage's with the stage
    score, compared by that score (as ``sums.Contribution`` counts them)."""
    keys = (count_key(secret), submission_key(secret, submission_id))
    found = {OVERALL: Member(*keys, overall_c, rung_c)}
    for stage_id, value in stages:
        found[stage_measure(stage_id)] = Member(*keys, value, value)
    return found


@dataclass(slots=True)
class Tally:
    """The additive sums of one cell of one measure, with the key sums of every published set.

    Keys are kept as plain (unreduced) sums so that adding and removing members is exact
    integer arithmetic in any order, as in a SQL ``SUM`` or an upsert of ``+ excluded``."""

    measure: str
    n: int = 0
    count_key: int = 0
    #: How ``count_key`` is hashed: :data:`COUNT` for a set of firms defined by profile,
    #: :data:`RUNG` for a distribution cell (whose key includes its row's key).
    count_purpose: str = COUNT
    valued: int = 0
    value_sum: int = 0
    value_key: int = 0
    at_least: list[int] = field(default_factory=lambda: [0] * len(RUNG_THRESHOLDS))
    at_least_key: list[int] = field(default_factory=lambda: [0] * len(RUNG_THRESHOLDS))

    def add(self, member: Member, sign: int = 1) -> None:
        """Add (``sign`` +1) or remove (−1) one member: O(1), like the cell sums themselves."""
        self.n += sign
        self.count_key += sign * member.count_key
        if member.value_c is not None:
            self.valued += sign
            self.value_sum += sign * member.value_c
            self.value_key += sign * member.submission_key
        for index, threshold in enumerate(RUNG_THRESHOLDS):
            if member.level_c >= threshold:
                self.at_least[index] += sign
                self.at_least_key[index] += sign * member.count_key

    def merge(self, other: Tally) -> None:
        if (other.measure, other.count_purpose) != (self.measure, self.count_purpose):
            raise ValueError("cannot add sums of different measures")
        self.n += other.n
        self.count_key += other.count_key
        self.valued += other.valued
        self.value_sum += other.value_sum
        self.value_key += other.value_key
        self.at_least = [a + b for a, b in zip(self.at_least, other.at_least, strict=True)]
        self.at_least_key = [
            a + b for a, b in zip(self.at_least_key, other.at_least_key, strict=True)
        ]

    @classmethod
    def of(cls, measure: str, members: Iterable[Member]) -> Tally:
        tally = cls(measure)
        for member in members:
            tally.add(member)
        return tally


def exact_rung_tallies(tally: Tally) -> list[Tally]:
    """Counts of firms *at* each rung (2.75, 3.00, … 4.00) from a cell's overall tally, keyed
    for :data:`RUNG`: the set at rung r is the set at or above r minus the set at or above the
    next rung, so its key sum is the difference of theirs, plus the cell's own key. Additive:
    the rows' tallies of one rung sum to the column margin's."""
    counts = [tally.n, *tally.at_least, 0]
    keys = [tally.count_key, *tally.at_least_key, 0]
    return [
        Tally(
            f"rung:{index}",
            n=counts[index] - counts[index + 1],
            count_key=tally.count_key + keys[index] - keys[index + 1],
            count_purpose=RUNG,
        )
        for index in range(len(RUNG_THRESHOLDS) + 1)
    ]


# --- count perturbation table ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoiseRow:
    """The noise distribution for one true count: values and their probabilities."""

    values: tuple[int, ...]
    probabilities: tuple[float, ...]
    #: Cumulative probabilities: a uniform ``u`` picks ``values[bisect_right(cumulative, u)]``.
    cumulative: tuple[float, ...]

    @property
    def mean(self) -> float:
        return sum(v * p for v, p in zip(self.values, self.probabilities, strict=True))

    @property
    def variance(self) -> float:
        mean = self.mean
        return sum(
            (v - mean) ** 2 * p for v, p in zip(self.values, self.probabilities, strict=True)
        )

    def noise(self, uniform: float) -> int:
        return self.values[min(bisect_right(self.cumulative, uniform), len(self.values) - 1)]


@dataclass(frozen=True, slots=True)
class CountTable:
    """A perturbation table for counts.

    Rule: the noise added to a true count ``n`` is an integer in ``[−max_noise, max_noise]``
    with mean 0 and variance ``variance`` (less where the bounds below leave no room: a count
    of exactly ``min_cell`` is never perturbed, since it can neither go down nor, with zero
    mean, up), such that the perturbed count is never negative and, when ``n ≥ min_cell``,
    never below ``min_cell``. Among the distributions meeting these constraints the table takes
    the one of maximum entropy (the ``ptable`` construction). Deterministic: the same
    parameters always give the same table.
    """

    min_cell: int
    max_noise: int
    variance: float
    rows: tuple[NoiseRow, ...]
    general: NoiseRow

    def row(self, n: int) -> NoiseRow:
        if n < 0:
            raise ValueError("counts are not negative")
        return self.rows[n] if n < len(self.rows) else self.general

    def perturb(self, n: int, cell_key: int, purpose: str = COUNT) -> int:
        """The published count of a set of ``n`` firms whose key is ``cell_key``."""
        if n == 0:
            return 0
        (uniform,) = key_uniforms(cell_key, f"{purpose}|{self.label}", 1)
        return n + self.row(n).noise(uniform)

    @property
    def label(self) -> str:
        """Part of every count's purpose: a table with other parameters draws independent noise
        rather than a rescaled copy of this one's (see :func:`sum_noise`)."""
        return f"k{self.min_cell}D{self.max_noise}V{self.variance!r}"


def _lowest(n: int, min_cell: int) -> int:
    """The smallest count ``n`` may be published as."""
    return min_cell if n >= min_cell else 0


def _noise_row(n: int, min_cell: int, max_noise: int, variance: float) -> NoiseRow:
    support = [v for v in range(-max_noise, max_noise + 1) if n + v >= _lowest(n, min_cell)]
    low, high = support[0], support[-1]
    if low >= 0 or high <= 0 or variance <= 0:
        return NoiseRow((0,), (1.0,), (1.0,))
    # The largest variance a zero-mean distribution on [low, high] can have is −low·high (all
    # mass at the two ends); keep clear of that degenerate edge.
    target = min(variance, 0.9 * (-low * high))
    probabilities = _max_entropy(support, target)
    cumulative: list[float] = []
    running = 0.0
    for p in probabilities[:-1]:
        running += p
        cumulative.append(running)
    cumulative.append(1.0)
    return NoiseRow(tuple(support), tuple(probabilities), tuple(cumulative))


def _max_entropy(support: Sequence[int], variance: float) -> list[float]:
    """The maximum-entropy distribution on ``support`` with mean 0 and the given variance.

    It has the form p(v) ∝ exp(a·v + b·v²); (a, b) minimise the convex dual
    log Σ exp(a·v + b·v²) − b·variance, found by Newton's method with backtracking."""

    def dual(a: float, b: float) -> tuple[float, list[float]]:
        exponents = [a * v + b * v * v for v in support]
        top = max(exponents)
        weights = [math.exp(e - top) for e in exponents]
        total = sum(weights)
        return top + math.log(total) - b * variance, [w / total for w in weights]

    a = b = 0.0
    value, p = dual(a, b)
    for _ in range(200):
        m1 = sum(q * v for q, v in zip(p, support, strict=True))
        m2 = sum(q * v * v for q, v in zip(p, support, strict=True))
        m3 = sum(q * v**3 for q, v in zip(p, support, strict=True))
        m4 = sum(q * v**4 for q, v in zip(p, support, strict=True))
        g1, g2 = m1, m2 - variance
        if abs(g1) < 1e-13 and abs(g2) < 1e-13:
            break
        h11, h12, h22 = m2 - m1 * m1, m3 - m1 * m2, m4 - m2 * m2
        det = h11 * h22 - h12 * h12
        if det <= 0:
            raise ArithmeticError("degenerate noise support")
        da = -(h22 * g1 - h12 * g2) / det
        db = -(h11 * g2 - h12 * g1) / det
        step = 1.0
        while True:
            candidate, q = dual(a + step * da, b + step * db)
            if candidate <= value + 1e-4 * step * (g1 * da + g2 * db) or step < 1e-12:
                break
            step /= 2
        a, b, value, p = a + step * da, b + step * db, candidate, q
    else:
        raise ArithmeticError("maximum-entropy noise did not converge")
    return p


@lru_cache(maxsize=16)
def count_table(min_cell: int, max_noise: int, variance: float) -> CountTable:
    """The count perturbation table for these parameters (cached: it is pure)."""
    if min_cell < 2 or max_noise < 0 or variance < 0:
        raise ValueError("min_cell ≥ 2, max_noise ≥ 0 and variance ≥ 0")
    special = min_cell + max_noise
    rows = tuple(_noise_row(n, min_cell, max_noise, variance) for n in range(special))
    return CountTable(
        min_cell, max_noise, variance, rows, _noise_row(special, min_cell, max_noise, variance)
    )


# --- score sums ---------------------------------------------------------------------------------


def sum_noise(cell_key: int, measure: str, bound: float) -> float:
    """The noise added to a cell's sum of scores (in score points).

    Rule: ``bound · ((u₁ + u₂ + u₃ + u₄) / 2 − 1)`` for four uniforms read from the cell's sum
    key and the measure: zero mean, never beyond ±``bound``, standard deviation
    ``bound / √12``, and a density that vanishes smoothly at ±``bound`` (beyond 95 % of the
    bound with probability below 10⁻⁵), so an extreme noise that would let an attacker rule
    out all but the extreme values is practically never drawn.

    The bound is part of the hashed purpose: were it not, publications before and after a
    change of bound would show S + B₁·z and S + B₂·z for the same z, from which the true sum S
    follows exactly. With it, each bound draws its own noise (averaging the two still halves
    its variance: parameters are changed rarely, and the change is documented)."""
    return bound * (sum(key_uniforms(cell_key, f"{measure}|B{bound!r}", 4)) / 2 - 1)


def mean_of(tally: Tally, bound: float) -> Decimal | None:
    """The published mean: the noised score sum over the true number of scored firms, rounded
    half-up to 2 dp and kept on the ladder [2.75, 4.00]. None when no firm is scored.

    Dividing by the true rather than the perturbed count keeps count noise out of the mean (a
    cell of 5 shown as 6 would otherwise lose a sixth of its mean); the perturbed sum that
    matches the published count is ``mean × perturbed count``."""
    if tally.valued <= 0:
        return None
    noise = Decimal(f"{sum_noise(tally.value_key, tally.measure, bound):.6f}")
    mean = round_score((Decimal(tally.value_sum) / 100 + noise) / tally.valued)
    return min(MAX_LEVEL, max(MIN_LEVEL, mean))


# --- shares -------------------------------------------------------------------------------------

#: Rounding steps a share may be given in, finest first (percentage points).
SHARE_STEPS = (1, 2, 5, 10, 20, 25, 50)


def rounded_share(part: int, whole: int, step: int) -> int:
    """``100 · part / whole`` rounded half-up to a multiple of ``step`` percentage points."""
    exact = Fraction(100 * part, whole) / step
    return step * math.floor(exact + Fraction(1, 2))


@lru_cache(maxsize=256)
def share_step(count: int, min_cell: int) -> int:
    """The step a share over a published ``count`` is rounded to.

    Rule: the finest step in :data:`SHARE_STEPS` such that every share value a count in the
    same band can show is also shown by another count of that band, so a band and a share
    never pin the count (band "5–9" with 29 % admits only 7; with 10-point steps every value
    has two counts or more). From 100 on, 1-point steps already have that property."""
    if count >= 100:
        return 1
    band = count_band(count, min_cell)
    members = [m for m in range(min_cell, 100) if count_band(m, min_cell) == band]
    for step in SHARE_STEPS:
        seen: dict[int, set[int]] = {}
        for whole in members:
            for part in range(whole + 1):
                seen.setdefault(rounded_share(part, whole, step), set()).add(whole)
        if all(len(wholes) >= 2 for wholes in seen.values()):
            return step
    return SHARE_STEPS[-1]


def nonincreasing(shares: Sequence[int], step: int) -> list[int]:
    """Shares at or above rising rungs made to read as such: never more firms at or above a
    higher rung than at or above a lower one.

    Each share carries its own noise (a numerator's noise is drawn for its rung), so a cell
    could read 20 % at or above 3.00 and 40 % at or above 3.50, which no set of firms gives.
    Rule: the least-squares nonincreasing sequence (pool adjacent violators, equal weights),
    each value then rounded half-up to a multiple of ``step``. It is computed from the noised
    shares alone, so it tells nothing they did not; shares already in order are unchanged."""
    blocks: list[tuple[Fraction, int]] = []  # (mean, length), means strictly decreasing
    for share in shares:
        mean, length = Fraction(share), 1
        while blocks and blocks[-1][0] <= mean:
            previous, size = blocks.pop()
            mean, length = (previous * size + mean * length) / (size + length), size + length
        blocks.append((mean, length))
    return [
        step * math.floor(mean / step + Fraction(1, 2))
        for mean, length in blocks
        for _ in range(length)
    ]


# --- publishing a table ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Parameters:
    """The disclosure-control parameters of a publication (docs/heatmaps.md justifies them)."""

    #: k: cells and margins of 1 … k−1 firms are suppressed (``HEATMAP_MIN_CELL``).
    min_cell: int = 5
    #: D: the largest change of a count.
    count_max_noise: int = 3
    #: V: the variance of a count's noise.
    count_variance: float = 1.5
    #: B: the largest change of a cell's score sum, in score points.
    sum_bound: float = 5.0

    @property
    def counts(self) -> CountTable:
        return count_table(self.min_cell, self.count_max_noise, self.count_variance)


@dataclass(frozen=True, slots=True)
class PublishedCell:
    """One cell as published. ``state`` is ``published``, ``suppressed`` (shown as "x") or
    ``empty`` (no firm: shown blank)."""

    state: str
    #: The perturbed count and its band (published cells only).
    count: int | None = None
    band: str | None = None
    #: The perturbed mean (cells of at least k scored firms; not in rung distributions).
    mean: Decimal | None = None
    #: Share at or above each rung threshold (hundredths → percent), from perturbed counts.
    shares: Mapping[int, int] = field(default_factory=dict)
    #: Distribution tables: this cell's share of its row (the grand total for margins).
    share_of_row: int | None = None


SUPPRESSED = PublishedCell("suppressed")
EMPTY = PublishedCell("empty")


@dataclass(frozen=True, slots=True)
class PublishedTable:
    rows: tuple[Hashable, ...]
    cols: tuple[Hashable, ...]
    cells: Mapping[Key, PublishedCell]
    protection: Protection

    def cell(self, row: Hashable, col: Hashable) -> PublishedCell:
        return self.cells[(row, col)]


def publish_table(
    rows: Sequence[Hashable],
    cols: Sequence[Hashable],
    tallies: Mapping[Key, Tally],
    parameters: Parameters,
    *,
    distribution: bool = False,
) -> PublishedTable:
    """Publish one table with its margins (keys ``TOTAL``): suppression, then perturbation.

    ``tallies`` holds every cell and margin (missing: no firm). Suppression is decided by
    :func:`protect` on the true counts, as before; every cell it publishes gets a perturbed
    count (and band), a perturbed mean when at least k of its firms are scored, and shares
    from perturbed counts: at or above each rung, or (``distribution``) of its row's firms,
    over the row margin's perturbed count and only when that margin is published."""
    k = parameters.min_cell
    protection = protect(
        rows,
        cols,
        {key: tally.n for key, tally in tallies.items()},
        min_cell=k,
        distribution=distribution,
    )
    table = parameters.counts
    counts: dict[Key, int] = {}
    for key, tally in tallies.items():
        if tally.n > 0 and key not in protection.suppressed:
            counts[key] = table.perturb(tally.n, tally.count_key, tally.count_purpose)
    cells: dict[Key, PublishedCell] = {}
    for row in [*rows, TOTAL]:
        for col in [*cols, TOTAL]:
            key = (row, col)
            cell = tallies.get(key)
            if key in protection.suppressed:
                cells[key] = SUPPRESSED
            elif cell is None or cell.n == 0:
                cells[key] = EMPTY
            else:
                cells[key] = _published(key, cell, counts, parameters, distribution)
    return PublishedTable(tuple(rows), tuple(cols), cells, protection)


def _published(
    key: Key,
    tally: Tally,
    counts: Mapping[Key, int],
    parameters: Parameters,
    distribution: bool,
) -> PublishedCell:
    count = counts[key]
    k = parameters.min_cell
    if distribution:
        row, col = key
        base = counts.get((TOTAL, TOTAL) if col == TOTAL else (row, TOTAL))
        share = None if base is None else rounded_share(min(count, base), base, share_step(base, k))
        return PublishedCell(
            "published", count=count, band=count_band(count, k), share_of_row=share
        )
    step = share_step(count, k)
    noised = [
        rounded_share(
            min(count, parameters.counts.perturb(part, tally.count_key + part_key, share_purpose)),
            count,
            step,
        )
        for threshold, part, part_key in zip(
            RUNG_THRESHOLDS, tally.at_least, tally.at_least_key, strict=True
        )
        for share_purpose in [numerator_purpose(tally.measure, threshold)]
    ]
    shares = dict(zip(RUNG_THRESHOLDS, nonincreasing(noised, step), strict=True))
    return PublishedCell(
        "published",
        count=count,
        band=count_band(count, k),
        mean=mean_of(tally, parameters.sum_bound) if tally.valued >= k else None,
        shares=shares,
    )
