"""Load without loss, and fault runs, against a real uvicorn server (2 workers, loopback only).

Run: ``.venv/bin/python benchmarks/load.py [--engine sqlite|postgresql] [--clients 32]
[--duration 30] [--read-seconds 10] [--fault none|kill|pg-restart|webhook]
[--receiver-down 60]``. Results go to docs/reliability.md.

What one run does (bounded: every phase has a deadline, then the script stops by itself):

1. A fresh database (SQLite file under var/bench/, or PostgreSQL database ``zhizao_bench_load``
   dropped and re-created), ``python -m app db upgrade``; ``uvicorn app.main:app --workers 2``
   on a free 127.0.0.1 port, in its own process group, ``ZHIZAO_ENV=development``.
2. ``--clients`` simulated SMEs (asyncio + httpx) each register a firm and its user through
   the API and sign in, then until ``--duration`` is over: create an assessment, answer it stage
   by stage (``PUT /answers`` with ``If-Match``), submit it with an ``Idempotency-Key`` and read
   the result. They retry on 409/412/429/503 and on connection errors (re-GET on 412; the same
   key on a retried submit). Every answer a 200 PUT acknowledged is remembered.
3. Reads: the same clients read results (``GET /assessments/{id}/result``) for
   ``--read-seconds``; then the floor app (benchmarks/floor_app.py, one primary-key read, same
   uvicorn flags, same database) is served in place of the app and read as long.
4. Checks, in the database: every acknowledged answer is stored with the acknowledged value,
   every submitted assessment has exactly one result row (and every acknowledged submit is
   submitted), and ``python -m app aggregates verify`` exits 0.

Faults: ``kill`` SIGKILLs the server's process group at half time and starts it again 2 s
later; ``pg-restart`` restarts the PostgreSQL cluster at half time (the server is not touched);
``webhook`` adds integrator clients (API key, firms registered with consent, submits) with an
approved webhook endpoint on a loopback receiver that stays down for ``--receiver-down``
seconds, then waits for every delivery and counts ``webhook-id``s.
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import itertools
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app.kit.db import create_db_engine  # noqa: E402
from app.models import Answer, Assessment, Result, WebhookDelivery  # noqa: E402
from scoring import Question, load_questionnaire  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
UVICORN = str(ROOT / ".venv" / "bin" / "uvicorn")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
FULL = "smart-manufacturing-maturity"
QUICK = "quick-check"
PASSWORD = "load benchmark password"
RETRY_STATUSES = {409, 412, 429, 503}
CONNECTION_ERRORS = (httpx.TransportError,)
CONSENT = {
    "given_by": "张经理 (总经理)",
    "given_at": "2026-11-20T09:00:00+08:00",
    "method": "signed_form",
    "reference": "压测 2026",
}
_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_BODIES = itertools.count(random.randint(1, 500_000))


def credit_code(region: str = "310115") -> str:
    """A structurally valid, fabricated unified social credit code (as tests/factories.py)."""
    body8 = f"MA{next(_BODIES):06d}"
    weights9 = [3, 7, 9, 10, 5, 8, 4, 2]
    value = lambda c: int(c) if c.isdigit() else ord(c) - 55  # noqa: E731
    c9 = 11 - sum(value(c) * w for c, w in zip(body8, weights9, strict=True)) % 11
    body17 = "91" + region + body8 + {10: "X", 11: "0"}.get(c9, str(c9))
    weights = [pow(3, i, 31) for i in range(17)]
    total = sum(_CHARSET.index(c) * w for c, w in zip(body17, weights, strict=True))
    return body17 + _CHARSET[(31 - total % 31) % 31]


def enterprise_payload() -> dict[str, Any]:
    return {
        "credit_code": credit_code(),
        "name": "上海压测精密机械有限公司",
        "district_code": random.choice(["310115", "310112", "310114", "310117"]),
        "industry_code": random.choice(["36", "34", "39"]),
        "employees": 120,
        "annual_revenue_cny": 45_000_000,
    }


def pick(question: Question, position: float) -> Any:
    if question.type == "number":
        assert question.min is not None and question.max is not None
        value = question.min + (question.max - question.min) * type(question.min)(str(position))
        return int(value) if value == int(value) else float(value)
    options = [o for o in question.options if not (question.type == "multi" and o.exclusive)]
    chosen = options[min(len(options) - 1, int(position * len(options)))]
    return chosen.id if question.type == "single" else [chosen.id]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


# --- server processes ----------------------------------------------------------------------------


class ServerDied(RuntimeError):
    pass


@dataclass
class Server:
    target: str
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    UVICORN,
                    self.target,
                    "--workers",
                    "2",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--no-access-log",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: SIGKILL reaches the workers
            )

    def wait_ready(self, path: str, timeout: float = 60) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process is not None and self.process.poll() is not None:
                self.process = None
                raise ServerDied(f"{self.target} exited while starting; see {self.log}")
            try:
                if httpx.get(self.url + path, timeout=2).status_code < 500:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.target} did not come up in {timeout} s; see {self.log}")

    def start_ready(self, path: str, say: Any = print) -> float:
        """Start and wait until it answers; a server that dies while starting (two fresh
        workers racing on SQLite's startup writes) is started again, at most twice."""
        for attempt in range(3):
            self.start()
            try:
                return self.wait_ready(path)
            except ServerDied:
                if attempt == 2:
                    raise
                say(f"{self.target} died while starting (see {self.log.name}); starting again")
        raise AssertionError

    def kill(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            self.process = None


def fresh_database(engine: str, name: str = "load") -> str:
    """An empty database: ``var/bench/NAME.db``, or ``zhizao_bench_NAME`` on the local server."""
    if engine == "sqlite":
        path = ROOT / "var" / "bench" / f"{name}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS zhizao_bench_{name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE zhizao_bench_{name}")
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/zhizao_bench_{name}"


def run_cli(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


# --- the simulated SMEs --------------------------------------------------------------------------


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    retries: Counter[str] = field(default_factory=Counter)
    acked: dict[tuple[str, str], Any] = field(default_factory=dict)
    submitted: set[str] = field(default_factory=set)
    unfinished: int = 0
    errors: Counter[str] = field(default_factory=Counter)


class Caller:
    """One HTTP client that retries: connection errors and 409/412/429/503 come back to the
    caller as ``None`` after a pause (the caller decides: re-GET on 412, same request else)."""

    def __init__(self, http: httpx.AsyncClient, stats: Stats, deadline: float) -> None:
        self.http, self.stats, self.deadline = http, stats, deadline

    async def call(self, op: str, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await self.http.request(method, url, **kwargs)
        except CONNECTION_ERRORS as exc:
            self.stats.retries[f"{op} {type(exc).__name__}"] += 1
            await asyncio.sleep(0.5)
            return None
        elapsed = time.perf_counter() - started
        if response.status_code in RETRY_STATUSES:
            self.stats.retries[f"{op} {response.status_code}"] += 1
            if response.status_code != 412:
                wait = float(response.headers.get("Retry-After", "0.2") or 0.2)
                await asyncio.sleep(min(wait, 2.0) * random.uniform(0.5, 1.0))
            return None
        if response.status_code >= 400:
            self.stats.errors[f"{op} {response.status_code}: {response.text[:200]}"] += 1
            return None
        self.stats.latencies[op].append(elapsed)
        return response

    async def until_ok(
        self, op: str, method: str, url: str, hard_deadline: float, **kwargs: Any
    ) -> httpx.Response:
        while time.monotonic() < hard_deadline:
            response = await self.call(op, method, url, **kwargs)
            if response is not None:
                return response
        raise TimeoutError(op)


async def sme(
    index: int,
    base: str,
    questionnaire: Any,
    stats: Stats,
    load_until: float,
    hard_deadline: float,
    created: list[tuple[dict[str, str], str]],
    headers_extra: dict[str, str] | None = None,
    integrator: bool = False,
) -> None:
    stage_of = {q.id: stage.id for stage in questionnaire.stages for q in stage.questions}
    by_id = {q.id: q for stage in questionnaire.stages for q in stage.questions}
    position = random.uniform(0.1, 0.95)
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        caller = Caller(http, stats, hard_deadline)
        headers: dict[str, str] = dict(headers_extra or {})
        if integrator:
            body = enterprise_payload() | {"consent": CONSENT}
            response = await caller.until_ok(
                "register", "POST", "/api/v1/enterprises", hard_deadline, json=body, headers=headers
            )
            enterprise_id = response.json()["id"]
        else:
            email = f"sme{index}-{uuid.uuid4().hex[:8]}@example.com"
            body = {
                "enterprise": enterprise_payload(),
                "user": {"email": email, "password": PASSWORD},
            }
            response = await caller.until_ok(
                "register", "POST", "/api/v1/accounts/register", hard_deadline, json=body
            )
            response = await caller.until_ok(
                "login",
                "POST",
                "/api/v1/session",
                hard_deadline,
                json={"email": email, "password": PASSWORD},
            )
            # Registration answers alike for every address; the firm is the signed-in user's.
            enterprise_id = response.json()["user"]["enterprise_id"]
            headers["X-CSRF-Token"] = response.json()["csrf_token"]
        while time.monotonic() < load_until:
            try:
                await one_assessment(
                    caller,
                    headers,
                    enterprise_id,
                    stage_of,
                    by_id,
                    position,
                    hard_deadline,
                    stats,
                    created,
                    questionnaire.id,
                )
            except TimeoutError:
                stats.unfinished += 1
                return


async def one_assessment(
    caller: Caller,
    headers: dict[str, str],
    enterprise_id: str,
    stage_of: dict[str, str],
    by_id: dict[str, Question],
    position: float,
    hard_deadline: float,
    stats: Stats,
    created: list[tuple[dict[str, str], str]],
    questionnaire_id: str = FULL,
) -> None:
    response = await caller.until_ok(
        "create",
        "POST",
        f"/api/v1/enterprises/{enterprise_id}/assessments",
        hard_deadline,
        json={"questionnaire_id": questionnaire_id},
        headers=headers,
    )
    view = response.json()
    etag = response.headers["ETag"]
    aid = view["id"]
    while view["next_stage"] is not None:
        stage = view["next_stage"]
        todo = {
            q: pick(by_id[q], position)
            for q in view["applicable_questions"]
            if stage_of.get(q) == stage and q not in view["answers"]
        }
        if not todo:
            break
        response = await caller.call(
            "answer",
            "PUT",
            f"/api/v1/assessments/{aid}/answers",
            json={"answers": todo},
            headers=headers | {"If-Match": etag},
        )
        if response is None:  # 412 (or any retry): read the assessment again, recompute
            if time.monotonic() > hard_deadline:
                raise TimeoutError("answer")
            response = await caller.until_ok(
                "get", "GET", f"/api/v1/assessments/{aid}", hard_deadline, headers=headers
            )
        else:
            for q, value in todo.items():
                stats.acked[(aid, q)] = value
        view, etag = response.json(), response.headers["ETag"]
    idem = str(uuid.uuid4())
    while True:
        response = await caller.call(
            "submit",
            "POST",
            f"/api/v1/assessments/{aid}/submit",
            headers=headers | {"If-Match": etag, "Idempotency-Key": idem},
        )
        if response is not None:
            break
        if time.monotonic() > hard_deadline:
            raise TimeoutError("submit")
        # A 412 after an unanswered first try means it was submitted: the same key replays.
        got = await caller.until_ok(
            "get", "GET", f"/api/v1/assessments/{aid}", hard_deadline, headers=headers
        )
        etag = got.headers["ETag"]
        if got.json()["status"] == "submitted":
            response = await caller.until_ok(
                "submit",
                "POST",
                f"/api/v1/assessments/{aid}/submit",
                hard_deadline,
                headers=headers | {"If-Match": etag, "Idempotency-Key": idem},
            )
            break
    stats.submitted.add(aid)
    await caller.until_ok(
        "result", "GET", f"/api/v1/assessments/{aid}/result", hard_deadline, headers=headers
    )
    created.append((headers, aid))


async def readers(
    base: str,
    path_of: Any,
    targets: list[tuple[dict[str, str], str]],
    clients: int,
    seconds: float,
    op: str,
) -> tuple[float, list[float], int]:
    """``clients`` loops reading ``path_of(id)`` for ``seconds``: (req/s, latencies, failures)."""
    latencies: list[float] = []
    failures = 0
    until = time.monotonic() + seconds

    async def loop(i: int) -> None:
        nonlocal failures
        headers, aid = targets[i % len(targets)]
        async with httpx.AsyncClient(
            base_url=base, timeout=30, cookies=headers.get("_cookies")
        ) as http:
            while time.monotonic() < until:
                started = time.perf_counter()
                response = await http.get(path_of(aid))
                if response.status_code == 200:
                    latencies.append(time.perf_counter() - started)
                else:
                    failures += 1

    started = time.monotonic()
    await asyncio.gather(*(loop(i) for i in range(clients)))
    return len(latencies) / (time.monotonic() - started), latencies, failures


# --- the webhook receiver ------------------------------------------------------------------------


class Receiver:
    def __init__(self, port: int) -> None:
        self.port = port
        self.ids: list[str] = []
        self.started = 0.0
        self._server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/zhizao"

    def start(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("content-length", "0")))
                body_type = self.headers.get("webhook-id", "")
                receiver.ids.append(body_type)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.started = time.monotonic()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def set_up_integrator(base: str, env: dict[str, str], receiver: Receiver) -> tuple[str, str]:
    """An API client (CLI), an admin (CLI), a webhook endpoint on the receiver, approved."""
    out = run_cli(
        env,
        "create-api-client",
        "--name",
        "压测集成方",
        "--scope",
        "enterprises:write",
        "--scope",
        "assessments:write",
        "--scope",
        "assessments:read",
    )
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip().splitlines()[-1]
    admin_email = f"admin-{uuid.uuid4().hex[:6]}@example.com"
    out = run_cli(
        env,
        "create-user",
        "--email",
        admin_email,
        "--role",
        "admin",
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert out.returncode == 0, out.stderr
    with httpx.Client(base_url=base, timeout=30) as http:
        created = http.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "description": "压测"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert created.status_code == 201, created.text
        endpoint_id = created.json()["id"]
        login = http.post("/api/v1/session", json={"email": admin_email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        approved = http.post(
            f"/api/v1/admin/webhooks/{endpoint_id}/approve",
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        )
        assert approved.status_code == 200, approved.text
    return key, endpoint_id


# --- one run -------------------------------------------------------------------------------------


def summary(stats: Stats, seconds: float) -> list[str]:
    lines = [
        "| operation | ok | per s | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for op in ("register", "login", "create", "get", "answer", "submit", "result"):
        values = stats.latencies.get(op, [])
        if not values:
            continue
        lines.append(
            f"| {op} | {len(values)} | {len(values) / seconds:.1f} | "
            f"{percentile(values, 50) * 1000:.1f} | {percentile(values, 95) * 1000:.1f} | "
            f"{percentile(values, 99) * 1000:.1f} |"
        )
    return lines


def check_database(url: str, stats: Stats, env: dict[str, str]) -> dict[str, Any]:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        stored = {
            (str(a), q): v
            for a, q, v in conn.execute(
                select(Answer.assessment_id, Answer.question_id, Answer.value)
            )
        }
        results = dict(
            conn.execute(
                select(Result.assessment_id, func.count()).group_by(Result.assessment_id)
            ).all()
        )
        statuses = dict(conn.execute(select(Assessment.id, Assessment.status)).all())
    engine.dispose()
    results = {str(k): v for k, v in results.items()}
    statuses = {str(k): v for k, v in statuses.items()}
    missing = [k for k, v in stats.acked.items() if stored.get(k) != v]
    submitted = [a for a, s in statuses.items() if s == "submitted"]
    wrong_results = [a for a in submitted if results.get(a) != 1]
    orphan_results = [a for a in results if statuses.get(a) != "submitted"]
    unacked_submit = [a for a in stats.submitted if statuses.get(a) != "submitted"]
    verify = run_cli(env, "aggregates", "verify")
    return {
        "acknowledged answers": len(stats.acked),
        "acknowledged answers missing": len(missing),
        "assessments": len(statuses),
        "submitted": len(submitted),
        "acknowledged submits": len(stats.submitted),
        "acknowledged submits not submitted": len(unacked_submit),
        "submitted without exactly one result": len(wrong_results),
        "results of unsubmitted assessments": len(orphan_results),
        "aggregates verify exit": verify.returncode,
        "aggregates verify says": (verify.stdout + verify.stderr).strip().splitlines()[-1:],
    }


async def run(args: argparse.Namespace) -> int:
    url = fresh_database(args.engine)
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    env = os.environ | {
        "ZHIZAO_DATABASE_URL": url,
        "ZHIZAO_ENV": "development",
        "ZHIZAO_LOG_LEVEL": "WARNING",
    }
    receiver: Receiver | None = None
    if args.fault == "webhook":
        env |= {
            "ZHIZAO_WEBHOOK_WORKER": "embedded",
            "ZHIZAO_WEBHOOK_ALLOW_HTTP": "true",
            "ZHIZAO_WEBHOOK_ALLOW_LOOPBACK": "true",
            "ZHIZAO_WEBHOOK_POLL_SECONDS": "1",
            "ZHIZAO_WEBHOOK_BACKOFF_BASE_SECONDS": "2",
            "ZHIZAO_WEBHOOK_BACKOFF_MAX_SECONDS": "15",
            "ZHIZAO_WEBHOOK_TIMEOUT_SECONDS": "5",
        }
    upgrade = run_cli(env, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    log = logs / f"load-{args.engine}-{args.fault}.log"
    log.unlink(missing_ok=True)
    server = Server("app.main:app", env, log)
    report: list[str] = []
    say = lambda line: (print(line, flush=True), report.append(line))  # noqa: E731
    try:
        say(f"## {args.engine}, {args.clients} clients, {args.duration:.0f} s, fault: {args.fault}")
        say(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, load average before: "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        say(f"server up in {server.start_ready('/healthz', say):.1f} s")
        questionnaire = load_questionnaire(ROOT / "questionnaires" / f"{FULL}.yaml")
        stats = Stats()
        created: list[tuple[dict[str, str], str]] = []
        start = time.monotonic()
        load_until = start + args.duration
        hard_deadline = load_until + args.grace
        tasks = [
            sme(i, server.url, questionnaire, stats, load_until, hard_deadline, created)
            for i in range(args.clients)
        ]
        key = ""
        if args.fault == "webhook":
            receiver = Receiver(free_port())  # not started: the receiver is down
            key, _ = set_up_integrator(server.url, env, receiver)
            quick = load_questionnaire(ROOT / "questionnaires" / f"{QUICK}.yaml")
            tasks += [
                sme(
                    10_000 + i,
                    server.url,
                    quick,
                    stats,
                    load_until,
                    hard_deadline,
                    created,
                    {"Authorization": f"Bearer {key}"},
                    integrator=True,
                )
                for i in range(args.integrators)
            ]
        fault_task = asyncio.create_task(fault(args, server, start, receiver, say))
        await asyncio.gather(*tasks)
        load_seconds = time.monotonic() - start
        say(
            f"load phase: {load_seconds:.1f} s, {len(stats.submitted)} assessments submitted "
            f"({len(stats.submitted) / load_seconds:.2f}/s), {len(stats.acked)} answers "
            f"acknowledged, {stats.unfinished} clients gave up"
        )
        report.extend(summary(stats, load_seconds))
        print("\n".join(summary(stats, load_seconds)))
        say(f"retries: {dict(stats.retries.most_common())}")
        if stats.errors:
            say(f"errors (not retried): {dict(stats.errors.most_common(10))}")
        await fault_task

        # Reads: the result endpoint, then the floor app, same clients, same flags, same DB.
        reader_targets = await reading_targets(server.url, questionnaire, args.read_targets)
        rps, lat, failed = await readers(
            server.url,
            lambda a: f"/api/v1/assessments/{a}/result",
            reader_targets,
            args.clients,
            args.read_seconds,
            "result",
        )
        server.stop()
        floor = Server("benchmarks.floor_app:app", env, logs / "floor.log")
        floor.start_ready(f"/floor/{reader_targets[0][1]}", say)
        frps, flat, ffailed = await readers(
            floor.url,
            lambda a: f"/floor/{a}",
            reader_targets,
            args.clients,
            args.read_seconds,
            "floor",
        )
        floor.stop()
        say("")
        say(
            f"| read ({args.clients} clients, {args.read_seconds:.0f} s) | req/s | p50 ms "
            "| p95 ms | p99 ms | failed |"
        )
        say("|---|---:|---:|---:|---:|---:|")
        for name, r, lt, f in (
            ("GET /assessments/{id}/result", rps, lat, failed),
            ("floor: bare FastAPI + SQLAlchemy PK read", frps, flat, ffailed),
        ):
            say(
                f"| {name} | {r:.1f} | {percentile(lt, 50) * 1000:.1f} | "
                f"{percentile(lt, 95) * 1000:.1f} | {percentile(lt, 99) * 1000:.1f} | {f} |"
            )
        say(f"result / floor throughput: {rps / frps * 100:.0f} % (target ≥ 50 %)")
        answer_p95 = percentile(stats.latencies.get("answer", []), 95) * 1000
        say(f"saving answers p95: {answer_p95:.1f} ms at {args.clients} clients (target ≤ 50 ms)")

        # The webhook deliveries need the app (its embedded workers) running: start it again.
        if receiver is not None:
            server.start_ready("/healthz", say)
            await wait_for_deliveries(url, receiver, stats, args, say)
            server.stop()
            receiver.stop()

        checks = check_database(url, stats, env)
        say("")
        for name, value in checks.items():
            say(f"- {name}: {value}")
        clean = (
            checks["acknowledged answers missing"] == 0
            and checks["submitted without exactly one result"] == 0
            and checks["results of unsubmitted assessments"] == 0
            and checks["acknowledged submits not submitted"] == 0
            and checks["aggregates verify exit"] == 0
            and stats.unfinished == 0
        )
        say(f"**{'CLEAN' if clean else 'NOT CLEAN'}**")
        if args.out:
            with Path(args.out).open("a", encoding="utf-8") as out:
                out.write("\n".join(report) + "\n\n")
        return 0 if clean else 1
    finally:
        server.stop()
        if receiver is not None:
            receiver.stop()


async def reading_targets(
    base: str, questionnaire: Any, n: int
) -> list[tuple[dict[str, str], str]]:
    """``n`` fresh SMEs with one submitted assessment each, whose session cookies the read
    phase reuses (each reading client holds one owner's cookie)."""
    targets: list[tuple[dict[str, str], str]] = []
    stats = Stats()

    async def one(i: int) -> None:
        created: list[tuple[dict[str, str], str]] = []
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            caller = Caller(http, stats, time.monotonic() + 120)
            email = f"reader{i}-{uuid.uuid4().hex[:8]}@example.com"
            body = {
                "enterprise": enterprise_payload(),
                "user": {"email": email, "password": PASSWORD},
            }
            r = await caller.until_ok(
                "register", "POST", "/api/v1/accounts/register", caller.deadline, json=body
            )
            r = await caller.until_ok(
                "login",
                "POST",
                "/api/v1/session",
                caller.deadline,
                json={"email": email, "password": PASSWORD},
            )
            enterprise_id = r.json()["user"]["enterprise_id"]
            headers = {"X-CSRF-Token": r.json()["csrf_token"]}
            stage_of = {q.id: s.id for s in questionnaire.stages for q in s.questions}
            by_id = {q.id: q for s in questionnaire.stages for q in s.questions}
            await one_assessment(
                caller,
                headers,
                enterprise_id,
                stage_of,
                by_id,
                0.6,
                caller.deadline,
                stats,
                created,
            )
            cookies = dict(http.cookies.items())
            targets.append(({"_cookies": cookies}, created[0][1]))  # type: ignore[dict-item]

    await asyncio.gather(*(one(i) for i in range(n)))
    return targets


async def fault(
    args: argparse.Namespace, server: Server, start: float, receiver: Receiver | None, say: Any
) -> None:
    if args.fault == "none":
        return
    if args.fault == "webhook":
        assert receiver is not None
        await asyncio.sleep(max(0.0, start + args.receiver_down - time.monotonic()))
        receiver.start()
        say(f"webhook receiver up after {time.monotonic() - start:.1f} s down")
        return
    await asyncio.sleep(max(0.0, start + args.duration / 2 - time.monotonic()))
    if args.fault == "kill":
        at = time.monotonic() - start
        await asyncio.to_thread(server.kill)
        say(f"SIGKILLed the server's process group at {at:.1f} s")
        await asyncio.sleep(2)
        up = await asyncio.to_thread(server.start_ready, "/healthz", say)
        say(f"restarted; serving again {2 + up:.1f} s after the kill")
    elif args.fault == "pg-restart":
        at = time.monotonic() - start
        cluster = sorted(os.listdir("/etc/postgresql"))[-1]
        started = time.monotonic()
        done = await asyncio.to_thread(
            subprocess.run,
            ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"],
            capture_output=True,
            text=True,
        )
        say(
            f"restarted PostgreSQL {cluster} at {at:.1f} s (exit {done.returncode}, "
            f"{time.monotonic() - started:.1f} s); the app server was not touched"
        )


async def wait_for_deliveries(
    url: str, receiver: Receiver, stats: Stats, args: argparse.Namespace, say: Any
) -> None:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        expected = conn.execute(select(func.count()).select_from(WebhookDelivery)).scalar_one()
    until = time.monotonic() + args.delivery_wait
    while time.monotonic() < until and len(set(receiver.ids)) < expected:
        await asyncio.sleep(1)
    with engine.connect() as conn:
        by_status = dict(
            conn.execute(
                select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
            ).all()
        )
        ids = set(conn.execute(select(WebhookDelivery.id)).scalars())
        attempts = Counter(conn.execute(select(WebhookDelivery.attempts)).scalars())
    engine.dispose()
    received = Counter(receiver.ids)
    integrator_submits = expected
    say(
        f"webhooks: {integrator_submits} outbox rows (one per integrator submit), "
        f"{len(receiver.ids)} POSTs received, {len(received)} distinct webhook-ids, "
        f"{sum(1 for c in received.values() if c > 1)} ids received more than once, "
        f"{len(ids - set(received))} never received, {len(set(received) - ids)} unknown ids; "
        f"delivery rows by status: {by_status}; rows by attempts made: "
        f"{dict(sorted(attempts.items()))}; all in {time.monotonic() - receiver.started:.0f} s "
        f"after the receiver came up"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--grace", type=float, default=60, help="Time to finish after --duration.")
    parser.add_argument("--read-seconds", type=float, default=10)
    parser.add_argument("--read-targets", type=int, default=8)
    parser.add_argument(
        "--fault", choices=["none", "kill", "pg-restart", "webhook"], default="none"
    )
    parser.add_argument("--receiver-down", type=float, default=60)
    parser.add_argument("--integrators", type=int, default=4)
    parser.add_argument("--delivery-wait", type=float, default=90)
    parser.add_argument("--out", help="Append the markdown report to this file.")
    args = parser.parse_args()
    if args.fault == "pg-restart" and args.engine != "postgresql":
        parser.error("--fault pg-restart needs --engine postgresql")
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
