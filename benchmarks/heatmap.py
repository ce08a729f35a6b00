"""Heatmap publication time and the latency of reading a published table at 10k, 100k and 1M
synthetic firms on SQLite and PostgreSQL, the bulk seeding time, and submit latency with the
aggregate upkeep.

Run: ``.venv/bin/python benchmarks/heatmap.py [--engines sqlite,postgresql]
[--sizes 10000,100000,1000000] [--requests 20]``. Prints a markdown table for docs/benchmarks.md.

Each engine gets one database (SQLite file var/bench/NAME.db, or under ``--sqlite-dir``;
PostgreSQL database ``zhizao_bench_NAME`` on the local server; ``--name``, default heatmap;
``--drop`` removes both at the end), grown in place: seeded
to the first size with ``zhizao seed-demo``'s bulk path, measured, then extended to the next
size. Requests go through
the whole app (TestClient: routing, session cookie, access check, disclosure control, audit
write and commit) as a city-wide official, over every cut; latency is wall-clock per request.
Before them, one publication (``heatmaps.service.publish``: every cut, city-wide and for each
district, the current quarter and every closed quarter) is timed; "read p50" is
``service.heatmap`` alone (the stored table's read and its rendering into the response model,
without HTTP, session or commit).
Submit latency is measured on ``POST /assessments/{id}/submit`` of real, verified firms (the
upkeep writes into cells that already hold the seeded firms), with the upkeep's own share timed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import event  # noqa: E402

from app import hooks  # noqa: E402
from app.accounts import service as accounts_service  # noqa: E402
from app.demo.synthetic import seed_synthetic  # noqa: E402
from app.enterprises import service as enterprise_service  # noqa: E402
from app.enterprises.schemas import EnterpriseCreate  # noqa: E402
from app.heatmaps import service as heatmap_service  # noqa: E402
from app.heatmaps import upkeep  # noqa: E402
from app.heatmaps.perturbation import Parameters  # noqa: E402
from app.kit.db import create_db_engine, create_session_factory  # noqa: E402
from app.kit.migrations import upgrade  # noqa: E402
from app.kit.principal import CLI, Principal  # noqa: E402
from app.kit.settings import Environment, Settings  # noqa: E402
from app.main import create_app  # noqa: E402
from app.questionnaires.catalog import QuestionnaireCatalog  # noqa: E402
from app.verification import service as verification_service  # noqa: E402
from scoring import Questionnaire, applicable_questions  # noqa: E402

PASSWORD = "benchmark password 1"
CUTS = [
    ("district-stage", "mean"),
    ("district-industry", "mean"),
    ("industry-stage", "share"),
    ("size-stage", "mean"),
    ("district-rung", "count"),
    ("district-quarter", "mean"),
]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def database_url(
    engine: str, fresh: bool, name: str = "heatmap", sqlite_dir: Path = ROOT / "var" / "bench"
) -> str:
    if engine == "sqlite":
        path = sqlite_dir / f"{name}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    database = f"zhizao_bench_{name}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if fresh and exists:
            c.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
            exists = None
        if not exists:
            c.execute(f'CREATE DATABASE "{database}"')
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + database


def answers_for(questionnaire: Questionnaire, position: float) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for _ in range(3):
        for question in applicable_questions(questionnaire, answers, {}):
            if question.id in answers:
                continue
            if question.type == "number":
                assert question.min is not None and question.max is not None
                answers[question.id] = (
                    float(question.min) + (float(question.max) - float(question.min)) * position
                )
            else:
                options = [
                    o for o in question.options if not (question.type == "multi" and o.exclusive)
                ]
                chosen = options[min(len(options) - 1, int(position * len(options)))].id
                answers[question.id] = chosen if question.type == "single" else [chosen]
        keep = {q.id for q in applicable_questions(questionnaire, answers, {})}
        answers = {k: v for k, v in answers.items() if k in keep}
    return answers


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def drop_database(engine: str, url: str) -> None:
    if engine == "sqlite":
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def seed(url: str, questionnaire: Questionnaire, size: int) -> tuple[float, int]:
    engine = create_db_engine(url)
    if engine.dialect.name == "sqlite":
        # The seeding connection only (the engine is disposed below; the measured app uses
        # the service's own pragmas): a 2 GB page cache keeps the growing random-UUID indexes
        # of one million firms in memory for the single seeding transaction instead of
        # re-reading them and spilling dirty pages to the WAL (2 MB by default).
        event.listen(
            engine,
            "connect",
            lambda dbapi_connection, _record: dbapi_connection.execute(
                "PRAGMA cache_size=-2000000"
            ),
        )
    started = time.perf_counter()
    with engine.begin() as connection:
        report = seed_synthetic(
            connection,
            questionnaire,
            enterprises=size,
            seed=2026,
            progress=lambda line: print(f"    … {line}", file=sys.stderr),
        )
    if engine.dialect.name == "postgresql":
        # What autovacuum would do shortly after a bulk load: without it the upserted cell
        # rows leave dead versions and stale statistics behind.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return time.perf_counter() - started, report.created


def measure(url: str, questionnaire: Questionnaire, requests: int, size: int) -> dict[str, Any]:
    settings = Settings(
        ENV=Environment.testing,
        DATABASE_URL=url,
        SECRET_KEY="benchmark-secret-benchmark-secret-1234",
        WEBHOOK_WORKER="off",
    )
    hooks.install()  # verification below publishes enterprise.verified
    engine = create_db_engine(url)
    sessions = create_session_factory(engine)
    tag = f"{engine.dialect.name}{size}{time.time_ns() % 10**6}"
    with sessions() as session:
        official = accounts_service.create_user(
            session, CLI, email=f"city-{tag}@bench.local", password=PASSWORD, role="official"
        )
        firms = []
        for n in range(5):
            firm = enterprise_service.add_enterprise(
                session,
                CLI,
                EnterpriseCreate(
                    credit_code=_code(size, n, engine.dialect.name),
                    name=f"基准企业{n}",
                    district_code="310115",
                    industry_code="34",
                    employees=120,
                    annual_revenue_cny=45_000_000,
                ),
            )
            firms.append(firm)
        session.commit()
        for firm in firms:
            verification_service.set_verified(session, CLI, firm.id, True)
            session.commit()
        users = [
            accounts_service.create_user(
                session,
                CLI,
                email=f"firm{n}-{tag}@bench.local",
                password=PASSWORD,
                role="enterprise",
                enterprise_id=firm.id,
            )
            for n, firm in enumerate(firms)
        ]
        session.commit()
    catalog = QuestionnaireCatalog.from_directory(ROOT / "questionnaires")
    with sessions() as session:
        started = time.perf_counter()
        report = heatmap_service.publish(session, catalog, Parameters())
        session.commit()
        publish_seconds = time.perf_counter() - started
    app = create_app(settings)
    latencies: dict[str, list[float]] = {}
    cpu_times: list[float] = []
    submit_times: list[float] = []
    read_latencies: list[float] = []
    upkeep_times: list[float] = []
    original = upkeep.record_submission

    def timed(*args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        original(*args, **kwargs)
        upkeep_times.append(time.perf_counter() - started)

    with TestClient(app) as client:
        client.post("/api/v1/session", json={"email": official.email, "password": PASSWORD})
        for cut, metric in CUTS:  # warm-up
            client.get("/api/v1/heatmaps", params={"cut": cut, "metric": metric})
        for _ in range(requests):
            for cut, metric in CUTS:
                started, cpu = time.perf_counter(), time.process_time()
                response = client.get("/api/v1/heatmaps", params={"cut": cut, "metric": metric})
                latencies.setdefault(cut, []).append(time.perf_counter() - started)
                cpu_times.append(time.process_time() - cpu)
                assert response.status_code == 200, response.text
        with sessions() as session:
            viewer = Principal(kind="user", id=official.id, role="official")
            for _ in range(requests):
                for cut, metric in CUTS:
                    started = time.perf_counter()
                    heatmap_service.heatmap(
                        session,
                        viewer,
                        catalog,
                        settings,
                        heatmap_service.HeatmapQuery(cut=cut, metric=metric),
                        "zh",
                    )
                    read_latencies.append(time.perf_counter() - started)
                    session.rollback()
        upkeep.record_submission = timed  # type: ignore[assignment]  # app.hooks looks it up per call
        try:
            for round_ in range(4):
                for user in users:
                    firm_client = TestClient(app)  # the outer client ran the lifespan
                    if True:
                        login = firm_client.post(
                            "/api/v1/session", json={"email": user.email, "password": PASSWORD}
                        )
                        firm_client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
                        created = firm_client.post(
                            f"/api/v1/enterprises/{user.enterprise_id}/assessments",
                            json={"questionnaire_id": questionnaire.id},
                        ).json()
                        put = firm_client.put(
                            f"/api/v1/assessments/{created['id']}/answers",
                            json={"answers": answers_for(questionnaire, 0.2 + 0.15 * round_)},
                            headers={"If-Match": created["etag"]},
                        )
                        assert put.status_code == 200, put.text
                        started = time.perf_counter()
                        submitted = firm_client.post(
                            f"/api/v1/assessments/{created['id']}/submit",
                            headers={"If-Match": put.headers["ETag"]},
                        )
                        submit_times.append(time.perf_counter() - started)
                        assert submitted.status_code == 200, submitted.text
        finally:
            upkeep.record_submission = original  # type: ignore[assignment]
    engine.dispose()
    every = [v for values in latencies.values() for v in values]
    return {
        "p50": statistics.median(every) * 1000,
        "p95": percentile(every, 0.95) * 1000,
        # CPU of this process per request (app + SQLite, which runs in-process; PostgreSQL's
        # own work is in its server process and not included).
        "cpu_p50": statistics.median(cpu_times) * 1000,
        "by_cut": {cut: statistics.median(v) * 1000 for cut, v in latencies.items()},
        "read_p50": statistics.median(read_latencies) * 1000,
        "publish_seconds": publish_seconds,
        "tables": report.tables,
        "submit_p50": statistics.median(submit_times) * 1000,
        "upkeep_p50": statistics.median(upkeep_times) * 1000,
    }


def _code(size: int, n: int, dialect: str) -> str:
    from app.demo.synthetic import synthetic_credit_code

    # Outside the synthetic range (indexes ≥ 9,000,000), unique per run and firm.
    return synthetic_credit_code(9_000_000 + (time.time_ns() // 1000) % 900_000 + n, "310115")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="Grow the existing databases.")
    parser.add_argument(
        "--name", default="heatmap", help="Database name: var/bench/NAME.db, zhizao_bench_NAME."
    )
    parser.add_argument(
        "--sqlite-dir", type=Path, default=ROOT / "var" / "bench", help="Where NAME.db goes."
    )
    parser.add_argument("--drop", action="store_true", help="Remove the databases after measuring.")
    args = parser.parse_args()
    catalog = QuestionnaireCatalog.from_directory(ROOT / "questionnaires")
    questionnaire = catalog.get("smart-manufacturing-maturity")
    assert questionnaire is not None
    rows = []
    for engine_name in args.engines.split(","):
        url = database_url(
            engine_name, fresh=not args.keep, name=args.name, sqlite_dir=args.sqlite_dir
        )
        engine = create_db_engine(url)
        upgrade(engine)
        with create_session_factory(engine)() as session:
            catalog.record_published(session)
            session.commit()
        engine.dispose()
        seeded_total = 0.0
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"{engine_name}: seeding to {size:,} firms", file=sys.stderr)
            seconds, created = seed(url, questionnaire, size)
            seeded_total += seconds
            print(f"{engine_name}: measuring at {size:,} firms", file=sys.stderr)
            result = measure(url, questionnaire, args.requests, size)
            rows.append((engine_name, size, created, seconds, seeded_total, result))
            print(_row(rows[-1]), file=sys.stderr)
        if args.drop:
            drop_database(engine_name, url)
    print(
        f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {args.requests} rounds of {len(CUTS)} cuts per size; "
        f"load average at the end {os.getloadavg()[0]:.1f}.\n"
    )
    print(
        "| engine | firms | seeding (this step / cumulative) | heatmap p50 | heatmap p95 "
        "| slowest cut p50 | CPU p50 | read p50 | publication | submit p50 | upkeep in submit p50 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(_row(row))
    for engine_name in args.engines.split(","):
        sized = [r for r in rows if r[0] == engine_name]
        if len(sized) >= 2:
            print(
                f"\n{engine_name}: p50 growth {sized[0][1]:,} → {sized[-1][1]:,} firms: "
                f"{sized[-1][5]['p50'] / sized[0][5]['p50']:.2f}×"
            )


def _row(row: tuple[Any, ...]) -> str:
    engine_name, size, created, seconds, total, result = row
    slowest = max(result["by_cut"].items(), key=lambda item: item[1])
    return (
        f"| {engine_name} | {size:,} | {seconds:.0f} s / {total:.0f} s "
        f"(+{created:,} firms) | {result['p50']:.1f} ms | {result['p95']:.1f} ms "
        f"| {slowest[1]:.1f} ms ({slowest[0]}) | {result['cpu_p50']:.1f} ms "
        f"| {result['read_p50']:.1f} ms "
        f"| {result['publish_seconds']:.1f} s ({result['tables']:,} tables) "
        f"| {result['submit_p50']:.1f} ms "
        f"| {result['upkeep_p50']:.2f} ms |"
    )


if __name__ == "__main__":
    main()
