"""The cell-key perturbation core (``app.heatmaps.perturbation``), tested directly."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.heatmaps.disclosure import TOTAL, count_band, protect
from app.heatmaps.perturbation import (
    COUNT,
    KEY_RANGE,
    OVERALL,
    SECRET_BYTES,
    SHARE_STEPS,
    Member,
    Parameters,
    Tally,
    count_key,
    count_table,
    exact_rung_tallies,
    key_uniforms,
    mean_of,
    new_record_secret,
    nonincreasing,
    publish_table,
    rounded_share,
    share_step,
    submission_key,
    submission_members,
    sum_noise,
)
from app.heatmaps.sums import RUNG_THRESHOLDS

PARAMETERS = Parameters()


def secret(n: int) -> bytes:
    return random.Random(f"secret:{n}").randbytes(SECRET_BYTES)


def member(n: int, value: int | None = 330, level: int = 325, submission: str = "a") -> Member:
    return Member(count_key(secret(n)), submission_key(secret(n), submission), value, level)


# --- record keys ----------------------------------------------------------------------------


def test_record_keys_are_derived_from_the_firms_secret() -> None:
    first, second = secret(1), secret(2)
    assert count_key(first) == count_key(first)
    assert 0 <= count_key(first) < KEY_RANGE
    assert count_key(first) != count_key(second)
    # A new submission gets a new key; the count key does not change with it.
    assert submission_key(first, "a") == submission_key(first, "a")
    assert submission_key(first, "a") != submission_key(first, "b")
    assert count_key(first) not in (submission_key(first, "a"), submission_key(first, "b"))
    with pytest.raises(ValueError):
        count_key(b"short")


def test_new_secrets_are_random_and_of_the_stated_length() -> None:
    secrets = {new_record_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert {len(s) for s in secrets} == {SECRET_BYTES}


def test_a_submission_adds_to_each_measure_with_the_firms_keys() -> None:
    stages = (("automation", 310), ("digitization", 355))
    first = submission_members(secret(1), "a", 332, 325, stages)
    assert set(first) == {OVERALL, "stage:automation", "stage:digitization"}
    assert first[OVERALL] == Member(count_key(secret(1)), submission_key(secret(1), "a"), 332, 325)
    assert first["stage:automation"].value_c == first["stage:automation"].level_c == 310
    again = submission_members(secret(1), "b", 340, 325, stages)
    assert again[OVERALL].count_key == first[OVERALL].count_key
    assert again[OVERALL].submission_key != first[OVERALL].submission_key


# --- additive tallies: keys kept like the sums ----------------------------------------------


members_strategy = st.lists(
    st.tuples(st.integers(0, 10_000), st.none() | st.integers(275, 400), st.integers(275, 400)),
    min_size=1,
    max_size=30,
    unique_by=lambda t: t[0],
)


@settings(max_examples=100, deadline=None)
@given(members_strategy, st.data())
def test_a_firm_enters_or_leaves_a_cell_in_constant_time(raw, data) -> None:
    """Adding the members one by one and removing some gives exactly the tally of the rest
    (sums, counts and every key sum), whatever the order: what the stored aggregates' upserts
    will do."""
    members = [member(n, value, level, f"s{n}") for n, value, level in raw]
    leaving = data.draw(st.sets(st.sampled_from(range(len(members)))))
    order = data.draw(st.permutations(range(len(members))))
    tally = Tally(OVERALL)
    for index in order:
        tally.add(members[index])
    for index in sorted(leaving):
        tally.add(members[index], sign=-1)
    staying = [m for i, m in enumerate(members) if i not in leaving]
    assert tally == Tally.of(OVERALL, staying)
    # Disjoint parts sum to the whole, as margins do.
    halves = Tally.of(OVERALL, staying[::2])
    halves.merge(Tally.of(OVERALL, staying[1::2]))
    assert halves == Tally.of(OVERALL, staying)


def test_tallies_of_different_measures_do_not_add() -> None:
    with pytest.raises(ValueError):
        Tally(OVERALL).merge(Tally("stage:automation"))


def test_exact_rung_counts_add_up_to_the_cell() -> None:
    members = [member(n, 300, level) for n, level in enumerate([275, 300, 300, 325, 350, 400])]
    tally = Tally.of(OVERALL, members)
    exact = exact_rung_tallies(tally)
    assert [t.n for t in exact] == [1, 2, 1, 1, 0, 1]
    # The keys of the rung sets are the members' keys plus the cell's own (mod the key range).
    at_300 = sum(m.count_key for m in members if m.level_c == 300)
    assert exact[1].count_key % KEY_RANGE == (tally.count_key + at_300) % KEY_RANGE


# --- the count perturbation table -----------------------------------------------------------


@pytest.mark.parametrize(("k", "d", "v"), [(5, 2, 1.0), (5, 1, 0.5), (10, 3, 2.0), (3, 2, 1.5)])
def test_count_noise_is_bounded_unbiased_of_the_stated_variance(k, d, v) -> None:
    table = count_table(k, d, v)
    for n in range(0, 3 * k + 2 * d):
        row = table.row(n)
        assert all(-d <= value <= d for value in row.values)
        assert math.isclose(sum(row.probabilities), 1.0, abs_tol=1e-12)
        assert abs(row.mean) < 1e-9
        lowest = k if n >= k else 0
        assert all(n + value >= lowest for value in row.values)
        low, high = row.values[0], row.values[-1]
        if low < 0 < high:
            assert math.isclose(row.variance, min(v, 0.9 * -low * high), rel_tol=1e-9)
        else:  # a count of 0, or exactly k: no zero-mean noise fits
            assert row.values == (0,)


def test_count_noise_has_the_maximum_entropy_shape() -> None:
    """Maximum entropy under a mean and a variance constraint makes log p quadratic in the
    noise: its second differences are constant."""
    row = count_table(5, 3, 2.0).general
    logs = [math.log(p) for p in row.probabilities]
    second = [logs[i + 2] - 2 * logs[i + 1] + logs[i] for i in range(len(logs) - 2)]
    assert max(second) - min(second) < 1e-9


def test_a_published_count_is_never_negative_nor_below_k() -> None:
    table = PARAMETERS.counts
    k = PARAMETERS.min_cell
    for n in range(0, 40):
        for key in range(0, 2000, 7):
            published = table.perturb(n, key * 2_654_435_761)
            assert published >= 0
            assert abs(published - n) <= PARAMETERS.count_max_noise
            if n >= k:
                assert published >= k
            if n == 0:
                assert published == 0


def test_cell_keys_draw_noise_with_the_tables_probabilities() -> None:
    table = PARAMETERS.counts
    row = table.row(20)
    keys = range(0, 40_000)
    drawn = [table.perturb(20, key * 40_503) - 20 for key in keys]
    for value, p in zip(row.values, row.probabilities, strict=True):
        assert abs(drawn.count(value) / len(drawn) - p) < 0.01


def test_the_table_is_deterministic() -> None:
    built = count_table(5, 2, 1.0)
    count_table.cache_clear()
    assert count_table(5, 2, 1.0) == built


def test_purposes_draw_independent_noise_from_one_key() -> None:
    keys = range(0, 5000)
    counts = [key_uniforms(key * 7919, COUNT, 1)[0] for key in keys]
    sums = [key_uniforms(key * 7919, OVERALL, 1)[0] for key in keys]
    assert abs(statistics.correlation(counts, sums)) < 0.05


def test_other_parameters_draw_other_noise_not_a_rescaled_copy() -> None:
    """Two publications with different parameters must not show the same noise rescaled: from
    S + B₁·z and S + B₂·z the true sum would follow exactly."""
    keys = [key * 2_654_435_761 for key in range(3000)]
    first = [sum_noise(key, OVERALL, 4.0) / 4.0 for key in keys]
    second = [sum_noise(key, OVERALL, 3.5) / 3.5 for key in keys]
    assert abs(statistics.correlation(first, second)) < 0.06
    wide, narrow = count_table(5, 2, 1.0), count_table(5, 3, 2.0)
    moved = [wide.perturb(40, key) - 40 for key in keys]
    again = [narrow.perturb(40, key) - 40 for key in keys]
    assert abs(statistics.correlation(moved, again)) < 0.06


# --- score sums -------------------------------------------------------------------------------


def test_sum_noise_is_bounded_unbiased_with_the_stated_spread() -> None:
    bound = PARAMETERS.sum_bound
    noise = [sum_noise(key * 2_246_822_519, OVERALL, bound) for key in range(20_000)]
    assert max(abs(n) for n in noise) <= bound
    assert abs(statistics.fmean(noise)) < 0.02 * bound
    assert abs(statistics.pstdev(noise) - bound / math.sqrt(12)) < 0.03 * bound / math.sqrt(12)
    # The density vanishes towards the bound: the outer 5 % of the range is hardly ever reached
    # (probability 2 · 0.1⁴ / 24 ≈ 10⁻⁵ for a sum of four uniforms).
    assert sum(abs(n) > 0.95 * bound for n in noise) / len(noise) < 0.0005


def test_the_mean_is_the_noised_sum_over_the_true_count_kept_on_the_ladder() -> None:
    tally = Tally.of(OVERALL, [member(n, 330) for n in range(6)])
    exact = mean_of(tally, 0.0)
    assert exact is not None and str(exact) == "3.30"
    noised = mean_of(tally, PARAMETERS.sum_bound)
    assert noised is not None
    noise = sum_noise(tally.value_key, OVERALL, PARAMETERS.sum_bound)
    assert abs(float(noised) - (3.30 + noise / 6)) <= 0.005 + 1e-9
    low = Tally.of(OVERALL, [member(n, 275) for n in range(5)])
    assert all(2.75 <= float(mean_of(low, b) or 0) <= 4.0 for b in (0.5, 2.0, PARAMETERS.sum_bound))
    assert mean_of(Tally.of(OVERALL, [member(1, None)]), 1.0) is None


# --- shares -----------------------------------------------------------------------------------


def counts_by_share(band: str, k: int, step_of: Callable[[int], int]) -> dict[int, set[int]]:
    """For one count band: each share value that can be shown, and the counts that show it."""
    found: dict[int, set[int]] = {}
    for n in range(k, 100):
        if count_band(n, k) == band:
            for c in range(n + 1):
                found.setdefault(rounded_share(c, n, step_of(n)), set()).add(n)
    return found


@pytest.mark.parametrize("k", [3, 5, 10])
def test_no_band_and_share_pin_the_count(k) -> None:
    bands = {count_band(n, k) for n in range(k, 100)}
    for band in bands:
        for share, counts in counts_by_share(band, k, lambda m: share_step(m, k)).items():
            assert len(counts) >= 2, (band, share, counts)
            assert all(share % share_step(n, k) == 0 for n in counts)
    assert {share_step(n, k) for n in range(k, 200)} <= set(SHARE_STEPS)


def test_whole_percent_shares_would_pin_the_count() -> None:
    """Issue #16 attack 3: band "5–9" with 29 % admits only 7 firms when shares are given to
    the percent, as before."""
    assert counts_by_share("5–9", 5, lambda m: 1)[29] == {7}
    assert share_step(7, 5) > 1


def test_shares_round_half_up_to_the_step() -> None:
    assert rounded_share(1, 8, 10) == 10  # 12.5 %
    assert rounded_share(3, 8, 10) == 40  # 37.5 %
    assert rounded_share(1, 4, 10) == 30  # 25 % rounds up
    assert rounded_share(2, 7, 1) == 29


@given(st.sampled_from(SHARE_STEPS), st.lists(st.integers(0, 100), min_size=1, max_size=6))
def test_shares_at_rising_rungs_are_put_in_order_from_themselves(step: int, raw: list[int]) -> None:
    shares = [rounded_share(s, 100, step) for s in raw]
    repaired = nonincreasing(shares, step)
    assert repaired == sorted(repaired, reverse=True)
    assert all(s % step == 0 and 0 <= s <= 100 for s in repaired)
    if shares == sorted(shares, reverse=True):
        assert repaired == shares  # in order already: unchanged
    # Pooled, not clipped: the total moves by rounding only (at most half a step per share).
    assert abs(sum(repaired) - sum(shares)) <= len(shares) * step / 2


def test_out_of_order_shares_are_pooled() -> None:
    assert nonincreasing([20, 30, 40, 20, 0], 10) == [30, 30, 30, 20, 0]
    assert nonincreasing([10, 30], 10) == [20, 20]


# --- publishing a table: suppression, then perturbation -------------------------------------


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[str], dict[tuple[str, str], Tally]]:
    rows = [f"r{i}" for i in range(draw(st.integers(1, 4)))]
    cols = [f"c{j}" for j in range(draw(st.integers(1, 4)))]
    serial = iter(range(10**6))
    cells: dict[tuple[str, str], list[Member]] = {}
    for r in rows:
        for c in cols:
            size = draw(st.one_of(st.integers(0, 4), st.integers(0, 25)))
            cells[(r, c)] = [
                member(next(serial), draw(st.integers(275, 400)), draw(st.integers(275, 400)))
                for _ in range(size)
            ]
    tallies = {key: Tally.of(OVERALL, ms) for key, ms in cells.items()}
    for r in rows:
        tallies[(r, TOTAL)] = Tally.of(OVERALL, [m for c in cols for m in cells[(r, c)]])
    for c in cols:
        tallies[(TOTAL, c)] = Tally.of(OVERALL, [m for r in rows for m in cells[(r, c)]])
    tallies[(TOTAL, TOTAL)] = Tally.of(OVERALL, [m for ms in cells.values() for m in ms])
    return rows, cols, tallies


@settings(max_examples=150, deadline=None)
@given(tables())
def test_suppression_is_decided_as_before_and_only_published_cells_are_perturbed(
    table,
) -> None:
    rows, cols, tallies = table
    k = PARAMETERS.min_cell
    published = publish_table(rows, cols, tallies, PARAMETERS)
    protection = protect(rows, cols, {key: t.n for key, t in tallies.items()}, min_cell=k)
    assert published.protection == protection
    counts = PARAMETERS.counts
    for key, cell in published.cells.items():
        tally = tallies[key]
        if key in protection.suppressed:
            assert cell.state == "suppressed"
            assert (cell.count, cell.mean, cell.shares) == (None, None, {})
        elif tally.n == 0:
            assert cell.state == "empty"
        else:
            assert cell.state == "published"
            # Margins too are perturbed from their own keys, not summed from inner cells.
            assert cell.count == counts.perturb(tally.n, tally.count_key)
            assert cell.count is not None and cell.count >= k
            assert cell.band == count_band(cell.count, k)
            assert cell.mean == mean_of(tally, PARAMETERS.sum_bound)
            assert set(cell.shares) == set(RUNG_THRESHOLDS)
            assert all(0 <= s <= 100 for s in cell.shares.values())
            # More firms at or above a higher rung than a lower one: no set of firms reads so
            # (20 %, 30 %, 40 %, 20 %, 0 % was published; found by fuzzing).
            ordered = [cell.shares[t] for t in RUNG_THRESHOLDS]
            assert ordered == sorted(ordered, reverse=True), ordered
            step = share_step(cell.count, k)
            assert all(s % step == 0 for s in ordered)


def test_the_same_set_publishes_the_same_figures_in_any_table() -> None:
    members = [member(n, 300 + 7 * n, 300 + 13 * n) for n in range(9)]
    alone = publish_table(["a"], ["x"], _with_margins({("a", "x"): members}), PARAMETERS)
    split = publish_table(
        ["a"],
        ["x", "y"],
        _with_margins({("a", "x"): members[:6], ("a", "y"): members[6:]}),
        PARAMETERS,
    )
    assert alone.cell("a", TOTAL) == split.cell("a", TOTAL)
    assert alone.cell("a", "x") == alone.cell("a", TOTAL)  # the same nine firms


def test_distribution_shares_are_over_the_rows_perturbed_count() -> None:
    levels = [325] * 7 + [350] * 6 + [400] * 5
    row = Tally.of(OVERALL, [member(n, 330, level) for n, level in enumerate(levels)])
    cols = [str(i) for i in range(6)]
    exact = exact_rung_tallies(row)
    tallies = {("a", TOTAL): row, (TOTAL, TOTAL): row}
    for col, tally in zip(cols, exact, strict=True):
        tallies[("a", col)] = tallies[(TOTAL, col)] = tally
    table = publish_table(["a"], cols, tallies, PARAMETERS, distribution=True)
    base = table.cell("a", TOTAL).count
    assert base is not None
    for col, n in zip(cols, [0, 0, 7, 6, 0, 5], strict=True):
        cell = table.cell("a", col)
        if n == 0:
            assert cell.state == "empty"
            continue
        assert cell.state == "published" and cell.mean is None and cell.count is not None
        assert cell.share_of_row == rounded_share(
            min(cell.count, base), base, share_step(base, PARAMETERS.min_cell)
        )
    # A rung's set is keyed apart from any set of the same firms defined by profile.
    assert table.cell("a", "2").count == PARAMETERS.counts.perturb(
        7, exact[2].count_key, exact[2].count_purpose
    )


def _with_margins(cells: dict[tuple[str, str], list[Member]]) -> dict[tuple[str, str], Tally]:
    rows = sorted({r for r, _ in cells})
    cols = sorted({c for _, c in cells})
    tallies = {key: Tally.of(OVERALL, ms) for key, ms in cells.items()}
    for r in rows:
        tallies[(r, TOTAL)] = Tally.of(
            OVERALL, [m for (rr, _), ms in cells.items() if rr == r for m in ms]
        )
    for c in cols:
        tallies[(TOTAL, c)] = Tally.of(
            OVERALL, [m for (_, cc), ms in cells.items() if cc == c for m in ms]
        )
    tallies[(TOTAL, TOTAL)] = Tally.of(OVERALL, [m for ms in cells.values() for m in ms])
    return tallies
