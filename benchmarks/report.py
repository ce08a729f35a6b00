"""PDF report benchmark, and the example reports in docs/examples/.

    .venv/bin/python benchmarks/report.py                 # measure (results: docs/benchmarks.md)
    .venv/bin/python benchmarks/report.py --examples docs/examples   # write the example PDFs

Builds a demo firm in a throw-away SQLite database: three submissions of the full
questionnaire over a year, seven verified peers of the same industry, and the subsidy matches
the submission stores (the catalogue's programmes, matched on submission). Then measures

* the median time to render the full report (context + HTML + WeasyPrint), target ≤ 0.4 s CPU
  (Chinese);
* the render-ahead: the report worker renders the jobs the submission queued; then the first
  GET after submitting (a cache hit, ≤ 15 ms) and the median of 50 more through the API
  (TestClient, signed-in user);
* the resident memory after 10 and after 200 renders (must stay within 50 MB).
"""

from __future__ import annotations

import argparse
import gc
import io
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app import hooks  # noqa: E402
from app.assessments import service as assessments  # noqa: E402
from app.assessments.schemas import AnswersUpdate, AssessmentCreate  # noqa: E402
from app.enterprises import service as enterprise_service  # noqa: E402
from app.enterprises.schemas import EnterpriseCreate  # noqa: E402
from app.kit.db import Database, create_db_engine, create_session_factory  # noqa: E402
from app.kit.i18n import Lang  # noqa: E402
from app.kit.migrations import upgrade  # noqa: E402
from app.kit.principal import CLI  # noqa: E402
from app.kit.settings import Environment, Settings  # noqa: E402
from app.models import Enterprise, Result  # noqa: E402
from app.observability.metrics import REGISTRY  # noqa: E402
from app.questionnaires.catalog import QuestionnaireCatalog  # noqa: E402
from app.reports import service as reports  # noqa: E402
from app.reports.pdf import render_pdf  # noqa: E402
from app.reports.worker import ReportWorker  # noqa: E402
from app.results import service as results  # noqa: E402
from scoring import Question, Questionnaire, applicable_questions  # noqa: E402
from scoring.subsidy_loader import load_subsidies  # noqa: E402

FULL = "smart-manufacturing-maturity"
DEMO_NAME = "上海示例精密机械有限公司（演示）"
DEMO_CREDIT_CODE = "91310115MA1FL3K293"


def _credit_code(n: int, region: str = "310115") -> str:
    """A structurally valid, fabricated credit code (reference/domain.md §4.4)."""
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body8 = f"MB{n:06d}"
    weights9 = [3, 7, 9, 10, 5, 8, 4, 2]

    def value(c: str) -> int:
        return int(c) if c.isdigit() else ord(c) - 55

    c9 = 11 - sum(value(c) * w for c, w in zip(body8, weights9, strict=True)) % 11
    org9 = body8 + {10: "X", 11: "0"}.get(c9, str(c9))
    body17 = "91" + region + org9
    weights = [pow(3, i, 31) for i in range(17)]
    total = sum(charset.index(c) * w for c, w in zip(body17, weights, strict=True))
    return body17 + charset[(31 - total % 31) % 31]


def _pick(question: Question, position: float) -> Any:
    if question.type == "number":
        assert question.min is not None and question.max is not None
        value = question.min + (question.max - question.min) * Decimal(str(position))
        return int(value) if value == int(value) else float(value)
    options = [o for o in question.options if not (question.type == "multi" and o.exclusive)]
    chosen = options[min(len(options) - 1, int(position * len(options)))]
    return chosen.id if question.type == "single" else [chosen.id]


def _answers(
    questionnaire: Questionnaire, profile: dict[str, object], positions: dict[str, float]
) -> dict[str, Any]:
    """Answers to every applicable question; ``positions`` per stage (0 lowest, 1 highest)."""
    stage_of = {q.id: s.id for s in questionnaire.stages for q in s.questions}
    answers: dict[str, Any] = {}
    for _ in range(3):
        for question in applicable_questions(questionnaire, answers, profile):
            answers.setdefault(question.id, _pick(question, positions[stage_of[question.id]]))
        answers = {
            q.id: answers[q.id]
            for q in applicable_questions(questionnaire, answers, profile)
            if q.id in answers
        }
    return answers


def _enterprise(session: Session, name: str, credit_code: str, **extra: Any) -> Enterprise:
    data = EnterpriseCreate(
        credit_code=credit_code,
        name=name,
        district_code=extra.pop("district_code", "310115"),
        industry_code="34",
        employees=extra.pop("employees", 120),
        annual_revenue_cny=Decimal(extra.pop("revenue", 45_000_000)),
    )
    enterprise = enterprise_service.add_enterprise(session, CLI, data)
    enterprise.verified = True
    enterprise.verified_method = "admin"
    enterprise.verified_at = datetime.now(UTC)
    for key, value in extra.items():
        setattr(enterprise, key, value)
    session.flush()
    return enterprise


def _submit(
    session: Session,
    catalog: QuestionnaireCatalog,
    enterprise: Enterprise,
    positions: dict[str, float],
    when: datetime,
    programmes: list[Any],
) -> Result:
    questionnaire = catalog.get(FULL)
    assert questionnaire is not None
    assessment = assessments.create(
        session, CLI, catalog, enterprise.id, AssessmentCreate(questionnaire_id=FULL)
    )
    session.commit()
    profile = enterprise_service.scoring_profile(enterprise)
    answers = _answers(questionnaire, profile, positions)
    assessments.update_answers(
        session, CLI, catalog, assessment.id, AnswersUpdate(answers=answers),
        assessments.etag_of(assessment), "zh",
    )  # fmt: skip
    session.commit()
    assessments.submit(
        session, CLI, catalog, assessment.id, if_match=assessments.etag_of(assessment),
        idempotency_key=None, request_fingerprint="benchmark", lang="zh",
        programmes=programmes,
    )  # fmt: skip
    result = results.of_assessment(session, assessment)
    assert result is not None
    assessment.submitted_at = when
    result.computed_at = when
    session.commit()
    return result


@dataclass
class Demo:
    settings: Settings
    catalog: QuestionnaireCatalog
    sessions: Any
    enterprise_id: Any
    assessment_id: Any


def build_demo(directory: Path) -> Demo:
    url = f"sqlite:///{directory / 'report-bench.db'}"
    engine = create_db_engine(url)
    upgrade(engine)
    settings = Settings(
        ENV=Environment.testing, DATABASE_URL=url, SECRET_KEY=secrets.token_urlsafe(32)
    )
    catalog = QuestionnaireCatalog.from_directory(settings.QUESTIONNAIRES_DIR)
    programmes = load_subsidies(settings.SUBSIDIES_DIR)
    sessions = create_session_factory(engine)
    with sessions() as session:
        catalog.record_published(session)
        session.commit()
        firm = _enterprise(
            session,
            DEMO_NAME,
            DEMO_CREDIT_CODE,
            synthetic=True,
            facts={"project_investment_cny": "8000000", "fixed_asset_share_pct": 70},
        )
        session.commit()
        for index in range(7):
            peer = _enterprise(
                session, f"演示同行企业{index + 1}号有限公司", _credit_code(index + 1),
                synthetic=True,
            )  # fmt: skip
            level = 0.15 + 0.11 * index
            _submit(
                session, catalog, peer,
                {"digitization": level, "automation": level, "data_collection": level,
                 "cloud_adoption": level},
                datetime(2026, 6, 1, 9, tzinfo=UTC) + timedelta(days=index), programmes,
            )  # fmt: skip
        history = [
            ({"digitization": 0.35, "automation": 0.3, "data_collection": 0.1,
              "cloud_adoption": 0.2}, datetime(2025, 11, 20, 2, tzinfo=UTC)),
            ({"digitization": 0.6, "automation": 0.45, "data_collection": 0.2,
              "cloud_adoption": 0.4}, datetime(2026, 5, 12, 3, tzinfo=UTC)),
            ({"digitization": 0.8, "automation": 0.7, "data_collection": 0.4,
              "cloud_adoption": 0.6}, datetime(2026, 11, 18, 6, tzinfo=UTC)),
        ]  # fmt: skip
        last: Result | None = None
        for positions, when in history:
            last = _submit(session, catalog, firm, positions, when, programmes)
        assert last is not None
        return Demo(settings, catalog, sessions, firm.id, last.assessment_id)


def _context(demo: Demo, session: Session, lang: Lang) -> Any:
    located = reports.locate(session, CLI, demo.catalog, demo.assessment_id, lang)
    return reports.context_for(session, demo.settings, located, lang)


def write_examples(demo: Demo, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with demo.sessions() as session:
        for lang in ("zh", "en"):
            pdf = render_pdf(
                _context(demo, session, lang), static_dir=demo.settings.STATIC_DIR, origin="script"
            )
            path = target / f"report-{lang}.pdf"
            path.write_bytes(pdf)
            print(f"wrote {path} ({len(pdf) // 1024} KB)")
            subprocess.run(
                ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                 str(path), str(target / f"report-{lang}-page1")],
                check=True,
            )  # fmt: skip
            subprocess.run(
                ["pdftoppm", "-png", "-r", "80", "-f", "2", "-l", "2", "-singlefile",
                 str(path), str(target / f"report-{lang}-page2")],
                check=True,
            )  # fmt: skip
            print(f"wrote {target / f'report-{lang}-page1.png'} and page2.png")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def calibration() -> float:
    """CPU seconds of a fixed pure-Python loop: ~0.55 s on an idle 3 GHz core. Divide the
    figures below by (this / 0.55) to compare runs on busier or slower machines."""
    started = time.process_time()
    sum(i * i for i in range(10**7))
    return time.process_time() - started


def measure(demo: Demo, renders: int) -> None:
    from fastapi.testclient import TestClient

    from app.main import create_app

    static_dir = demo.settings.STATIC_DIR
    figures: dict[str, str] = {}
    with demo.sessions() as session:
        for lang in ("zh", "en"):
            render_pdf(
                _context(demo, session, lang), static_dir=static_dir, origin="script"
            )  # warm up
            walls: list[float] = []
            cpus: list[float] = []
            for _ in range(9):
                started, cpu_started = time.perf_counter(), time.process_time()
                pdf = render_pdf(
                    _context(demo, session, lang), static_dir=static_dir, origin="script"
                )
                walls.append(time.perf_counter() - started)
                cpus.append(time.process_time() - cpu_started)
            figures[f"render {lang}"] = (
                f"median {statistics.median(walls) * 1000:.0f} ms wall, "
                f"{statistics.median(cpus) * 1000:.0f} ms CPU (9 runs; "
                f"{len(pdf) // 1024} KB, {len(PdfReader(io.BytesIO(pdf)).pages)} pages)"
            )
            print(f"full report render ({lang}): {figures[f'render {lang}']}", flush=True)

        # memory: render the Chinese report repeatedly
        rss: dict[int, float] = {}
        for index in range(1, renders + 1):
            render_pdf(_context(demo, session, "zh"), static_dir=static_dir, origin="script")
            if index in (10, renders):
                gc.collect()
                rss[index] = _rss_mb()
                print(f"RSS after {index} renders: {rss[index]:.1f} MB", flush=True)
        figures["memory"] = (
            f"RSS {rss[10]:.0f} MB after 10 renders, {rss[renders]:.0f} MB after {renders} "
            f"(+{rss[renders] - rss[10]:.1f} MB)"
        )

    # cached fetch through the API, as an admin user would
    from app.accounts import service as accounts_service

    with demo.sessions() as session:
        accounts_service.create_user(
            session, CLI, email="bench@example.com", password="correct horse battery",
            role="admin",
        )  # fmt: skip
        session.commit()
    # Render-ahead: the submission queued both languages; the worker renders them, so the
    # first GET after submitting is served from the store.
    database = Database(demo.settings)
    try:
        worker = ReportWorker(database, demo.settings, demo.catalog)
        started, jobs = time.process_time(), 0
        while done := worker.run_once():  # the peers' submissions queued theirs too
            jobs += done
        figures["render-ahead"] = (
            f"the worker ran {jobs} queued jobs in {time.process_time() - started:.1f} s CPU"
        )
        print(f"render-ahead: {figures['render-ahead']}", flush=True)
    finally:
        database.dispose()
    # The queue is drained above; an embedded worker thread would only compete with the requests.
    app = create_app(demo.settings.model_copy(update={"WEBHOOK_WORKER": "off"}))
    with TestClient(app) as client:
        response = client.post(
            "/api/v1/session",
            json={"email": "bench@example.com", "password": "correct horse battery"},
        )
        assert response.status_code == 200, response.text
        url = f"/api/v1/assessments/{demo.assessment_id}/report.pdf?lang=zh"
        # The process's first request of the route pays its lazy imports: the English report
        # first, so that the Chinese one's first GET is what a running service answers.
        started = time.perf_counter()
        assert client.get(url.replace("lang=zh", "lang=en")).status_code == 200
        process_first = time.perf_counter() - started
        started = time.perf_counter()
        first = client.get(url)
        cold = time.perf_counter() - started
        in_requests = REGISTRY.get_sample_value(
            "zhizao_report_renders_total", {"origin": "request"}
        )
        assert first.status_code == 200, first.text
        times = []
        for _ in range(50):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
        figures["cached"] = (
            f"median {statistics.median(times) * 1000:.1f} ms (p90 "
            f"{sorted(times)[44] * 1000:.1f} ms; 50 requests); first GET after submit (worker ran) "
            f"{cold * 1000:.1f} ms (the process's first request, English: "
            f"{process_first * 1000:.0f} ms); renders in requests: {in_requests or 0:.0f}"
        )
        print(f"cached fetch via API: {figures['cached']}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=Path, help="write report-zh/en.pdf and PNGs here")
    parser.add_argument(
        "--renders",
        type=int,
        default=200,
        help="renders for the memory check (at least 10: it compares the RSS after 10 with it)",
    )
    args = parser.parse_args()
    if args.renders < 10:
        parser.error("--renders must be at least 10")
    hooks.install()  # the demo firm's submission publishes assessment.submitted
    with tempfile.TemporaryDirectory() as directory:
        demo = build_demo(Path(directory))
        if args.examples:
            write_examples(demo, args.examples)
        else:
            load = Path("/proc/loadavg").read_text().split()[:3]
            print(f"python {sys.version.split()[0]}, date {date.today()}, load {' '.join(load)}")
            print(f"calibration loop: {calibration():.2f} s CPU (≈0.55 s on an idle core)")
            measure(demo, args.renders)


if __name__ == "__main__":
    main()
