"""The report's view-model and HTML: built from the stored result, subsidies, trend, peers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.kit.clock import utcnow
from app.kit.settings import Settings
from app.models import Assessment, Enterprise, Result
from app.reports.pdf import render_html
from scoring import Questionnaire
from tests.answers import submit_assessment
from tests.app.heatmaps.helpers import publish_now, verified_firm
from tests.app.heatmaps.helpers import submit as heatmap_submit
from tests.app.reports.helpers import FIRM_NAME, Submit, context
from tests.factories import create_user, login
from tests.pages import HTML


def stored_result(db: Session, assessment_id: Any) -> Result:
    db.expire_all()
    result = db.query(Result).filter_by(assessment_id=uuid.UUID(str(assessment_id))).one()
    return result


MATCH_ZH: dict[str, Any] = {
    "id": "sh-smart-manufacturing-voucher",
    "name": "上海市智能制造应用券",
    "issuer": "上海市经济和信息化委员会",
    "level": "municipal",
    "region": "310000",
    "kind": "voucher",
    "summary": "按服务合同金额给予补贴。",
    "on": "2026-11-20",
    "status": "eligible",
    "fit": "eligible",
    "valid_from": "2026-01-01",
    "valid_until": "2026-12-31",
    "reasons": [{"field": "profile.size_class", "met": True, "missing": False,
                 "requirement": "企业为中小企业", "text": "满足：企业为中小企业"}],
    "todo": [],
    "missing_facts": [],
    "estimate": {"kind": "computed", "amount_cny": "300000.00",
                 "formula": "合同金额 × 30%", "text": "约 30 万元"},
    "recommendations": [],
    "source": {"document": "沪经信规〔2024〕1号", "issued_by": "上海市经信委", "year": 2024,
               "url": None},
    "confidence": "secondary",
    "confidence_note": "参数来自二手资料，申请前请核对原文。",
    "notes": None,
}  # fmt: skip


def _english(match: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return (
        match
        | {
            "name": "Shanghai smart-manufacturing voucher",
            "summary": "A share of the service contract.",
            "estimate": match["estimate"] | {"text": "about CNY 300,000"},
            "confidence_note": "Parameters come from secondary sources.",
        }
        | changes
    )


NEAR_ZH = MATCH_ZH | {
    "id": "sh-smart-factory-basic",
    "name": "上海市基础级智能工厂",
    "status": "near",
    "fit": "near",
    "todo": [{"field": "result.rung", "op": "gte", "must_be": True, "value": 3.5,
              "text": "成熟度等级达到 3.50", "why": "对应 CMMM 三级"}],
    "estimate": {"kind": "none", "amount_cny": None, "formula": None, "text": "无资金奖励"},
    "confidence": "unverified",
}  # fmt: skip
INELIGIBLE_ZH = MATCH_ZH | {"id": "far", "name": "不符合的项目", "status": "ineligible"}


class TestStoredResult:
    def test_scores_come_from_the_stored_payload_never_rescored(
        self, submit: Submit, db: Session, settings: Settings
    ) -> None:
        result = submit()
        row = stored_result(db, result["assessment_id"])
        payload = dict(row.payload)
        payload["zh"] = payload["zh"] | {"overall": 3.99}
        row.payload = payload
        db.commit()
        built = context(db, settings, result["assessment_id"], "zh")
        assert built.overall == "3.99"
        assert built.rung == f"{result['rung']:.2f}"
        assert context(db, settings, result["assessment_id"], "en").overall == (
            f"{result['overall']:.2f}"
        )

    def test_summary_stages_roadmap_and_methodology(
        self, submit: Submit, db: Session, settings: Settings, full_questionnaire: Questionnaire
    ) -> None:
        result = submit(0.4)
        built = context(db, settings, result["assessment_id"], "en")
        assert [row.id for row in built.stages] == [s.id for s in full_questionnaire.stages]
        assert (
            built.rung_name
            == (
                "Starting Planning Standardised Integrated Optimised Leading".split()[
                    [2.75, 3.0, 3.25, 3.5, 3.75, 4.0].index(result["rung"])
                ]
            )
        )
        assert "<svg" in built.ladder_svg and "<svg" in built.radar_svg
        if result["roadmap"] and result["roadmap"]["next_rung"] is not None:
            steps = result["roadmap"]["steps"]
            # a v2 plan is printed whole: every step is needed to reach the rung (issue 14)
            assert len(built.roadmap.steps) == len(steps) and built.roadmap.more_steps == 0
            assert built.roadmap.is_plan and built.roadmap.why_not_higher
            assert built.roadmap.starred == any(s["lifts_binding_stage"] for s in steps)
        assert built.held_back and all(line.endswith(".") for line in built.held_back)
        assert any("Σ" in rule for rule in built.methodology)

    def test_only_a_firm_on_the_top_rung_is_told_nothing_holds_it_back(
        self, submit: Submit, db: Session, settings: Settings, signed_in: TestClient
    ) -> None:
        """A result with nothing holding it back is either on the top rung or has no stage
        scored (a questionnaire may let every stage go unscored: no score, rung 2.75); the
        second was told it was on the top rung, and a top-rung firm that no next rung could
        be reached "by changing answers"."""
        top = submit(1.0)
        row = stored_result(db, top["assessment_id"])
        payload = dict(row.payload)  # the top rung, as all-best answers give it
        payload["en"] = payload["en"] | {"rung": 4.0, "held_back_by": [], "roadmap": None}
        row.payload = payload
        db.commit()
        built = context(db, settings, top["assessment_id"], "en")
        assert built.held_back == ["Nothing: the firm is on the top rung."]
        assert built.roadmap.intro == "The firm is on the top rung: there is no next rung."
        page = signed_in.get(
            f"/assessments/{top['assessment_id']}/result", params={"lang": "en"}, headers=HTML
        ).text
        assert "Nothing: you are on the top rung." in page
        assert "You are on the top rung: there is no next rung." in page
        assert "by changing answers" not in page

        bottom = submit(0.0)
        db.commit()  # a fresh snapshot: the app committed since
        row = stored_result(db, bottom["assessment_id"])
        payload = dict(row.payload)
        payload["en"] = payload["en"] | {"overall": None, "held_back_by": [], "roadmap": None}
        row.payload = payload
        db.commit()
        built = context(db, settings, bottom["assessment_id"], "en")
        assert built.rung == "2.75"
        assert built.held_back == [
            "Nothing can be said yet: no stage could be scored from the answers given."
        ]
        assert built.roadmap.intro == "No next rung can be reached by changing answers."

    def test_chinese_name_marked_in_the_english_report(
        self, submit: Submit, db: Session, settings: Settings
    ) -> None:
        result = submit()
        english = render_html(context(db, settings, result["assessment_id"], "en"))
        assert '<html lang="en">' in english
        assert f'<span lang="zh-CN">{FIRM_NAME}</span>' in english
        chinese = render_html(context(db, settings, result["assessment_id"], "zh"))
        assert '<html lang="zh-CN">' in chinese


class TestSubsidies:
    def test_a_result_stored_before_format_2_still_renders(
        self, submit: Submit, db: Session, settings: Settings
    ) -> None:
        result = submit()
        row = stored_result(db, result["assessment_id"])
        zh = [MATCH_ZH, NEAR_ZH, INELIGIBLE_ZH]
        en = [_english(MATCH_ZH), _english(NEAR_ZH, name="Basic smart factory"),
              _english(INELIGIBLE_ZH)]  # fmt: skip
        # The format-1 stored shape: a {"zh": …, "en": …} pair per programme with a status.
        row.subsidies = [{"zh": a, "en": b} for a, b in zip(zh, en, strict=True)]
        db.commit()
        html = render_html(context(db, settings, result["assessment_id"], "zh"))
        for text in (
            "已核对3个项目：1个符合、0个很可能符合、1个接近符合、1个不符合、0个待确认。",
            "该结果保存于合计金额功能上线之前",
            "上海市智能制造应用券",
            "满足：企业为中小企业",
            # Spaced as the Chinese report spaces (app.reports.texts.tighten_chinese).
            "约30万元",
            "合同金额 × 30%",
            "沪经信规〔2024〕1号",
            "参数来自二手资料",
            "上海市基础级智能工厂",
            "成熟度等级达到3.50",
            "对应CMMM三级",
            "参数未经核实",
            "不符合的项目",
            "服务券",  # the kind, labelled by scoring.subsidies.KIND_LABELS
            "市级",
        ):
            assert text in html, text  # fmt: skip
        english = render_html(context(db, settings, result["assessment_id"], "en"))
        assert "Shanghai smart-manufacturing voucher" in english
        assert "Checked 3 programmes: 1 eligible, 0 likely, 1 near" in english
        assert "Voucher" in english and "Municipal" in english

    def test_no_subsidies_renders_gracefully(
        self, submit: Submit, db: Session, settings: Settings
    ) -> None:
        result = submit()
        row = stored_result(db, result["assessment_id"])
        row.subsidies = []
        db.commit()
        html = render_html(context(db, settings, result["assessment_id"], "en"))
        assert "Checked 0 programmes: 0 eligible" in html


class TestTrend:
    def test_earlier_submissions_only(
        self, submit: Submit, db: Session, settings: Settings
    ) -> None:
        first = submit(0.3)
        second = submit(0.7)
        third = submit(0.5)
        for assessment_id, when in (
            (first["assessment_id"], datetime(2025, 6, 1, 4, tzinfo=UTC)),
            (second["assessment_id"], datetime(2026, 1, 5, 4, tzinfo=UTC)),
        ):
            db.get(Assessment, uuid.UUID(assessment_id)).submitted_at = when  # type: ignore[union-attr]
        db.commit()
        built = context(db, settings, second["assessment_id"], "zh")
        assert [row.date for row in built.trend] == ["2025年6月1日", "2026年1月5日"]
        assert [row.this_one for row in built.trend] == [False, True]
        delta = Decimal(str(second["overall"])) - Decimal(str(first["overall"]))
        assert built.trend[1].change == f"{delta:+.2f}"
        latest = context(db, settings, third["assessment_id"], "zh")
        assert len(latest.trend) == 3 and latest.trend[-1].this_one
        assert "历次评估得分趋势" in latest.trend_svg

    def test_first_assessment_says_so(
        self, submit: Submit, db: Session, settings: Settings
    ) -> None:
        result = submit()
        html = render_html(context(db, settings, result["assessment_id"], "en"))
        assert "first assessment with this questionnaire" in html


class TestPeers:
    """The peer comparison reads the heatmaps' latest publication, never other firms' scores:
    a percentile computed live from them (exact, unperturbed, at once) let a firm that
    submitted chosen scores read back every peer's score to the hundredth."""

    def test_the_comparison_is_the_published_share_of_the_industry(
        self,
        client: TestClient,
        db: Session,
        settings: Settings,
        full_questionnaire: Questionnaire,
        enterprise: Enterprise,
    ) -> None:
        login(client, create_user(db, role="admin"))
        at = utcnow()
        for index in range(settings.HEATMAP_MIN_CELL - 1):
            peer = verified_firm(db, industry_code="36", name=f"同行企业{index}")
            heatmap_submit(db, peer, at, overall=f"{3.0 + index * 0.2:.2f}", rung="3.00")
        mine = submit_assessment(client, enterprise, full_questionnaire, position=0.6)
        assert not context(db, settings, mine["assessment_id"], "en").peer.shown  # unpublished
        publish_now(db, settings.HEATMAP_MIN_CELL)
        hidden = context(db, settings, mine["assessment_id"], "en").peer
        assert not hidden.shown and "fewer than" in hidden.text  # too few: suppressed

        peer = verified_firm(db, industry_code="36", name="同行企业末")
        heatmap_submit(db, peer, at, overall="3.80", rung="3.75")
        publish_now(db, settings.HEATMAP_MIN_CELL)
        rung = f"{max(mine['rung'], 3.0):.2f}"
        published = client.get(
            "/api/v1/heatmaps",
            params={"cut": "district-industry", "metric": "share", "rung": rung},
        ).json()
        column = [label["key"] for label in published["columns"]].index("36")
        total = published["column_totals"][column]
        shown = context(db, settings, mine["assessment_id"], "en").peer
        assert shown.shown, shown.text
        assert f"about {round(total['value'])}% of the verified" in shown.text
        assert f"{total['count_band']} firms" in shown.text and f"rung {rung}" in shown.text

        # A submission of any score changes nothing until the next publication.
        probe = verified_firm(db, industry_code="36", name="试探企业")
        heatmap_submit(db, probe, utcnow(), overall="3.99", rung="3.75")
        assert context(db, settings, mine["assessment_id"], "en").peer.text == shown.text
