"""HTTP throughput of the service beside the framework floor, measured in the same run.

Run: ``make bench`` or ``.venv/bin/python benchmarks/endpoints.py [--engines sqlite,postgresql]
[--duration 3] [--only result,healthz] [--firms 500] [--submit-drafts 150] [--profile]``.
Prints one markdown table per engine for docs/benchmarks.md; ``--profile`` also samples the
service with py-spy during each endpoint's run and prints where its time went (stderr).

What one run does, per engine:

1. A fresh database (SQLite file ``var/bench/http.db``, or PostgreSQL database
   ``zhizao_bench_http`` dropped and re-created on 127.0.0.1:5432), ``zhizao db upgrade``,
   ``zhizao seed-demo --enterprises N`` (synthetic verified firms for the heatmaps),
   ``zhizao heatmaps publish`` and ``zhizao create-api-client`` (an integrator key with every
   scope).
2. Two servers, each **one uvicorn worker pinned to core 0** (``taskset -c 0``): the service
   (``app.main:app``) and the floor (``benchmarks/floor_app.py``: bare FastAPI + SQLAlchemy, one
   primary-key read per request), on the same database. They take turns: only one is loaded at a
   time. The embedded worker is off (``ZHIZAO_WEBHOOK_WORKER=off``) so nothing else runs on core
   0, and the API rate limit is raised out of the way (``ZHIZAO_API_RATE_LIMIT``): its check
   still runs on every call, it just never says 429.
3. Through the API (httpx): the integrator registers a firm with consent, one assessment is
   submitted (result and PDF GETs), one draft per connection is made for the answer PUTs (so
   concurrent PUTs do not write the same draft), and ``--submit-drafts`` fully answered drafts
   for the submits (each submitted once; when they run out the rest answer 409 and show in the
   non-2xx column). The PDF is fetched once before it is measured (stored; the GETs are served
   from the store). The demo official signs in for the heatmap GET.
4. ``wrk`` pinned to core 1 (``taskset -c 1 wrk -t1 -c C -d D --latency``; a Lua script sets
   the method, the body and the headers: ``Authorization: Bearer``, ``If-Match: *``, the session
   cookie; for the PUTs ``-t C``, one thread per connection, each on its own draft) drives each
   endpoint for ``--duration`` seconds, right after the floor for as long:
   each ratio is to the floor measured just before it (on a shared machine the load changes
   within a minute; the spread of the floors over the run says how much).

The figures are absolute req/s of one core, so they depend on what else the machine runs; the
ratios to the floor measured in the same run are what to compare across runs. Beside them, the
server's CPU time per request (``/proc``, all its threads) and its ratio to the floor's: waiting
for a core that another process holds does not count there, so it moves less with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from benchmarks.load import (  # noqa: E402
    CONSENT,
    PYTHON,
    UVICORN,
    enterprise_payload,
    free_port,
    fresh_database,
    pick,
)
from scoring import load_questionnaire  # noqa: E402

FULL = "smart-manufacturing-maturity"
SCOPES = ("enterprises:write", "assessments:write", "assessments:read", "reports:read")
OFFICIAL = {"email": "official@demo.zhizao.local", "password": "zhizao-official-demo"}
SERVICE_CORE, LOAD_CORE = "0", "1"


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    server: str  # "app" or "floor"
    paths: tuple[str, ...]
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    #: One body for every request, or several that each connection sends in turn.
    body: str | tuple[str, ...] | None = None
    connections: int = 8
    expect: int = 200
    #: Each connection keeps to one path of its own (``paths`` has one per connection): wrk
    #: then runs one thread per connection, so that no two requests write the same draft at
    #: once. Otherwise the connections take the paths in turn.
    path_per_connection: bool = False


@dataclass(frozen=True, slots=True)
class Measured:
    endpoint: Endpoint
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    requests: int
    #: CPU time of the server process (all its threads) per request during the run: steadier
    #: than req/s on a shared machine, since waiting for a core does not count.
    cpu_ms: float = 0.0


# --- processes -----------------------------------------------------------------------------------


class Pinned:
    """One uvicorn worker pinned to ``SERVICE_CORE``, in its own process group."""

    def __init__(self, target: str, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                ["taskset", "-c", SERVICE_CORE, UVICORN, target, "--host", "127.0.0.1"]
                + ["--port", str(self.port), "--no-access-log", "--log-level", "warning"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited (code {self.process.returncode})")
            try:
                httpx.get(self.url + path, timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError(f"server not up after {timeout} s")

    def python_pid(self) -> int:
        """The server's Python process (``taskset`` execs it: the same pid)."""
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [PYTHON, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        raise RuntimeError(f"zhizao {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


# --- wrk -----------------------------------------------------------------------------------------


def lua(endpoint: Endpoint) -> str:
    """The wrk script: method, headers, body, and the paths taken in turn."""
    lines = [f"wrk.method = {json.dumps(endpoint.method)}"]
    for name, value in endpoint.headers:
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    body, turn = "nil", ""
    if isinstance(endpoint.body, tuple):
        lines.append("local bodies = {" + ", ".join(json.dumps(b) for b in endpoint.body) + "}")
        lines.append("local sent = 0")
        body, turn = "bodies[sent % #bodies + 1]", "  sent = sent + 1"
    elif endpoint.body is not None:
        lines.append(f"wrk.body = {json.dumps(endpoint.body)}")
    lines.append("local paths = {" + ", ".join(json.dumps(p) for p in endpoint.paths) + "}")
    if endpoint.path_per_connection:
        # setup() runs once per wrk thread before it starts; each thread has one connection.
        lines += [
            "local threads = 0",
            "function setup(thread)",
            "  threads = threads + 1",
            '  thread:set("own", threads)',
            "end",
            "request = function()",
            *([turn] if turn else []),
            f"  return wrk.format(nil, paths[(own - 1) % #paths + 1], nil, {body})",
            "end",
        ]
    else:
        lines += [
            "local i = 0",
            "request = function()",
            "  i = i + 1",
            *([turn] if turn else []),
            f"  return wrk.format(nil, paths[(i - 1) % #paths + 1], nil, {body})",
            "end",
        ]
    return "\n".join(lines) + "\n"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(
    endpoint: Endpoint,
    base: str,
    duration: int,
    workdir: Path,
    server_pid: int,
    profile: bool = False,
) -> Measured:
    """``endpoint`` under wrk; with ``profile_pid``, py-spy samples that process meanwhile and
    where its time went is printed (to stderr)."""
    slug = re.sub(r"\W+", "_", endpoint.name)
    script = workdir / f"{slug}.lua"
    script.write_text(lua(endpoint), encoding="utf-8")
    threads = endpoint.connections if endpoint.path_per_connection else 1
    command = ["taskset", "-c", LOAD_CORE, "wrk", f"-t{threads}", f"-c{endpoint.connections}"]
    command += [f"-d{duration}s", "--latency", "-s", str(script), base + endpoint.paths[0]]
    spy = None
    profile_pid = server_pid if profile else None
    if profile_pid is not None:
        raw = workdir / f"{slug}.spy"
        spy = subprocess.Popen(
            ["taskset", "-c", LOAD_CORE, str(ROOT / ".venv" / "bin" / "py-spy"), "record"]
            + ["--pid", str(profile_pid), "-d", str(duration), "-r", "200", "--format", "raw"]
            + ["-o", str(raw), "--nonblocking"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    cpu_before = cpu_seconds(server_pid)
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60).stdout
    cpu = cpu_seconds(server_pid) - cpu_before
    if spy is not None:
        spy.wait(timeout=60)
        print(f"\n### profile: {endpoint.name}\n{summarise(raw)}", file=sys.stderr)
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if rps is None or total is None or "50" not in percentiles:
        raise RuntimeError(f"wrk output not understood for {endpoint.name}:\n{out}")
    return Measured(
        endpoint,
        rps=float(rps.group(1)),
        p50_ms=_ms(percentiles["50"]),
        p99_ms=_ms(percentiles["99"]),
        non_2xx=int(bad.group(1)) if bad else 0,
        requests=int(total.group(1)),
        cpu_ms=1000 * cpu / max(1, int(total.group(1))),
    )


def summarise(raw: Path, top: int = 14) -> str:
    """Where the time went, from py-spy's raw (collapsed) stacks: each function's share of the
    samples with it anywhere on the stack (inclusive) and at the top (self); idle samples (the
    event loop waiting) are left out."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():  # a stack cut short when py-spy stopped
            continue
        # A function's share, whichever of its lines was running: "f (path:line)" → "f (path)".
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        if any(idle in frames[-1] for idle in ("select (", "_run_once (", "wait (")):
            continue
        n = int(count)
        total += n
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n
        own[frames[-1]] = own.get(frames[-1], 0) + n
    if not total:
        return "(no samples)"

    def rows(table: dict[str, int], only_app: bool) -> list[str]:
        chosen = [(n, f) for f, n in table.items() if not only_app or "(app/" in f]
        return [f"  {100 * n / total:5.1f}%  {f[:150]}" for n, f in sorted(chosen)[::-1][:top]]

    return "\n".join(
        [f"busy samples: {total}", "inclusive, app/ functions:"]
        + rows(inclusive, True)
        + ["self (any code):"]
        + rows(own, False)
    )


# --- data ----------------------------------------------------------------------------------------


class Seeder:
    """The firm, assessments and sign-ins the endpoints need, made through the API."""

    def __init__(self, base: str, key: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=60)
        self.auth = {"Authorization": f"Bearer {key}"}
        versions = [load_questionnaire(p) for p in (ROOT / "questionnaires").glob(f"{FULL}*.yaml")]
        self.questionnaire = max(versions, key=lambda q: q.version)  # what a new draft is on
        body = enterprise_payload() | {"consent": CONSENT}
        response = self.http.post("/api/v1/enterprises", json=body, headers=self.auth)
        response.raise_for_status()
        self.enterprise_id = response.json()["id"]

    def draft(self, answered: bool) -> str:
        response = self.http.post(
            f"/api/v1/enterprises/{self.enterprise_id}/assessments",
            json={"questionnaire_id": FULL},
            headers=self.auth,
        )
        response.raise_for_status()
        view = response.json()
        by_id = {q.id: q for stage in self.questionnaire.stages for q in stage.questions}
        while answered and view["next_stage"] is not None:
            todo = {
                q: pick(by_id[q], 0.6)
                for q in view["applicable_questions"]
                if q not in view["answers"]
            }
            if not todo:
                break
            response = self.http.put(
                f"/api/v1/assessments/{view['id']}/answers",
                json={"answers": todo},
                headers=self.auth | {"If-Match": "*"},
            )
            response.raise_for_status()
            view = response.json()
        return str(view["id"])

    def submitted(self) -> str:
        assessment_id = self.draft(answered=True)
        response = self.http.post(
            f"/api/v1/assessments/{assessment_id}/submit", headers=self.auth | {"If-Match": "*"}
        )
        response.raise_for_status()
        return assessment_id

    def first_answers(self) -> tuple[str, tuple[Any, Any]]:
        """The first question and two different answers to it."""
        question = self.questionnaire.stages[0].questions[0]
        return question.id, (pick(question, 0.5), pick(question, 0.0))

    def official_cookie(self) -> str:
        response = self.http.post("/api/v1/session", json=OFFICIAL)
        response.raise_for_status()
        return "; ".join(f"{k}={v}" for k, v in response.cookies.items())

    def etag(self, path: str, headers: dict[str, str]) -> str | None:
        response = self.http.get(path, headers=headers)
        response.raise_for_status()
        return response.headers.get("ETag")


def endpoints(seed: Seeder, submit_drafts: int, say: Any) -> list[Endpoint]:
    auth = tuple(seed.auth.items())
    say("seeding: the submitted assessment, drafts for the PUTs and the submits")
    done = seed.submitted()
    put_drafts = [seed.draft(answered=False) for _ in range(8)]
    to_submit = tuple(
        f"/api/v1/assessments/{seed.draft(answered=True)}/submit" for _ in range(submit_drafts)
    )
    # Two answers in turn: each PUT changes the draft (one that stores what is stored already
    # writes nothing, and would measure that instead of the write).
    question, values = seed.first_answers()
    answer = tuple(json.dumps({"answers": {question: value}}) for value in values)
    put = (("Content-Type", "application/json"), ("If-Match", "*"), *auth)
    questionnaire = f"/api/v1/questionnaires/{FULL}"
    result = f"/api/v1/assessments/{done}/result"
    pdf = f"/api/v1/assessments/{done}/report.pdf?lang=zh"
    seed.etag(pdf, seed.auth)  # rendered once and stored: the measured GETs are served stored
    cookie = (("Cookie", seed.official_cookie()),)
    heatmap = "/api/v1/heatmaps?cut=district-stage"
    seed.etag(heatmap, dict(cookie))
    answers = [f"/api/v1/assessments/{d}/answers" for d in put_drafts]
    found = [
        Endpoint("GET /healthz", "app", ("/healthz",)),
        Endpoint("GET questionnaire", "app", (questionnaire,)),
    ]
    if tag := seed.etag(questionnaire, {}):
        conditional = (("If-None-Match", tag),)
        found.append(
            Endpoint("GET questionnaire (304)", "app", (questionnaire,), headers=conditional)
        )
    found.append(Endpoint("GET result", "app", (result,), headers=auth))
    if tag := seed.etag(result, seed.auth):
        conditional = (("If-None-Match", tag), *auth)
        found.append(Endpoint("GET result (304)", "app", (result,), headers=conditional))
    found += [
        Endpoint("PUT answers, 1 conn", "app", tuple(answers[:1]), "PUT", put, answer, 1),
        Endpoint(
            "PUT answers, 8 conns",
            "app",
            tuple(answers),
            "PUT",
            put,
            answer,
            8,
            path_per_connection=True,
        ),
        Endpoint("GET heatmap (published)", "app", (heatmap,), headers=cookie),
        Endpoint("GET report.pdf (stored)", "app", (pdf,), headers=auth),
        Endpoint("POST submit", "app", to_submit, "POST", (("If-Match", "*"), *auth)),
    ]
    return found


# --- one engine ----------------------------------------------------------------------------------


def bench_engine(engine: str, args: argparse.Namespace, say: Any) -> str:
    url = fresh_database(engine, args.database_name)
    env = os.environ | {
        "ZHIZAO_DATABASE_URL": url,
        "ZHIZAO_ENV": "development",
        "ZHIZAO_WEBHOOK_WORKER": "off",
        "ZHIZAO_API_RATE_LIMIT": "100000000/minute",
        "ZHIZAO_LOG_LEVEL": "WARNING",
    }
    say(f"[{engine}] migrate, seed {args.firms} firms, publish heatmaps, create an API key")
    cli(env, "db", "upgrade")
    cli(env, "seed-demo", "--enterprises", str(args.firms))
    cli(env, "heatmaps", "publish")
    printed = cli(
        env, "create-api-client", "--name", "bench", *sum((["--scope", s] for s in SCOPES), [])
    )
    key = re.search(r"(zk_\w+_\S+)", printed)
    if key is None:
        raise RuntimeError(f"no API key in: {printed}")
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    app = Pinned("app.main:app", env, logs / f"http-{engine}-app.log")
    floor = Pinned("benchmarks.floor_app:app", env, logs / f"http-{engine}-floor.log")
    try:
        app.wait("/healthz")
        floor.wait("/docs")
        seed = Seeder(app.url, key.group(1))
        measured_endpoints = endpoints(seed, args.submit_drafts, say)
        floor_endpoint = Endpoint("floor", "floor", (f"/floor/{seed.submitted()}",))
        if args.only:
            measured_endpoints = [
                e for e in measured_endpoints if any(o in e.name.lower() for o in args.only)
            ]
        rows: list[tuple[Measured, Measured]] = []
        alike: list[tuple[Measured, Measured]] = []
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            for endpoint in measured_endpoints:
                # The floor right before each endpoint: on a shared machine the load changes
                # within a minute, and a ratio to a floor measured far away would carry it.
                base = run_wrk(floor_endpoint, floor.url, args.duration, work, floor.python_pid())
                row = run_wrk(
                    endpoint, app.url, args.duration, work, app.python_pid(), args.profile
                )
                say(
                    f"[{engine}] {endpoint.name}: {row.rps:.0f} req/s, p50 {row.p50_ms:.1f} ms,"
                    f" {row.cpu_ms:.2f} CPU ms/req (floor {base.rps:.0f}, {base.cpu_ms:.2f})"
                )
                rows.append((base, row))
                if endpoint.connections != floor_endpoint.connections:
                    # Like against like as well: the floor with the endpoint's connections (one
                    # connection waits for every round trip; eight overlap them).
                    same = replace(floor_endpoint, connections=endpoint.connections)
                    alike.append(
                        (run_wrk(same, floor.url, args.duration, work, floor.python_pid()), row)
                    )
    finally:
        app.stop()
        floor.stop()
    return table(engine, rows, alike)


def table(
    engine: str,
    rows: list[tuple[Measured, Measured]],
    alike: list[tuple[Measured, Measured]],
) -> str:
    floors = [base.rps for base, _ in rows]
    out = [
        f"**{engine}** — the floor (8 connections) measured right before each endpoint: "
        f"{min(floors):.0f}–{max(floors):.0f} req/s over the run",
        "",
        "| endpoint | conns | req/s | p50 ms | p99 ms | floor req/s | × floor | "
        "CPU ms/req | floor CPU ms/req | × floor (CPU) | non-2xx |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for base, row in rows:
        out.append(
            f"| {row.endpoint.name} | {row.endpoint.connections} | {row.rps:.0f} | "
            f"{row.p50_ms:.1f} | {row.p99_ms:.1f} | {base.rps:.0f} | {row.rps / base.rps:.2f} | "
            f"{row.cpu_ms:.2f} | {base.cpu_ms:.2f} | {base.cpu_ms / row.cpu_ms:.2f} | "
            f"{row.non_2xx} |"
        )
    for base, row in alike:
        out.append(
            f"\n{row.endpoint.name} against the floor with the same {row.endpoint.connections} "
            f"connection(s): floor {base.rps:.0f} req/s (p50 {base.p50_ms:.1f} ms, "
            f"{base.cpu_ms:.2f} CPU ms/req) → × floor {row.rps / base.rps:.2f}, "
            f"× floor (CPU) {base.cpu_ms / row.cpu_ms:.2f}"
        )
    return "\n".join(out)


def machine() -> str:
    load = os.getloadavg()
    return (
        f"{platform.node()}: {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / "
        f"{load[2]:.1f} (1/5/15 min) at start; Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--duration", type=int, default=3, help="seconds per endpoint")
    parser.add_argument("--firms", type=int, default=500, help="synthetic firms (heatmaps)")
    parser.add_argument("--submit-drafts", type=int, default=150)
    parser.add_argument(
        "--database-name",
        default="http",
        help="var/bench/NAME.db or zhizao_bench_NAME: runs from two checkouts at once need two",
    )
    parser.add_argument("--only", type=lambda s: [p.strip().lower() for p in s.split(",")])
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the service: where each endpoint's time goes"
    )
    args = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (Debian: apt-get install wrk util-linux)")

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    header = machine()
    tables = [bench_engine(engine, args, say) for engine in args.engines.split(",")]
    print(f"{header}; {args.duration:g} s per endpoint\n")
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
