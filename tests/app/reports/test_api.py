"""GET /api/v1/assessments/{id}/report.pdf: content, fonts, access, caching."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fontTools.ttLib import TTFont
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.kit import clock
from app.kit.clock import utcnow
from app.kit.dates import local_dates
from app.kit.db import Database
from app.kit.reference import DISTRICTS
from app.kit.settings import Settings
from app.models import Enterprise, ReportJob, ReportPdf, Result
from app.observability.metrics import REGISTRY
from app.questionnaires.catalog import QuestionnaireCatalog
from app.reports import service as report_service
from app.reports.fonts import REPORT_FAMILY, report_fonts
from app.reports.worker import ReportWorker
from app.worker import Worker, worker_for
from scoring import Questionnaire
from tests.answers import submit_assessment
from tests.app.reports.helpers import FIRM_NAME, Submit
from tests.factories import (
    create_api_key,
    create_enterprise,
    create_user,
    enterprise_payload,
    login,
)
from tests.pages import HTML
from tests.pdfs import compact, embedded_fonts, font_files, pdf_reader, pdf_text

#: An ISO calendar date, as the subsidy engine stores it in its texts.
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def url(assessment_id: object, lang: str | None = None) -> str:
    suffix = f"?lang={lang}" if lang else ""
    return f"/api/v1/assessments/{assessment_id}/report.pdf{suffix}"


def check_fonts(pdf: bytes) -> None:
    fonts = embedded_fonts(pdf)
    assert fonts, "no font in the PDF"
    assert all(fonts.values()), f"fonts not embedded: {fonts}"
    names = [name.split("+")[-1].replace("-", "").lower() for name in fonts]
    # Chinese is drawn with Noto Sans CJK's simplified-Chinese face, never the Japanese one.
    assert any("notosanscjksc" in name for name in names), fonts
    assert not any("cjkjp" in name for name in names), fonts
    if report_fonts().family == REPORT_FAMILY:  # charts included: no second, uncut CJK face
        assert all(name.startswith("notosanscjkscreport") for name in names), fonts
    # Deflated by app.reports.pdf (FONT_COMPRESSION), not by pydyf: still whole, readable faces.
    files = font_files(pdf)
    assert files.keys() == fonts.keys(), files.keys()
    for name, data in files.items():
        assert TTFont(io.BytesIO(data))["maxp"].numGlyphs > 1, name


def assert_footers(pdf: bytes, title: str, numbering: str) -> None:
    """Every page but the cover ends with the report's title and "page x of y" (report.css's
    margin boxes, in the language's words); the cover has neither."""
    pages = [compact(page.extract_text() or "") for page in pdf_reader(pdf).pages]
    assert title not in pages[0] and numbering.format(page=1, pages=len(pages)) not in pages[0]
    for number, text in enumerate(pages[1:], start=2):
        assert title in text, number
        assert numbering.format(page=number, pages=len(pages)) in text, number


class TestContent:
    def test_chinese_report(
        self, signed_in: TestClient, submit: Submit, full_questionnaire: Questionnaire
    ) -> None:
        result = submit()
        response = signed_in.get(url(result["assessment_id"], "zh"))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-language"] == "zh-CN"
        assert response.headers["content-disposition"].startswith("inline; filename=")
        assert response.headers["cache-control"] == "private, no-cache"
        pdf = response.content
        assert pdf.startswith(b"%PDF-")
        text = pdf_text(pdf)
        assert compact(FIRM_NAME) in text
        assert "智能制造成熟度评估报告" in text
        assert f"{result['rung']:.2f}" in text and result["rung_name"] in text
        for stage in full_questionnaire.stages:
            assert compact(stage.title.zh) in text
        assert "并非GB/T39116" in text  # the crosswalk's disclaimer
        assert "计分规则" in text  # methodology appendix
        # The charts are drawn (their labels), not replaced by their alternative text (the title).
        assert "本次得分" in text and "历次评估得分趋势" not in text
        # Every programme checked is listed (35; not-eligible ones run on, by verdict): ≤ 16 pages.
        assert 5 <= len(pdf_reader(pdf).pages) <= 16
        assert_footers(pdf, "zhizao·智能制造成熟度评估报告", "第{page}页，共{pages}页")
        check_fonts(pdf)

    def test_english_report(
        self, signed_in: TestClient, submit: Submit, full_questionnaire: Questionnaire
    ) -> None:
        result = submit()
        english = signed_in.get(f"/api/v1/assessments/{result['assessment_id']}/result?lang=en")
        response = signed_in.get(url(result["assessment_id"], "en"))
        assert response.status_code == 200, response.text
        assert response.headers["content-language"] == "en"
        pdf = response.content
        text = pdf_text(pdf)
        assert compact(FIRM_NAME) in text  # the firm's Chinese name, inside the English report
        assert "Smart-manufacturingmaturityreport" in text
        assert compact(english.json()["rung_name"]) in text
        for stage in full_questionnaire.stages:
            assert compact(stage.title.en) in text
        assert "notacertified" in text
        # Every programme checked is listed (35; not-eligible ones run on, by verdict): ≤ 16 pages.
        assert 5 <= len(pdf_reader(pdf).pages) <= 16
        assert_footers(pdf, "zhizao·Smart-manufacturingmaturityreport", "Page{page}of{pages}")
        check_fonts(pdf)

    def test_language_from_accept_language(self, signed_in: TestClient, submit: Submit) -> None:
        result = submit()
        response = signed_in.get(url(result["assessment_id"]), headers={"Accept-Language": "en"})
        assert response.headers["content-language"] == "en"
        assert "Smart-manufacturingmaturityreport" in pdf_text(response.content)

    def test_a_submission_after_midnight_in_shanghai_is_dated_there_everywhere(
        self, signed_in: TestClient, submit: Submit
    ) -> None:
        """00:03 in Shanghai is 16:03 UTC the day before: the PDF, its file name and the pages
        all give Shanghai's day (the pages and the file name gave UTC's, a day before the
        PDF's)."""
        with clock.frozen(datetime(2026, 12, 1, 16, 3, tzinfo=UTC)):
            result = submit()
        response = signed_in.get(url(result["assessment_id"], "zh"))
        assert "-20261202-" in response.headers["content-disposition"]
        assert "提交日期2026年12月2日" in pdf_text(response.content)
        days = {
            "zh": ("2026年12月2日", "2026年12月1日"),
            "en": ("December 2, 2026", "December 1, 2026"),
        }
        for lang, (shanghai, utc) in days.items():
            for page in (
                f"/assessments/{result['assessment_id']}/result",
                "/history",
                "/dashboard",
            ):
                html = signed_in.get(page, params={"lang": lang}, headers=HTML).text
                assert shanghai in html and utc not in html, (lang, page)
        axis = signed_in.get("/history", headers=HTML).text  # the trend chart's dates
        assert "2026年12月2日</text>" in axis and "2026年12月1日" not in axis
        assert "2026-12-0" not in axis  # in the reader's form, as the page's other dates

    def test_the_cover_names_the_questionnaire_by_its_title(
        self, signed_in: TestClient, submit: Submit, full_questionnaire: Questionnaire
    ) -> None:
        """The cover gave the questionnaire's slug beside its title ("智能制造成熟度自评
        (smart-manufacturing-maturity, 版本 2)"): an internal id, in both languages."""
        result = submit()
        version = full_questionnaire.version
        for lang, title in (
            ("zh", f"问卷{full_questionnaire.title.zh}（第{version}版）提交日期"),
            ("en", f"Questionnaire{full_questionnaire.title.en}(version{version})Submittedon"),
        ):
            text = pdf_text(signed_in.get(url(result["assessment_id"], lang)).content)
            assert compact(title) in text, lang
            assert full_questionnaire.id not in text, lang

    def test_a_stage_not_scored_is_said_so_and_asked_nothing_for_the_next_rung(
        self, signed_in: TestClient, submit: Submit, db: Session
    ) -> None:
        """A stage with no applicable answered question has no score and the rung asks nothing
        of it (design §3, rule 4: "every scored stage"); the stage table printed the next rung's
        least stage score (3.25) as "needed for next rung" beside it."""
        result = submit()
        row = db.query(Result).filter_by(assessment_id=uuid.UUID(result["assessment_id"])).one()
        payload = dict(row.payload)
        for lang in ("zh", "en"):
            stages = dict(payload[lang]["stages"])
            del stages["cloud_adoption"]  # as the engine stores a stage with no score
            payload[lang] = payload[lang] | {"stages": stages}
        row.payload = payload
        db.commit()
        chinese = pdf_text(signed_in.get(url(result["assessment_id"], "zh")).content)
        assert (
            compact(
                "上云用云1—未评估—不计入总分，也不影响等级：该阶段没有适用且已作答的题目。"
                "作答该阶段的题目后即可评分。"
            )
            in chinese
        )
        assert "且每个已评分阶段的得分不低于" in chinese  # the summary's condition, as rule 4
        english = pdf_text(signed_in.get(url(result["assessment_id"], "en")).content)
        assert (
            compact(
                "Cloud adoption 1 — not assessed — Counts towards neither the overall score nor "
                "the rung: no applicable question of this stage was answered. Answer its questions "
                "to have it scored."
            )
            in english
        )
        page = signed_in.get(
            f"/assessments/{result['assessment_id']}/result", params={"lang": "en"}, headers=HTML
        ).text
        assert 'Cloud adoption</td><td><span class="muted">not assessed' in page

    def test_the_trend_and_the_subsidies_date_as_the_cover(
        self, signed_in: TestClient, submit: Submit
    ) -> None:
        """The trend table and chart, and the subsidy section's validity and verdicts, gave
        ISO dates (2026-03-03) beside a cover dated 2026年3月3日."""
        with clock.frozen(datetime(2026, 3, 2, 17, 30, tzinfo=UTC)) as time:
            submit(0.4)
            time.advance(timedelta(days=60))
            second = submit(0.7)
        chinese = pdf_text(signed_in.get(url(second["assessment_id"], "zh")).content)
        assert compact("提交日期总分较上次成熟度等级2026年3月3日3.25—") in chinese
        assert compact("2026年5月2日（本次）") in chinese
        english = pdf_text(signed_in.get(url(second["assessment_id"], "en")).content)
        assert compact("March 3, 2026 3.25 —") in english
        assert compact("May 2, 2026 (this one)") in english
        assert compact("Mar 3, 2026") in english  # the chart's axis
        # The subsidy engine's texts: "whether it is in force on 2026-05-02", "ended on …"
        assert compact("in force on May 2, 2026") in english
        assert compact("在评估日（2026年5月2日）是否仍有效") in chinese
        for text in (chinese, english):
            found = [
                day
                for day in ISO_DAY.findall(text)
                # a programme's source may cite a date as its document does (catalogue data)
                if compact(f"施行；文件名未取得，据上海市政府英文网{day}") not in text
                and f"{day}起施行" not in text
            ]
            assert not found, found


def renders(origin: str) -> float:
    """PDF renders so far by origin (the process-wide metric; tests compare differences)."""
    return REGISTRY.get_sample_value("zhizao_report_renders_total", {"origin": origin}) or 0.0


@pytest.fixture
def report_worker(settings: Settings, full_questionnaire: Questionnaire) -> Iterator[Worker]:
    """The background worker as ``zhizao worker`` runs it: every job of ``build_jobs``."""
    database = Database(settings)
    worker = worker_for(database, settings)
    yield worker
    worker.close()
    database.dispose()


class TestRenderAhead:
    def test_submit_queues_both_languages_and_the_first_get_is_served_from_the_store(
        self, signed_in: TestClient, submit: Submit, db: Session, report_worker: Worker
    ) -> None:
        result = submit()
        assessment_id = uuid.UUID(result["assessment_id"])
        jobs = db.scalars(select(ReportJob).where(ReportJob.assessment_id == assessment_id))
        assert sorted(job.lang for job in jobs) == ["en", "zh"]  # written with the submission

        by_worker, by_request = renders("worker"), renders("request")
        report_worker.drain()
        assert renders("worker") == by_worker + 2
        db.rollback()  # a new transaction sees what the worker and the requests committed
        stored = {
            row.lang: row
            for row in db.scalars(select(ReportPdf).where(ReportPdf.assessment_id == assessment_id))
        }
        assert set(stored) == {"zh", "en"}
        assert db.scalar(select(func.count()).select_from(ReportJob)) == 0  # done, gone

        for lang, title in (
            ("zh", "智能制造成熟度评估报告"),
            ("en", "Smart-manufacturingmaturityreport"),
        ):
            response = signed_in.get(url(assessment_id, lang))
            assert response.status_code == 200, response.text
            assert response.content == stored[lang].pdf
            assert title in pdf_text(response.content)
            assert response.headers["etag"] == f'"{stored[lang].content_version}"'
        assert renders("request") == by_request  # no render in either request

    def test_a_request_before_the_worker_renders_and_stores_and_the_job_then_skips_it(
        self, signed_in: TestClient, submit: Submit, db: Session, report_worker: Worker
    ) -> None:
        result = submit()
        by_worker, by_request = renders("worker"), renders("request")
        first = signed_in.get(url(result["assessment_id"], "zh"))
        assert first.status_code == 200
        assert renders("request") == by_request + 1
        again = signed_in.get(url(result["assessment_id"], "zh"))
        assert again.content == first.content and renders("request") == by_request + 1
        report_worker.drain()
        assert renders("worker") == by_worker + 1  # English only: Chinese was stored already

    def test_a_renamed_firm_gets_a_fresh_report(
        self,
        signed_in: TestClient,
        submit: Submit,
        db: Session,
        enterprise: Enterprise,
        report_worker: Worker,
    ) -> None:
        result = submit()
        report_worker.drain()
        before = signed_in.get(url(result["assessment_id"], "zh"))
        db.get(Enterprise, enterprise.id).revision += 1  # type: ignore[union-attr]
        db.commit()
        by_request = renders("request")
        after = signed_in.get(url(result["assessment_id"], "zh"))
        assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
        assert renders("request") == by_request + 1  # the stored copy was stale
        db.rollback()  # a new transaction sees what the worker and the requests committed
        row = db.get(ReportPdf, (uuid.UUID(result["assessment_id"]), "zh"))
        assert row is not None and f'"{row.content_version}"' == after.headers["etag"]

    def test_a_changed_profile_leaves_the_profile_the_result_was_computed_for(
        self, signed_in: TestClient, submit: Submit, db: Session, enterprise: Enterprise
    ) -> None:
        """The score and the subsidy advice are kept as computed at submission, for the
        profile of then: the report prints that profile and says it has changed since (a firm
        that moved from Songjiang to Jiading and grew to 1,200 staff was printed in Jiading,
        large, beside advice matched as a Songjiang SME)."""
        firm = db.get(Enterprise, enterprise.id)
        assert firm is not None and firm.district_code != "310114"
        before = (firm.district_code, firm.size_class, firm.employees)
        result = submit()
        firm.district_code, firm.size_class, firm.employees = "310114", "large", 1200
        firm.revision += 1  # as the profile form does
        db.commit()
        text = pdf_text(signed_in.get(url(result["assessment_id"], "zh")).content)
        assert compact(f"从业人数{before[2]}") in text and "从业人数1200" not in text
        assert (
            compact(DISTRICTS[before[0]].zh) in text and "嘉定区" not in text.split("评估结论")[0]
        )
        assert compact("本次评估后企业信息已有变更") in text
        # A result kept before submissions recorded the profile prints today's, without a note.
        row = db.query(Result).filter_by(assessment_id=uuid.UUID(result["assessment_id"])).one()
        row.payload = {k: v for k, v in row.payload.items() if k != "assessed_as"}
        firm.revision += 1
        db.commit()
        text = pdf_text(signed_in.get(url(result["assessment_id"], "zh")).content)
        assert "从业人数1200" in text and "企业信息已有变更" not in text


class TestRefresh:
    """A stored report gone stale is rendered again ahead of its next GET: after the firm's
    profile changed (tests/app/enterprises/test_pages.py) and after a deployment changed the
    report's templates; the declared facts do not make it stale."""

    def test_new_facts_leave_the_stored_reports_current(
        self,
        signed_in: TestClient,
        submit: Submit,
        db: Session,
        enterprise: Enterprise,
        report_worker: Worker,
    ) -> None:
        """No report shows the declared facts (its subsidy advice is the one stored at
        submission): declaring them must not make the firm's reports stale, or every facts
        form sent would cost a render of each of them."""
        result = submit()
        assessment_id = uuid.UUID(result["assessment_id"])
        report_worker.drain()
        before = signed_in.get(url(assessment_id, "zh"))

        response = signed_in.put(
            f"/api/v1/enterprises/{enterprise.id}/facts", json={"facts": {"project_ready": True}}
        )
        assert response.status_code == 200, response.text
        db.rollback()
        assert db.scalar(select(func.count()).select_from(ReportJob)) == 0

        by_request = renders("request")
        after = signed_in.get(url(assessment_id, "zh"))
        assert after.status_code == 200 and after.headers["etag"] == before.headers["etag"]
        assert renders("request") == by_request  # still served stored

    def test_a_changed_template_is_rendered_again_by_the_worker_once(
        self,
        signed_in: TestClient,
        submit: Submit,
        db: Session,
        settings: Settings,
        report_worker: Worker,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        result = submit()
        assessment_id = uuid.UUID(result["assessment_id"])
        report_worker.drain()
        before = signed_in.get(url(assessment_id, "en"))
        # The deployment: new report templates, then the worker restarts.
        monkeypatch.setattr(report_service, "template_version", lambda: "deployed-next")
        database = Database(settings)
        restarted = ReportWorker(
            database, settings, QuestionnaireCatalog.from_directory(settings.QUESTIONNAIRES_DIR)
        )
        by_worker, by_request = renders("worker"), renders("request")
        try:
            now = utcnow()
            assert restarted.run_once(now) == 1  # the sweep; the second falls due 2 s later
            assert restarted.run_once(now + report_service.REFRESH_SPACING) == 1
            assert restarted.run_once(now + 10 * report_service.REFRESH_SPACING) == 0
        finally:
            database.dispose()
        assert renders("worker") == by_worker + 2  # once each: nothing stale is left
        after = signed_in.get(url(assessment_id, "en"))
        assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
        assert renders("request") == by_request
        db.rollback()
        assert db.scalar(select(func.count()).select_from(ReportJob)) == 0

    def test_refreshes_fall_due_spaced_and_are_not_queued_twice(
        self, submit: Submit, db: Session, report_worker: Worker, enterprise: Enterprise
    ) -> None:
        """Spaced, so that a submission made during a backlog of refreshes is not rendered
        after all of them (the outbox takes due jobs oldest first)."""
        for _ in range(2):
            submit()
        report_worker.drain()
        db.get(Enterprise, enterprise.id).revision += 1  # type: ignore[union-attr]
        db.flush()
        now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
        assert report_service.queue_refreshes(db, now=now) == 4
        assert report_service.queue_refreshes(db, now=now) == 0  # already pending
        due = sorted(job.next_attempt_at for job in db.scalars(select(ReportJob)))
        assert due == [now + n * report_service.REFRESH_SPACING for n in range(4)]
        db.rollback()


class TestCaching:
    def test_conditional_get_is_304(self, signed_in: TestClient, submit: Submit) -> None:
        result = submit()
        first = signed_in.get(url(result["assessment_id"], "zh"))
        second = signed_in.get(url(result["assessment_id"], "zh"))
        assert first.status_code == second.status_code == 200
        assert second.content == first.content
        etag = first.headers["etag"]
        assert second.headers["etag"] == etag
        again = signed_in.get(url(result["assessment_id"], "zh"), headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""

    def test_etag_differs_per_language_and_after_a_rename(
        self, signed_in: TestClient, submit: Submit, db: Session, enterprise: Enterprise
    ) -> None:
        result = submit()
        zh = signed_in.get(url(result["assessment_id"], "zh"), headers={"If-None-Match": "*"})
        assert zh.status_code == 304  # nothing rendered for a conditional request
        en = signed_in.get(url(result["assessment_id"], "en"), headers={"If-None-Match": "*"})
        assert zh.headers["etag"] != en.headers["etag"]
        db.get(Enterprise, enterprise.id).revision += 1  # type: ignore[union-attr]
        db.commit()
        renamed = signed_in.get(url(result["assessment_id"], "zh"), headers={"If-None-Match": "*"})
        assert renamed.headers["etag"] != zh.headers["etag"]


class TestAccess:
    def test_draft_has_no_report(self, signed_in: TestClient, enterprise: Enterprise) -> None:
        created = signed_in.post(
            f"/api/v1/enterprises/{enterprise.id}/assessments",
            json={"questionnaire_id": "smart-manufacturing-maturity"},
        )
        response = signed_in.get(url(created.json()["id"]))
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"

    def test_unknown_assessment_is_404(self, signed_in: TestClient) -> None:
        response = signed_in.get(url("00000000-0000-4000-8000-000000000000"))
        assert response.status_code == 404

    def test_other_firms_user_and_official_get_404(
        self, client: TestClient, submit: Submit, db: Session
    ) -> None:
        result = submit()
        other = create_enterprise(db)
        login(client, create_user(db, enterprise=other))
        assert client.get(url(result["assessment_id"])).status_code == 404
        login(client, create_user(db, role="official"))
        assert client.get(url(result["assessment_id"])).status_code == 404

    def test_anonymous_is_401(self, client: TestClient, submit: Submit) -> None:
        result = submit()
        client.cookies.clear()
        assert client.get(url(result["assessment_id"])).status_code == 401

    def test_integrator_needs_the_grant_and_reports_read(
        self,
        client: TestClient,
        db: Session,
        settings: Settings,
        full_questionnaire: Questionnaire,
    ) -> None:
        client.cookies.clear()
        writer_key, _ = create_api_key(
            db, settings, scopes=["enterprises:write", "assessments:write", "assessments:read"]
        )
        writer = {"Authorization": f"Bearer {writer_key}"}
        stranger_key, _ = create_api_key(db, settings)
        stranger = {"Authorization": f"Bearer {stranger_key}"}
        consent = {"given_by": "张经理", "given_at": "2026-11-20T09:00:00+08:00",
                   "method": "signed_form"}  # fmt: skip
        registered = client.post(
            "/api/v1/enterprises",
            json=enterprise_payload(name=FIRM_NAME) | {"consent": consent},
            headers=writer,
        )
        assert registered.status_code == 201, registered.text
        firm = db.get(Enterprise, uuid.UUID(registered.json()["id"]))
        assert firm is not None
        db.rollback()  # end the read: the app writes next
        result: dict[str, Any] = submit_assessment(client, firm, full_questionnaire, headers=writer)
        # Granted, but without reports:read: refused for the scope (not hidden).
        assert client.get(url(result["assessment_id"]), headers=writer).status_code == 403
        # Another integrator with every scope but no grant: the report does not exist for it.
        assert client.get(url(result["assessment_id"]), headers=stranger).status_code == 404


def test_openapi_documents_the_pdf(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][
        "/api/v1/assessments/{assessment_id}/report.pdf"
    ]["get"]
    assert "application/pdf" in operation["responses"]["200"]["content"]
    assert "404" in operation["responses"]
    assert any(p["name"] == "lang" for p in operation["parameters"])


def test_the_pdf_carries_the_subsidy_advice(
    client: TestClient, db: Session, full_questionnaire: Questionnaire
) -> None:
    """Summary sentence, the outcome groups, the "up to" total with what it left out and why,
    source / confidence / last-confirmed of each match, and roadmap steps' funding (issue 15)."""
    from app.kit import clock
    from tests.app.subsidies.test_api import ON, SONGJIANG, SONGJIANG_FACTS, _submit

    enterprise = create_enterprise(db, **SONGJIANG)
    login(client, create_user(db, enterprise=enterprise))
    client.put(f"/api/v1/enterprises/{enterprise.id}/facts", json={"facts": SONGJIANG_FACTS})
    with clock.frozen(ON):
        result = _submit(client, enterprise, full_questionnaire)
    advice, matches = result["subsidy_advice"], result["subsidies"]
    text = pdf_text(client.get(url(result["assessment_id"], "zh")).content)
    assert compact(advice["summary"]["text"]) in text
    for label in ("符合", "很可能符合", "接近符合", "待确认", "不符合"):
        count = advice["summary"][
            {"符合": "eligible", "很可能符合": "likely", "接近符合": "near", "待确认": "to_confirm",
             "不符合": "not_eligible"}[label]
        ]  # fmt: skip
        if count:
            assert f"{label}（{count}）" in text, label
    assert compact("合计最高约1,410,000元（3项可同时享受的政策）") in text
    # the testing support's "≤ 30 %" is a ceiling: its part of the total is a maximum
    assert compact("检验检测认证服务支持（“一测多证”）：最高约60,000元") in text
    assert "未计入合计的政策及原因" in text
    assert compact("技改和设备更新项目融资租赁补贴") in text and "不可叠加" in text
    shown = [m for m in matches if m["outcome"] in ("eligible", "likely", "near")]
    assert shown
    for match in shown:
        assert compact(match["source"]["document"])[:12] in text, match["id"]
        if match["last_confirmed"]:
            assert local_dates(match["last_confirmed"], "zh") in text
    assert "最近确认" in text and "可信度" in text
    # The engine's texts (stored with ISO dates) read with the reader's dates, as the cover's
    # ("已于2026年2月4日截止", not "已于2026-02-04截止").
    dated = [
        stored
        for match in matches
        for stored in (
            match["headline"],
            (match["validity"] or {}).get("text") if match["outcome"] != "not_eligible" else None,
        )
        if stored and ISO_DAY.search(stored)
    ]
    assert dated
    for stored in dated:
        assert compact(local_dates(stored, "zh")) in text and compact(stored) not in text, stored
    # Not-eligible programmes are condensed (one paragraph per verdict) but keep what they said:
    # the verdict with its count or deadline, the programme and each condition not met.
    not_eligible = [m for m in matches if m["outcome"] == "not_eligible"]
    assert not_eligible
    for match in not_eligible:
        assert compact(match["name"]) in text, match["id"]
        assert compact(local_dates(match["headline"], "zh")) in text, match["id"]
        for reason in match["reasons"]:
            if not reason["met"]:
                assert compact(f"{match['name']}（") in text and compact(reason["text"]) in text
    funded = [s for s in result["roadmap"]["steps"][:8] if s["funded_by"]]
    assert funded and "可申请资助" in text
    english = pdf_text(client.get(url(result["assessment_id"], "en")).content)
    assert compact(f"Checked {advice['summary']['checked']} programmes:") in english
    assert "Fundedby" in english and "Lastconfirmed" in english


def test_a_restarted_app_still_renders_reports(signed_in: TestClient, submit: Submit) -> None:
    """Shutting the app down closes its render pool; starting it again must not reuse the closed
    pool (every report then failed with "cannot schedule new futures after shutdown")."""
    result = submit()
    assert signed_in.get(url(result["assessment_id"], "zh")).status_code == 200  # a pool exists
    with TestClient(signed_in.app):  # one more lifespan: start-up, then shutdown
        pass
    response = signed_in.get(url(result["assessment_id"], "en"))  # not cached: rendered anew
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
