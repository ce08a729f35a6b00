"""What the heatmaps' cell-key perturbation costs in accuracy, and what it buys.

Run: ``.venv/bin/python benchmarks/heatmap_utility.py [--sizes 10000,100000] [--attacked 500]``.
Prints markdown tables for docs/heatmaps.md.

Firms come from ``zhizao seed-demo``'s generator (``app.demo.synthetic``, seed 2026, the same
population as benchmarks/heatmap.py), seeded into a throwaway SQLite file (var/bench/utility.db,
made anew, then grown in place from one size to the next) and read back: each verified firm
with its submissions per quarter. Every firm gets a record secret drawn from a seeded generator
(``--keys``).

Accuracy: every predefined cut, city-wide and for each district, for the current quarter (the
trend cut: its eight quarters), is published twice from the same cells: as before (exact counts,
exact means rounded to 2 dp, shares to the percent) and with the parameters of
``app.heatmaps.perturbation.Parameters``. The tables report the mean absolute difference over
the cells both publish, by cut and by the cell's number of firms.

Protection: for ``--attacked`` sampled firms, a district official un-verifies the firm between
two publications and differences every figure their scope shows that contains it (their
district, its industry and size class within the district, and the city total; the overall
mean and every stage mean), knowing the true counts, and combines the differences in the best
linear way (weights from the noise and the 2-dp rounding). Reported: how often that estimate
lands within 0.1 of the firm's true overall score, without and with perturbation, against
guessing the firm's cell mean.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from app.demo.synthetic import seed_synthetic  # noqa: E402
from app.heatmaps import quarters  # noqa: E402
from app.heatmaps.cuts import CUTS, RUNG_KEYS, SIZE_CLASSES, TREND_QUARTERS, Cut  # noqa: E402
from app.heatmaps.disclosure import TOTAL, Key  # noqa: E402
from app.heatmaps.perturbation import (  # noqa: E402
    OVERALL,
    RUNG,
    Member,
    Parameters,
    PublishedTable,
    Tally,
    exact_rung_tallies,
    mean_of,
    publish_table,
    stage_measure,
    submission_members,
)
from app.heatmaps.sums import RUNG_THRESHOLDS  # noqa: E402
from app.kit.db import create_db_engine  # noqa: E402
from app.kit.migrations import upgrade  # noqa: E402
from app.models import Enterprise, HeatmapContribution  # noqa: E402
from app.questionnaires.catalog import QuestionnaireCatalog  # noqa: E402
from benchmarks.heatmap import database_url  # noqa: E402
from scoring import Questionnaire  # noqa: E402

#: The figures as published before perturbation: exact counts, means to 2 dp, whole percents.
BEFORE = Parameters(sum_bound=0.0, count_variance=0.0)
SIZE_BANDS = ((5, 9), (10, 19), (20, 49), (50, 99), (100, 10**9))
#: The spread of scores an attacker assumes around a cell's mean (the generator draws firms
#: with a spread of 0.18 around their district's level).
PRIOR_SPREAD = 0.2


@dataclass(frozen=True, slots=True)
class State:
    submission: str
    overall_c: int | None
    rung_c: int
    stages: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class Firm:
    id: str
    secret: bytes
    district: str
    industry: str
    size: str
    history: tuple[tuple[int, State], ...]

    def state(self, quarter: int) -> State | None:
        found = None
        for q, state in self.history:
            if q <= quarter:
                found = state
        return found

    def members(self, quarter: int) -> dict[str, Member]:
        state = self.state(quarter)
        if state is None:
            return {}
        return submission_members(
            self.secret, state.submission, state.overall_c, state.rung_c, state.stages
        )


# --- the population ---------------------------------------------------------------------------


def seeded_firms(url: str, questionnaire: Questionnaire, size: int, key_seed: int) -> list[Firm]:
    engine = create_db_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        seed_synthetic(connection, questionnaire, enterprises=size, seed=2026)
    query = (
        select(
            Enterprise.id,
            HeatmapContribution.quarter,
            HeatmapContribution.assessment_id,
            HeatmapContribution.district_code,
            HeatmapContribution.industry_code,
            HeatmapContribution.size_class,
            HeatmapContribution.overall_c,
            HeatmapContribution.rung_c,
            HeatmapContribution.stages,
        )
        .join(HeatmapContribution, HeatmapContribution.enterprise_id == Enterprise.id)
        .where(
            Enterprise.verified.is_(True), HeatmapContribution.questionnaire_id == questionnaire.id
        )
        .order_by(Enterprise.id, HeatmapContribution.quarter)
    )
    rows: dict[str, list[Any]] = defaultdict(list)
    with engine.connect() as connection:
        for row in connection.execute(query):
            rows[str(row[0])].append(row)
    engine.dispose()
    firms = []
    for firm_id, history in rows.items():
        last = history[-1]
        firms.append(
            Firm(
                firm_id,
                random.Random(f"{key_seed}:{firm_id}").randbytes(32),
                last[3],
                last[4],
                last[5],
                tuple(
                    (
                        int(r[1]),
                        State(
                            str(r[2]),
                            r[6],
                            int(r[7]),
                            tuple(sorted((k, int(v)) for k, v in r[8].items())),
                        ),
                    )
                    for r in history
                ),
            )
        )
    return firms


# --- tables from cell sums (what the publication job will read from the aggregates) ----------


class Cells:
    """Tallies per (quarter, district, industry, size, measure), summed once into every view
    the cuts ask for: the city, one district, industry or size class, and a district's
    industries or size classes."""

    PATTERNS = (
        (),
        ("district",),
        ("industry",),
        ("size",),
        ("district", "industry"),
        ("district", "size"),
    )

    def __init__(self, firms: Sequence[Firm], shown: Sequence[int], now: int) -> None:
        self.finest: dict[tuple[int, str, str, str, str], Tally] = {}
        for firm in firms:
            for quarter in shown:
                members = firm.members(quarter)
                measures = members if quarter == now else {OVERALL: members.get(OVERALL)}
                for measure, member in measures.items():
                    if member is not None:
                        key = (quarter, firm.district, firm.industry, firm.size, measure)
                        self.finest.setdefault(key, Tally(measure)).add(member)
        self.sums: dict[tuple[Any, ...], Tally] = {}
        for (quarter, district, industry, size, measure), tally in self.finest.items():
            found = {"district": district, "industry": industry, "size": size}
            for pattern in self.PATTERNS:
                where = tuple((name, found[name]) for name in pattern)
                self.sums.setdefault((quarter, measure, where), Tally(measure)).merge(tally)

    def get(self, quarter: int, measure: str, **where: str) -> Tally:
        """The sum over firms matching ``where`` (district, industry, size)."""
        return self.sums.get((quarter, measure, tuple(sorted(where.items())))) or Tally(measure)

    def present(self, quarter: int, dimension: str, **where: str) -> list[str]:
        index = {"district": 1, "industry": 2, "size": 3}[dimension]
        return sorted(
            {
                k[index]
                for k, t in self.finest.items()
                if k[0] == quarter and k[4] == OVERALL and t.n and _matches(where, *k[1:4])
            }
        )


def _matches(where: Mapping[str, str], district: str, industry: str, size: str) -> bool:
    found = {"district": district, "industry": industry, "size": size}
    return all(found[k] == v for k, v in where.items())


def _summed(measure: str, tallies: Iterable[Tally]) -> Tally:
    total = Tally(measure)
    for tally in tallies:
        total.merge(tally)
    return total


def table_tallies(
    cut: Cut, cells: Cells, scope: str | None, now: int, shown: Sequence[int], stages: Sequence[str]
) -> tuple[list[str], list[str], dict[Key, Tally]]:
    """One cut's cells and margins, laid out as ``service.build_table`` lays them out."""
    where = {} if scope is None else {"district": scope}
    if cut.rows == "district":
        rows = [scope] if scope is not None else cells.present(now, "district")
    elif cut.rows == "size":
        rows = list(SIZE_CLASSES)
    else:
        rows = cells.present(now, "industry", **where)
    tallies: dict[Key, Tally] = {}

    def of(row: str, measure: str, quarter: int = now) -> Tally:
        return cells.get(quarter, measure, **{**where, cut.rows: row})

    if cut.cols == "stage":
        cols = list(stages)
        for row in rows:
            tallies[(row, TOTAL)] = of(row, OVERALL)
            for stage in stages:
                tallies[(row, stage)] = of(row, stage_measure(stage))
        for stage in stages:
            tallies[(TOTAL, stage)] = _summed(
                stage_measure(stage), (tallies[(r, stage)] for r in rows)
            )
    elif cut.cols == "industry":
        cols = cells.present(now, "industry", **where)
        for row in rows:
            for industry in cols:
                tallies[(row, industry)] = cells.get(now, OVERALL, district=row, industry=industry)
            tallies[(row, TOTAL)] = of(row, OVERALL)
        for industry in cols:
            tallies[(TOTAL, industry)] = _summed(OVERALL, (tallies[(r, industry)] for r in rows))
    elif cut.cols == "rung":
        cols = list(RUNG_KEYS)
        for row in rows:
            overall = of(row, OVERALL)
            tallies[(row, TOTAL)] = overall
            for col, tally in zip(cols, exact_rung_tallies(overall), strict=True):
                tallies[(row, col)] = tally
        for index, col in enumerate(cols):
            total = Tally(f"rung:{index}", count_purpose=RUNG)
            for row in rows:
                total.merge(tallies[(row, col)])
            tallies[(TOTAL, col)] = total
    else:
        cols = [str(q) for q in shown]
        for row in rows:
            for q in shown:
                tallies[(row, str(q))] = of(row, OVERALL, q)
            tallies[(row, TOTAL)] = of(row, OVERALL)
        for q in shown:
            tallies[(TOTAL, str(q))] = _summed(OVERALL, (tallies[(r, str(q))] for r in rows))
    tallies[(TOTAL, TOTAL)] = _summed(OVERALL, (tallies[(r, TOTAL)] for r in rows))
    return rows, cols, tallies


# --- accuracy ------------------------------------------------------------------------------------


@dataclass
class Errors:
    mean: list[float]
    count: list[float]
    share: list[float]
    cells: int = 0
    suppressed: int = 0


def compare(
    before: PublishedTable,
    after: PublishedTable,
    tallies: Mapping[Key, Tally],
    errors: Errors,
    by_size: dict[int, Errors],
) -> None:
    for key, published in after.cells.items():
        old = before.cells[key]
        errors.cells += 1
        if published.state == "suppressed":
            errors.suppressed += 1
        if published.state != "published" or old.state != "published":
            continue
        n = tallies[key].n
        band = next(i for i, (low, high) in enumerate(SIZE_BANDS) if low <= n <= high)
        assert published.count is not None and old.count is not None
        for target in (errors, by_size[band]):
            target.count.append(abs(published.count - old.count))
            if published.mean is not None and old.mean is not None:
                target.mean.append(abs(float(published.mean) - float(old.mean)))
            for threshold, share in published.shares.items():
                target.share.append(abs(share - _exact_share(tallies[key], threshold)))
            if published.share_of_row is not None and old.share_of_row is not None:
                target.share.append(abs(published.share_of_row - old.share_of_row))


def _exact_share(tally: Tally, threshold: int) -> float:
    return 100 * tally.at_least[RUNG_THRESHOLDS.index(threshold)] / tally.n


def accuracy(
    firms: Sequence[Firm], questionnaire: Questionnaire, now: int, parameters: Parameters
) -> tuple[dict[str, Errors], dict[int, Errors], float, int]:
    shown = quarters.last_n(now, TREND_QUARTERS)
    cells = Cells(firms, shown, now)
    started = time.perf_counter()
    stages = [s.id for s in questionnaire.stages]
    by_cut: dict[str, Errors] = {c: Errors([], [], []) for c in CUTS}
    by_size = {i: Errors([], [], []) for i in range(len(SIZE_BANDS))}
    tables = 0
    for scope in (None, *cells.present(now, "district")):
        for cut in CUTS.values():
            rows, cols, tallies = table_tallies(cut, cells, scope, now, shown, stages)
            before = publish_table(rows, cols, tallies, BEFORE, distribution=cut.distribution)
            after = publish_table(rows, cols, tallies, parameters, distribution=cut.distribution)
            compare(before, after, tallies, by_cut[cut.id], by_size)
            tables += 1
    return by_cut, by_size, time.perf_counter() - started, tables


# --- protection ----------------------------------------------------------------------------------


def attack(
    firms: Sequence[Firm], now: int, parameters: Parameters, sample: int, stages: Sequence[str]
) -> dict[str, float]:
    """A district official un-verifies one firm and differences what their scope shows."""
    cells = Cells(firms, [now], now)
    rng = random.Random(7)
    targets = [f for f in firms if f.state(now) is not None and f.state(now).overall_c is not None]  # type: ignore[union-attr]
    chosen = rng.sample(targets, min(sample, len(targets)))
    k = parameters.min_cell
    hits = {"before": 0, "after": 0, "guess": 0, "combined": 0}
    attacked = 0
    for firm in chosen:
        members = firm.members(now)
        state = firm.state(now)
        assert state is not None and state.overall_c is not None
        truth = state.overall_c / 100
        scopes = [
            {"district": firm.district, "industry": firm.industry},
            {"district": firm.district, "size": firm.size},
            {"district": firm.district},
            {},
        ]
        estimates: dict[str, dict[str, list[tuple[float, float]]]] = {"before": {}, "after": {}}
        guess = None
        for where in scopes:
            for measure, member in members.items():
                with_firm = cells.get(now, measure, **where)
                without = Tally(measure)
                without.merge(with_firm)
                without.add(member, sign=-1)
                if without.valued < k:
                    continue  # the official sees no mean without the firm
                if measure == OVERALL and len(where) < 3 and guess is None and where:
                    # The firm's district × industry cell (scopes go finest first), else its
                    # district: the published mean of the others.
                    guess = float(mean_of(without, 0.0) or 0)
                rounding = (0.01**2 / 12) * (with_firm.valued**2 + without.valued**2)
                for name, bound in (("before", 0.0), ("after", parameters.sum_bound)):
                    m1, m2 = mean_of(with_firm, bound), mean_of(without, bound)
                    assert m1 is not None and m2 is not None
                    difference = float(m1) * with_firm.valued - float(m2) * without.valued
                    variance = rounding + 2 * bound**2 / 12
                    estimates[name].setdefault(measure, []).append((difference, variance))
        if not estimates["after"]:
            continue
        attacked += 1
        for name in ("before", "after"):
            if abs(_combine(estimates[name], stages)[0] - truth) <= 0.1:
                hits[name] += 1
        if guess is not None:
            hits["guess"] += abs(guess - truth) <= 0.1
            # The estimate weighed against the cell mean as a prior (scores spread ±0.2).
            value, variance = _combine(estimates["after"], stages)
            weight = PRIOR_SPREAD**-2
            combined = (weight * guess + value / variance) / (weight + 1 / variance)
            hits["combined"] += abs(combined - truth) <= 0.1
    return {name: hit / attacked for name, hit in hits.items()} | {"attacked": attacked}


def _combine(
    estimates: Mapping[str, list[tuple[float, float]]], stages: Sequence[str]
) -> tuple[float, float]:
    """Inverse-variance average per measure; the overall from its own figures and from the
    mean of the stage estimates, weighted by their variances."""
    per_measure = {}
    for measure, found in estimates.items():
        weights = [1 / v if v > 0 else 1e12 for _, v in found]
        value = sum(w * d for w, (d, _) in zip(weights, found, strict=True)) / sum(weights)
        per_measure[measure] = (value, 1 / sum(weights))
    parts = []
    if OVERALL in per_measure:
        parts.append(per_measure[OVERALL])
    stage_parts = [per_measure[stage_measure(s)] for s in stages if stage_measure(s) in per_measure]
    if len(stage_parts) == len(stages):
        value = statistics.fmean(v for v, _ in stage_parts)
        parts.append((value, sum(var for _, var in stage_parts) / len(stages) ** 2))
    weights = [1 / v if v > 0 else 1e12 for _, v in parts]
    value = sum(w * v for w, (v, _) in zip(weights, parts, strict=True)) / sum(weights)
    return value, 1 / sum(weights)


# --- report --------------------------------------------------------------------------------------


def _mae(values: list[float]) -> str:
    return f"{statistics.fmean(values):.3f}" if values else "–"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--attacked", type=int, default=500)
    parser.add_argument("--keys", type=int, default=1, help="Seed of the record secrets.")
    parser.add_argument(
        "--keep", action="store_true", help="Grow the existing database (no larger than --sizes)."
    )
    args = parser.parse_args()
    catalog = QuestionnaireCatalog.from_directory(ROOT / "questionnaires")
    questionnaire = catalog.get("smart-manufacturing-maturity")
    assert questionnaire is not None
    url = database_url("sqlite", fresh=not args.keep, name="utility")
    parameters = Parameters()
    now = quarters.current_quarter()
    stages = [s.id for s in questionnaire.stages]
    print(
        f"Parameters: k = {parameters.min_cell}, counts D = {parameters.count_max_noise}, "
        f"V = {parameters.count_variance}; sums B = {parameters.sum_bound} "
        f"(σ = {parameters.sum_bound / 12**0.5:.2f}); key seed {args.keys}.\n"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        started = time.perf_counter()
        firms = seeded_firms(url, questionnaire, size, args.keys)
        print(
            f"{size:,} firms ({len(firms):,} verified) in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
        by_cut, by_size, seconds, tables = accuracy(firms, questionnaire, now, parameters)
        print(f"### {size:,} seeded firms ({len(firms):,} verified)\n")
        print("| cut | cells | suppressed | mean: MAE | count: MAE | share: MAE (points) |")
        print("|---|---:|---:|---:|---:|---:|")
        for cut, errors in by_cut.items():
            print(
                f"| {cut} | {errors.cells:,} | {errors.suppressed / max(errors.cells, 1):.0%} "
                f"| {_mae(errors.mean)} | {_mae(errors.count)} | {_mae(errors.share)} |"
            )
        every = Errors(
            [v for e in by_cut.values() for v in e.mean],
            [v for e in by_cut.values() for v in e.count],
            [v for e in by_cut.values() for v in e.share],
        )
        totals = f"**{_mae(every.mean)}** | **{_mae(every.count)}** | **{_mae(every.share)}**"
        print(f"| **all** | | | {totals} |\n")
        print("| firms in the cell | cells | mean: MAE | count: MAE | share: MAE (points) |")
        print("|---|---:|---:|---:|---:|")
        for (low, high), errors in zip(SIZE_BANDS, by_size.values(), strict=True):
            label = f"{low}–{high}" if high < 10**9 else f"≥ {low}"
            maes = f"{_mae(errors.mean)} | {_mae(errors.count)} | {_mae(errors.share)}"
            print(f"| {label} | {len(errors.count):,} | {maes} |")
        result = attack(firms, now, parameters, args.attacked, stages)
        print(
            f"\nPublishing {tables} tables (every cut, city-wide and per district, current "
            f"quarter) from the cell sums took {seconds:.2f} s in Python (twice: as before "
            f"and perturbed).\n"
        )
        print(
            f"Attack (district official un-verifies one of {int(result['attacked'])} sampled "
            f"firms, differences every figure of their scope): estimate within 0.1 of the "
            f"firm's score {result['before']:.0%} before perturbation, {result['after']:.0%} "
            f"with it; guessing the mean of the firm's district × industry cell: "
            f"{result['guess']:.0%}; the estimate weighed against that guess: "
            f"{result['combined']:.0%}.\n"
        )
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f}."
    )


if __name__ == "__main__":
    main()
