"""Scoring throughput on one core: full-questionnaire scorings/s and roadmap computations/s.

Run: ``.venv/bin/python benchmarks/scoring.py [--seconds N]``. Prints a markdown table for
docs/benchmarks.md. Answers are generated deterministically (seeded) so runs are comparable:
every applicable question answered, a mix of levels, discrete and process firms.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scoring import (  # noqa: E402
    Questionnaire,
    _native,
    applicable_questions,
    load_questionnaire,
    roadmap,
    score,
)
from scoring.models import AnswerValue  # noqa: E402

QUESTIONNAIRE = ROOT / "questionnaires" / "smart-manufacturing-maturity.v2.yaml"


def random_answers(questionnaire: Questionnaire, rng: random.Random) -> dict[str, AnswerValue]:
    """A complete, valid answer set: questions answered in order so applies_if sees earlier ones."""
    answers: dict[str, AnswerValue] = {}
    for question in questionnaire.questions:
        if question not in applicable_questions(questionnaire, answers):
            continue
        if question.type == "single":
            answers[question.id] = rng.choice(question.options).id
        elif question.type == "multi":
            plain = [option.id for option in question.options if not option.exclusive]
            answers[question.id] = rng.sample(plain, rng.randint(1, len(plain)))
        else:
            assert question.min is not None and question.max is not None
            low, high = int(question.min), int(question.max)
            answers[question.id] = Decimal(rng.randint(low, high))
    return answers


def measure(run: Callable[[int], object], count: int, seconds: float) -> tuple[float, float]:
    """Calls per CPU-second and per wall-second of ``run(i)`` over ``count`` inputs.

    CPU time (``time.process_time``) is what one core delivers even when other processes share
    the machine; wall time shows what this run actually saw.
    """
    done = 0
    cpu_start = time.process_time()
    wall_start = time.perf_counter()
    while True:
        for i in range(count):
            run(i)
        done += count
        cpu = time.process_time() - cpu_start
        if cpu >= seconds:
            return done / cpu, done / (time.perf_counter() - wall_start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument("--sets", type=int, default=200, help="distinct answer sets")
    parser.add_argument(
        "--questionnaire", type=Path, default=QUESTIONNAIRE, help="questionnaire YAML (default v2)"
    )
    parser.add_argument(
        "--passes",
        type=int,
        default=0,
        help="only score every set with the roadmap this many times, print nothing: for "
        "instruction counts under `valgrind --tool=callgrind`, which the machine's load does "
        "not change (docs/benchmarks.md)",
    )
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    questionnaire = load_questionnaire(args.questionnaire)
    rng = random.Random(20240601)
    sets = [random_answers(questionnaire, rng) for _ in range(args.sets)]
    if args.passes:
        for _ in range(args.passes):
            for answers in sets:
                score(questionnaire, answers)
        return
    results = [score(questionnaire, answers, with_roadmap=False) for answers in sets]
    answered = sum(len(answers) for answers in sets) / len(sets)

    rows = [
        (
            "score (validate + stages + overall + rung), no roadmap",
            measure(
                lambda i: score(questionnaire, sets[i], with_roadmap=False),
                len(sets),
                args.seconds,
            ),
        ),
        (
            "roadmap alone (least-effort plan, ideas, why-not-higher)",
            measure(
                lambda i: roadmap(questionnaire, sets[i], None, results[i]),
                len(sets),
                args.seconds,
            ),
        ),
        (
            "score with roadmap (what the API and CLI return)",
            measure(lambda i: score(questionnaire, sets[i]), len(sets), args.seconds),
        ),
        (
            "score + to_dict('zh') (JSON-ready result)",
            measure(lambda i: score(questionnaire, sets[i]).to_dict("zh"), len(sets), args.seconds),
        ),
    ]

    print(
        f"questionnaire: {questionnaire.id} v{questionnaire.version}, "
        f"{len(questionnaire.questions)} questions, {answered:.1f} answered on average, "
        f"{len(sets)} answer sets"
    )
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores "
        f"visible, pinned to one; load average {os.getloadavg()[0]:.1f}; "
        f"{date.today().isoformat()}"
    )
    print(
        "scoring: "
        + (
            "compiled by mypyc (make install)"
            if _native.compiled()
            else "Python source (not compiled)"
        )
    )
    print()
    print("| operation | per CPU-second (one core) | µs CPU per call | per wall-second |")
    print("|---|---:|---:|---:|")
    for name, (rate, wall) in rows:
        print(f"| {name} | {rate:,.0f} | {1e6 / rate:,.0f} | {wall:,.0f} |")


if __name__ == "__main__":
    main()
