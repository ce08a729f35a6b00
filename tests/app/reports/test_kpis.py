"""The report's baseline KPI section (issue #12): this assessment's figures against the firm's
previous assessment, read back from the rendered PDF; no section when none was recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from app.kit import clock
from app.models import Enterprise
from scoring import Questionnaire
from tests.answers import QUICK, questionnaire, submit_assessment
from tests.pdfs import compact, pdf_text


def report(client: TestClient, assessment_id: str, lang: str) -> str:
    response = client.get(f"/api/v1/assessments/{assessment_id}/report.pdf?lang={lang}")
    assert response.status_code == 200, response.text
    return pdf_text(response.content)


def test_report_shows_each_kpi_before_and_after(
    signed_in: TestClient, enterprise: Enterprise, full_questionnaire: Questionnaire
) -> None:
    with clock.frozen(datetime(2026, 3, 2, 9, tzinfo=UTC)) as time:
        first = submit_assessment(
            signed_in, enterprise, questionnaire(QUICK), kpis={"oee": 58, "inventory_days": 40}
        )
        time.advance(timedelta(days=60))
        second = submit_assessment(
            signed_in,
            enterprise,
            full_questionnaire,
            kpis={"oee": 66.5, "inventory_days": 48, "energy_per_output": 0.42},
        )
    text = report(signed_in, second["assessment_id"], "zh")
    assert compact("经营指标：前后对比") in text
    # The row of each KPI: its text, before, after, the verdict by its `better`.
    assert compact("设备综合效率（OEE）或设备利用率，近三个月平均58%66.5%变好（越高越好）") in text
    assert compact("库存周转天数（平均库存金额÷年销售成本×365）40天48天变差（越低越好）") in text
    assert compact("未填写0.42吨标煤/万元—（越低越好）") in text
    assert "订单准时交付率" not in text  # recorded by neither
    english = report(signed_in, second["assessment_id"], "en")
    assert compact("Operating figures: before and after") in english
    assert compact("58 % 66.5 % better (higher is better)") in english
    assert compact("not recorded 0.42 tce per CNY 10,000") in english
    # The first assessment has no previous one: its own figures, and it says so. It printed
    # "上一次评估: 未填写" ("previous assessment: not filled in"), as if the firm had left a
    # figure of an earlier assessment blank.
    chinese = report(signed_in, first["assessment_id"], "zh")
    assert compact("这是企业的首次评估，没有上一次评估可供对比") in chinese
    assert (
        compact("指标本次评估设备综合效率（OEE）或设备利用率，近三个月平均（越高越好）58%")
        in chinese
    )
    assert "上一次评估" not in chinese.split("经营指标")[1].replace("没有上一次评估", "")
    assert "未填写" not in chinese and "经营指标：前后对比" not in chinese
    english = report(signed_in, first["assessment_id"], "en")
    assert compact("This is the firm's first assessment: there is no earlier one") in english
    assert compact("Inventory days (average stock value ÷ yearly cost of goods sold × 365)") in (
        english
    )
    assert "Inthepreviousassessment" not in english and "notrecorded" not in english


def test_no_kpi_section_when_none_was_recorded(
    signed_in: TestClient, enterprise: Enterprise, full_questionnaire: Questionnaire
) -> None:
    result = submit_assessment(signed_in, enterprise, full_questionnaire)
    assert "经营指标" not in report(signed_in, result["assessment_id"], "zh")
    assert "Operatingfigures" not in report(signed_in, result["assessment_id"], "en")


def test_a_figure_reads_as_on_the_pages_however_many_decimals_it_was_sent_with(
    signed_in: TestClient, enterprise: Enterprise, full_questionnaire: Questionnaire
) -> None:
    """0.27999999999999997 (0.28 as a client's float arithmetic sends it) printed with all its
    seventeen decimals ran into the next column; the PDF now shows what the pages show."""
    result = submit_assessment(
        signed_in, enterprise, full_questionnaire, kpis={"energy_per_output": 0.27999999999999997}
    )
    assert compact("0.28吨标煤/万元") in report(signed_in, result["assessment_id"], "zh")
    assert "0.2799" not in report(signed_in, result["assessment_id"], "zh")
    assert compact("0.28 tce per CNY 10,000") in report(signed_in, result["assessment_id"], "en")
