"""The multi-machine proof (issue #20): real processes on one PostgreSQL and one Redis.

Two app instances (uvicorn subprocesses on two ports) and two workers (``zhizao worker``),
started once for the module (fixture setup), then one test per claim:

* each PDF is rendered once across the two workers (render-ahead: the submit queues both
  languages) and served by both instances as the same stored bytes, with no render in a request;
* N submits spread over A and B: every webhook delivery reaches the receiver exactly once while
  both workers run;
* one worker SIGKILLed mid-batch loses nothing: what it held stays leased (not sent, not lost);
  once the lease runs out the survivor sends it, and the one it was sending at the kill may
  arrive twice under the same ``webhook-id`` (delivery is at least once by design,
  app/integrators/worker.py; receivers deduplicate by id);
* a session created on A works on B (and signing out on B ends it on A);
* the API-key rate limit counts across A and B: the request over the limit, on B, gets 429;
* the heatmaps are published once for the period, by one of the workers;
* each integrator's feed is gap-free over the N submits.

The tests build on each other and run in file order, on one xdist worker (``make test`` runs
``--dist loadgroup``, which tests/conftest.py makes keep tests/multi together). The order is
chosen so that the rest of the submits and the tests which need no worker (session, rate limit,
heatmaps, feed) run while the killed worker's lease runs out (``2 × WEBHOOK_TIMEOUT_SECONDS +
WEBHOOK_LEASE_MARGIN_SECONDS``, the margin shortened here); the last test then waits only for
the rest of it, and no test takes 30 s (issue #13).

The bulk submits queue their PDF jobs too (render-ahead is always on): the test drops those jobs
unrendered while the workers are paused (~0.9 s of CPU per render; 2 × N renders would dwarf the
rest), after counting them. The PDF claim is proved on two assessments of their own.

Needs PostgreSQL and Redis (skipped without them; required under CI=true). Prints its counts.
"""

from __future__ import annotations

import http.server
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.integrators import service as integrators_service
from app.kit.db import create_db_engine, create_session_factory
from app.kit.migrations import upgrade
from app.kit.principal import CLI
from app.kit.settings import PROJECT_ROOT, Environment, Settings
from app.models import (
    FeedEntry,
    HeatmapPublication,
    PeriodicRun,
    ReportJob,
    ReportPdf,
    WebhookDelivery,
)
from tests.answers import QUICK
from tests.app.integrators.helpers import CONSENT, PROFILE, full_answers
from tests.databases import (
    create_postgres_database,
    drop_postgres_database,
    require_engine,
    require_redis,
)
from tests.factories import (
    PASSWORD,
    create_api_key,
    create_enterprise,
    create_user,
    enterprise_payload,
)
from tests.live import free_port

pytestmark = pytest.mark.multiprocess

#: Submits in all (half with both workers, half around the kill), over two integrators.
SUBMITS = 100
FIRMS_PER_INTEGRATOR = 5
RATE_LIMIT = 200
#: Assessments whose PDFs are rendered ahead, in both languages (render CPU: keep it small).
REPORTED_ASSESSMENTS = 2
LANGS = ("zh", "en")
#: Of the second half, the submits made before the kill (more than the webhook worker's batch,
#: 20); the rest are made after it, while the killed worker's lease runs.
KILL_AFTER_SUBMITS = 25
#: The receiver answers each POST after this long, so that a worker is caught mid-batch.
RECEIVER_DELAY_SECONDS = 0.05
WEBHOOK_TIMEOUT_SECONDS = 1
#: The webhook worker's lease (app/integrators/worker.py): a killed worker's rows wait for it.
#: Shorter than the default margin (30 s), so that the last test waits seconds, not half a
#: minute; still far longer than the kill test's check that the rows are held.
WEBHOOK_LEASE_MARGIN_SECONDS = 20
WEBHOOK_LEASE_SECONDS = WEBHOOK_TIMEOUT_SECONDS * 2 + WEBHOOK_LEASE_MARGIN_SECONDS


@dataclass
class Receiver:
    """A loopback webhook endpoint recording each POST's ``webhook-id``."""

    received: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = field(default_factory=free_port)
    server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("content-length", "0")))
                time.sleep(RECEIVER_DELAY_SECONDS)
                with receiver.lock:
                    receiver.received.append(self.headers["webhook-id"])
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(self.received)

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@dataclass
class Cluster:
    env: dict[str, str]
    directory: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)

    def _spawn(
        self, name: str, command: list[str], extra_env: dict[str, str]
    ) -> subprocess.Popen[bytes]:
        log = (self.directory / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=self.env | extra_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes[name] = process
        return process

    def app(self, name: str) -> str:
        port = free_port()
        self._spawn(
            name,
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]
            + ["--port", str(port), "--no-access-log"],
            {},
        )
        self.urls[name] = f"http://127.0.0.1:{port}"
        return self.urls[name]

    def worker(self, name: str) -> None:
        # JSON lines at INFO: one line per PDF render, which the PDF test counts.
        self._spawn(
            name,
            [sys.executable, "-m", "app", "worker"],
            {"ZHIZAO_LOG_LEVEL": "INFO", "ZHIZAO_LOG_JSON": "true"},
        )

    def wait_ready(self) -> None:
        # Generous: on a loaded 2-core CI machine an import of the app alone can take 30 s.
        deadline = time.monotonic() + 180
        for name, url in self.urls.items():
            while True:
                process = self.processes[name]
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited: {self.log(name)}")
                try:
                    if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not ready: {self.log(name)}")
                time.sleep(0.1)

    def log(self, name: str) -> str:
        return (self.directory / f"{name}.log").read_text(errors="replace")[-3000:]

    def log_records(self, name: str) -> list[dict[str, Any]]:
        """The JSON log lines of a worker (other output, e.g. its start banner, skipped)."""
        records = []
        for line in (self.directory / f"{name}.log").read_text(errors="replace").splitlines():
            if line.startswith("{"):
                records.append(json.loads(line))
        return records

    def pause(self, *names: str) -> None:
        for name in names:
            self.processes[name].send_signal(signal.SIGSTOP)

    def resume(self, *names: str) -> None:
        for name in names:
            self.processes[name].send_signal(signal.SIGCONT)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)  # a paused process would not see SIGTERM
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class World:
    """The started processes and what the tests share, in the order they run."""

    cluster: Cluster
    receiver: Receiver
    sessions: sessionmaker[Session]
    a: httpx.Client
    b: httpx.Client
    metrics_token: str
    email: str
    #: The firm of the user who signs in (its reports are the ones rendered ahead).
    enterprise_id: str
    limited_key: str
    integrators: list[str]
    #: (headers, enterprise id) of the firms the bulk submits go to.
    firms: list[tuple[dict[str, str], str]] = field(default_factory=list)
    submitted: int = 0
    phase_one: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    counts: dict[str, str] = field(default_factory=dict)

    def report(self, what: str, value: str) -> None:
        """Keep a count for the summary, and show it at once (pytest -s)."""
        self.counts[what] = value
        sys.stdout.write(f"\n  [multi] {what}: {value}\n")

    def count(self, model: Any, *where: Any) -> int:
        with self.sessions() as db:
            return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    def delivery_rows(self) -> int:
        return self.count(WebhookDelivery)

    def delivered_rows(self) -> int:
        return self.count(WebhookDelivery, WebhookDelivery.status == "delivered")

    def client(self, n: int) -> httpx.Client:
        """A for even n, B for odd: requests alternate between the instances."""
        return self.a if n % 2 == 0 else self.b

    def submit_bulk(self, start: int, stop: int) -> None:
        for n in range(start, stop):
            headers, enterprise_id = self.firms[n % len(self.firms)]
            submit_one(self.client(n), headers, enterprise_id)
        self.submitted += stop - start

    def drop_render_jobs(self) -> int:
        """Drop the queued PDF jobs (while the workers are paused): how many there were."""
        with self.sessions() as db:
            dropped = len(db.execute(delete(ReportJob).returning(ReportJob.id)).all())
            db.commit()
        return dropped


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def submit_one(http: httpx.Client, headers: dict[str, str], enterprise_id: str) -> str:
    """Create, answer and submit one assessment; its id."""
    created = http.post(
        f"/api/v1/enterprises/{enterprise_id}/assessments",
        json={"questionnaire_id": QUICK},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assessment = str(created.json()["id"])
    put = http.put(
        f"/api/v1/assessments/{assessment}/answers",
        json={"answers": full_answers(PROFILE)},
        headers=headers | {"If-Match": created.headers["ETag"]},
    )
    assert put.status_code == 200, put.text
    done = http.post(
        f"/api/v1/assessments/{assessment}/submit",
        headers=headers | {"If-Match": put.headers["ETag"]},
    )
    assert done.status_code == 200, done.text
    return assessment


def read_feed(http: httpx.Client, headers: dict[str, str]) -> list[int]:
    seqs: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 200} | ({"cursor": cursor} if cursor else {})
        page = http.get("/api/v1/scores", params=params, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        seqs.extend(item["seq"] for item in body["items"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return seqs


def request_renders(http: httpx.Client, token: str) -> float:
    """``zhizao_report_renders_total{origin="request"}`` of one instance (0 if never rendered)."""
    response = http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if (
                sample.name == "zhizao_report_renders_total"
                and sample.labels.get("origin") == "request"
            ):
                return sample.value
    return 0.0


# --- the processes, started once --------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    require_engine("postgresql")
    name, url = create_postgres_database()
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    drop_postgres_database(name)


@pytest.fixture(scope="module")
def world(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    redis_url = require_redis()
    secret = secrets.token_urlsafe(32)
    metrics_token = secrets.token_urlsafe(16)
    settings = Settings(ENV=Environment.testing, DATABASE_URL=postgres_url, SECRET_KEY=secret)
    engine = create_db_engine(postgres_url)
    sessions = create_session_factory(engine)
    with sessions() as db:
        enterprise = create_enterprise(db)
        user = create_user(db, enterprise=enterprise)
        limited_key, _ = create_api_key(db, settings)
        integrators = [create_api_key(db, settings)[0] for _ in range(2)]
        db.commit()
        email, enterprise_id = user.email, str(enterprise.id)

    cluster = Cluster(
        env={
            **os.environ,
            "ZHIZAO_ENV": "testing",
            "ZHIZAO_DATABASE_URL": postgres_url,
            "ZHIZAO_SECRET_KEY": secret,
            "ZHIZAO_METRICS_TOKEN": metrics_token,
            "ZHIZAO_RATE_LIMIT_STORAGE_URI": redis_url,
            "ZHIZAO_API_RATE_LIMIT": f"{RATE_LIMIT}/minute",
            "ZHIZAO_WEBHOOK_WORKER": "off",
            "ZHIZAO_WEBHOOK_ALLOW_HTTP": "true",
            "ZHIZAO_WEBHOOK_ALLOW_LOOPBACK": "true",
            "ZHIZAO_WEBHOOK_POLL_SECONDS": "0.2",
            "ZHIZAO_WEBHOOK_TIMEOUT_SECONDS": str(WEBHOOK_TIMEOUT_SECONDS),
            "ZHIZAO_WEBHOOK_LEASE_MARGIN_SECONDS": str(WEBHOOK_LEASE_MARGIN_SECONDS),
            "ZHIZAO_LOG_LEVEL": "WARNING",
            "ZHIZAO_LOG_JSON": "false",
        },
        directory=tmp_path_factory.mktemp("multi"),
    )
    receiver = Receiver().start()
    clients: list[httpx.Client] = []
    world: World | None = None
    try:
        url_a, url_b = cluster.app("a"), cluster.app("b")
        cluster.worker("w1")
        cluster.worker("w2")
        cluster.wait_ready()
        clients = [httpx.Client(base_url=url, timeout=30) for url in (url_a, url_b)]
        world = World(
            cluster=cluster,
            receiver=receiver,
            sessions=sessions,
            a=clients[0],
            b=clients[1],
            metrics_token=metrics_token,
            email=email,
            enterprise_id=enterprise_id,
            limited_key=limited_key,
            integrators=integrators,
        )
        yield world
    finally:
        for client in clients:
            client.close()
        cluster.stop()
        receiver.stop()
        engine.dispose()
        if world is not None:  # the counts, for the CI log (pytest -s or -rA shows them)
            sys.stdout.write("\nmulti-instance counts:\n")
            for what, value in world.counts.items():
                sys.stdout.write(f"  {what}: {value}\n")


@pytest.fixture(scope="module")
def firms(world: World) -> World:
    """Two integrators, each with an approved webhook endpoint and five firms registered
    (alternately on A and B)."""
    allow_loopback = Settings(
        ENV=Environment.testing,
        DATABASE_URL=world.cluster.env["ZHIZAO_DATABASE_URL"],
        SECRET_KEY=world.cluster.env["ZHIZAO_SECRET_KEY"],
        WEBHOOK_ALLOW_HTTP=True,
        WEBHOOK_ALLOW_LOOPBACK=True,
    )
    for index, key in enumerate(world.integrators):
        headers = {"Authorization": f"Bearer {key}"}
        endpoint = world.a.post(
            "/api/v1/webhooks", json={"url": world.receiver.url(f"i{index}")}, headers=headers
        )
        assert endpoint.status_code == 201, endpoint.text
        with world.sessions() as db:  # an admin approves it (events are queued from then on)
            integrators_service.approve_endpoint(
                db, CLI, allow_loopback, uuid.UUID(endpoint.json()["id"])
            )
            db.commit()
        for n in range(FIRMS_PER_INTEGRATOR):
            registered = world.client(n).post(
                "/api/v1/enterprises",
                json=enterprise_payload() | {"consent": CONSENT},
                headers=headers,
            )
            assert registered.status_code == 201, registered.text
            world.firms.append((headers, registered.json()["id"]))
    return world


# --- the claims, in the order they run ----------------------------------------------------------


def test_each_pdf_is_rendered_once_by_the_workers_and_served_by_both_instances(
    world: World,
) -> None:
    a, b = world.a, world.b
    # The firm's user signs in on A; the same session submits on A and on B.
    signed_in = a.post("/api/v1/session", json={"email": world.email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    b.cookies = a.cookies
    csrf = {"X-CSRF-Token": signed_in.json()["csrf_token"]}
    instances = {"a": a, "b": b}
    request_renders_before = {
        name: request_renders(instance, world.metrics_token) for name, instance in instances.items()
    }
    assessments = [
        submit_one(world.client(n), csrf, world.enterprise_id) for n in range(REPORTED_ASSESSMENTS)
    ]
    expected = {(assessment, lang) for assessment in assessments for lang in LANGS}

    # Each submit queued both languages; the two workers share the jobs (SKIP LOCKED).
    def renders() -> list[tuple[str, str, str, str]]:
        found = []
        for worker in ("w1", "w2"):
            for record in world.cluster.log_records(worker):
                if record.get("logger") == "zhizao.reports" and str(
                    record.get("event", "")
                ).startswith("report rendered: "):
                    assessment, lang, outcome = (
                        record["event"].removeprefix("report rendered: ").split(" ", 2)
                    )
                    found.append((worker, assessment, lang.rstrip(","), outcome))
        return found

    wait_until(lambda: len(renders()) >= len(expected), 60, "the workers' renders")
    wait_until(lambda: world.count(ReportJob) == 0, 10, "the render jobs to be done")
    rendered = renders()
    per_report = Counter((assessment, lang) for _, assessment, lang, _ in rendered)
    assert set(per_report) == expected
    assert set(per_report.values()) == {1}, f"a report rendered twice: {rendered}"
    assert {outcome for *_, outcome in rendered} == {"stored"}
    by_worker = Counter(worker for worker, *_ in rendered)

    with world.sessions() as db:
        stored = {
            (str(row.assessment_id), row.lang): row.pdf for row in db.scalars(select(ReportPdf))
        }
    assert set(stored) == expected

    # Both instances serve the stored bytes; neither renders.
    served = 0
    for assessment in assessments:
        for lang in LANGS:
            path = f"/api/v1/assessments/{assessment}/report.pdf?lang={lang}"
            on_a, on_b = a.get(path), b.get(path)
            assert on_a.status_code == on_b.status_code == 200, (on_a.text, on_b.text)
            assert on_a.content == on_b.content == stored[(assessment, lang)]
            assert on_a.content.startswith(b"%PDF-")
            assert on_a.headers["ETag"] == on_b.headers["ETag"]
            served += 2
    for name, instance in instances.items():
        assert request_renders(instance, world.metrics_token) == request_renders_before[name] == 0
    assert b.delete("/api/v1/session", headers=csrf).status_code == 204
    a.cookies.clear()
    b.cookies.clear()
    world.report(
        "PDF reports",
        f"{REPORTED_ASSESSMENTS} assessments x {len(LANGS)} languages: {len(rendered)} renders, "
        f"each report once ({dict(sorted(by_worker.items()))}); {served} GETs (A and B) served "
        f"the same stored bytes; request renders: A 0, B 0",
    )


def test_submits_over_a_and_b_are_delivered_once_each_with_both_workers(firms: World) -> None:
    world = firms
    half = SUBMITS // 2
    # Paused while the firms submit, so that the bulk's PDF jobs are dropped before any render.
    world.cluster.pause("w1", "w2")
    world.submit_bulk(0, half)
    dropped = world.drop_render_jobs()
    assert dropped == half * len(LANGS)  # render-ahead queued both languages on A and on B
    world.cluster.resume("w1", "w2")
    wait_until(lambda: world.delivered_rows() == world.delivery_rows(), 60, "phase-1 deliveries")
    received = world.receiver.counts()
    assert len(received) == world.delivery_rows() == half
    assert set(received.values()) == {1}, "a delivery sent twice while both workers ran"
    world.phase_one = received
    world.report(
        "webhooks, both workers",
        f"{half} submits (A {half - half // 2}, B {half // 2}), {len(received)} deliveries, "
        f"each received once; {dropped} PDF jobs of the bulk dropped unrendered",
    )


def test_a_worker_killed_mid_batch_leaves_what_it_held_leased_not_lost(firms: World) -> None:
    world = firms
    assert world.phase_one, "runs after the test above (the module runs in file order)"
    # Both paused while a first part is submitted; then w1 alone resumes, claims a batch and is
    # SIGKILLed once it has sent a few. The rest is submitted after the kill (its lease already
    # running), then w2 resumes.
    start, killed_at, stop = SUBMITS // 2, SUBMITS // 2 + KILL_AFTER_SUBMITS, SUBMITS
    world.cluster.pause("w1", "w2")
    world.submit_bulk(start, killed_at)
    assert world.drop_render_jobs() == (killed_at - start) * len(LANGS)
    seen = len(world.receiver.received)
    w1 = world.cluster.processes["w1"]
    world.cluster.resume("w1")
    wait_until(lambda: len(world.receiver.received) >= seen + 3, 60, "w1's first deliveries")
    w1.send_signal(signal.SIGKILL)
    w1.wait()
    received_from_w1 = len(world.receiver.received) - seen
    recorded_by_w1 = world.delivered_rows() - len(world.phase_one)
    leased = (WebhookDelivery.status == "pending", WebhookDelivery.claimed_by.is_not(None))
    world.in_flight = world.count(WebhookDelivery, *leased)  # w2 is still paused: all w1's
    assert world.in_flight > 0, "w1 was not killed mid-batch"

    world.submit_bulk(killed_at, stop)
    assert world.drop_render_jobs() == (stop - killed_at) * len(LANGS)
    world.cluster.resume("w2")
    # The survivor sends everything w1 did not hold; what w1 held waits for its lease.
    wait_until(
        lambda: world.delivered_rows() == world.delivery_rows() - world.in_flight,
        60,
        "w2's deliveries of the rows w1 did not hold",
    )
    assert world.count(WebhookDelivery, *leased) == world.in_flight
    sent_by_w2 = world.delivered_rows() - len(world.phase_one) - recorded_by_w1
    world.report(
        "webhooks, w1 SIGKILLed",
        f"{stop - start} submits ({killed_at - start} before the kill, {stop - killed_at} "
        f"after); w1 SIGKILLed after {received_from_w1} receipts ({recorded_by_w1} recorded), "
        f"holding {world.in_flight} leased; w2 sent the other {sent_by_w2} at once; "
        f"{2 * (stop - start)} PDF jobs of these submits dropped unrendered",
    )


def test_a_session_created_on_a_works_on_b(world: World) -> None:
    a, b = world.a, world.b
    signed_in = a.post("/api/v1/session", json={"email": world.email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    b.cookies = a.cookies
    me = b.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["email"] == world.email, me.text
    csrf = signed_in.json()["csrf_token"]
    assert b.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert a.get("/api/v1/me").status_code == 401  # signed out on B: gone on A too
    a.cookies.clear()
    b.cookies.clear()
    world.report("session", "signed in on A, /me on B 200, signed out on B, /me on A 401")


def test_the_rate_limit_counts_across_a_and_b(world: World) -> None:
    limited = {"Authorization": f"Bearer {world.limited_key}"}
    served = Counter[str]()
    for n in range(RATE_LIMIT):
        assert world.client(n).get("/api/v1/scores", headers=limited).status_code == 200, n
        served["a" if n % 2 == 0 else "b"] += 1
    over = world.b.get("/api/v1/scores", headers=limited)
    assert over.status_code == 429, over.text
    assert world.a.get("/api/v1/scores", headers=limited).status_code == 429
    world.report("rate limit", f"{dict(served)} allowed, request {RATE_LIMIT + 1} on B: 429")


def test_the_heatmaps_are_published_once_for_the_period(world: World) -> None:
    wait_until(lambda: world.count(HeatmapPublication) >= 1, 30, "the publication")
    with world.sessions() as db:
        periodic = {row.name: row.done_period for row in db.scalars(select(PeriodicRun))}
    publications = world.count(HeatmapPublication)
    assert publications == 1
    assert set(periodic) == {"heatmap publication", "privacy purge"}
    assert all(done is not None for done in periodic.values())
    world.report(
        "heatmap publications", f"{publications} (period {periodic['heatmap publication']})"
    )


def test_every_integrators_feed_is_gap_free(firms: World) -> None:
    world = firms
    assert world.submitted == SUBMITS, "runs after the submits above (file order)"
    total = 0
    for key in world.integrators:
        seqs = read_feed(world.b, {"Authorization": f"Bearer {key}"})
        assert seqs == list(range(1, len(seqs) + 1)), "a gap in the feed"
        total += len(seqs)
    assert total == SUBMITS == world.count(FeedEntry)
    world.report("feeds", f"{total} entries over 2 integrators, seq 1..n each, no gap")


def test_the_survivor_sends_what_the_killed_worker_held_once_its_lease_runs_out(
    firms: World,
) -> None:
    world = firms
    assert world.in_flight > 0, "runs after the kill above (file order)"
    wait_until(
        lambda: world.delivered_rows() == world.delivery_rows(),
        WEBHOOK_LEASE_SECONDS + 30,
        "the killed worker's deliveries, after its lease",
    )
    received = world.receiver.counts()
    rows = world.delivery_rows()
    assert rows == SUBMITS
    assert len(received) == rows, "a delivery never reached the receiver"
    duplicates = {k: v for k, v in received.items() if v > 1}
    assert all(v == 2 for v in duplicates.values())
    assert not set(duplicates) & set(world.phase_one)  # only what was in flight at the kill
    # At most the one w1 was sending when killed (received, not yet recorded): sent again
    # under the same webhook-id (at least once; receivers deduplicate by id).
    assert len(duplicates) <= 1
    world.report(
        "webhooks, after the lease",
        f"w2 sent the {world.in_flight} w1 held; {len(duplicates)} received twice (same id); "
        f"{rows} deliveries in all, every webhook-id received",
    )
