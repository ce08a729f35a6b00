"""The unscored baseline KPIs of questionnaire v2 (issue #12): recorded per assessment through
the answers PUT, validated against the questionnaire's ``kpis`` block, returned by the API and
never scored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.kit import clock
from app.models import Enterprise
from tests.answers import FULL, QUICK, questionnaire, submit_assessment
from tests.pages import HTML, soup, texts


def put(client: TestClient, assessment: dict[str, Any], body: dict[str, Any]) -> Any:
    return client.put(
        f"/api/v1/assessments/{assessment['id']}/answers",
        json={"answers": {}} | body,
        headers={"If-Match": assessment["etag"]},
    )


def test_kpis_are_stored_returned_and_cleared(signed_in: TestClient, start: Any) -> None:
    assessment = start(FULL)
    assert assessment["kpis"] == {}
    saved = put(signed_in, assessment, {"kpis": {"oee": 62.5, "inventory_days": 45}})
    assert saved.status_code == 200, saved.text
    assert saved.json()["kpis"] == {"oee": 62.5, "inventory_days": 45}
    fetched = signed_in.get(f"/api/v1/assessments/{assessment['id']}").json()
    assert fetched["kpis"] == {"oee": 62.5, "inventory_days": 45}
    assert fetched["answered_share"] == 0  # KPIs are not answers and are not scored
    cleared = put(signed_in, fetched, {"kpis": {"oee": None, "inventory_days": 40}})
    assert cleared.json()["kpis"] == {"inventory_days": 40}


def test_kpis_alone_need_no_answers_member(signed_in: TestClient, start: Any) -> None:
    assessment = start(FULL)
    response = signed_in.put(
        f"/api/v1/assessments/{assessment['id']}/answers",
        json={"kpis": {"first_pass_yield": 98.2}},
        headers={"If-Match": assessment["etag"]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["kpis"] == {"first_pass_yield": 98.2}
    assert response.json()["answers"] == {}
    # The contract says so: neither member is required.
    schema = signed_in.get("/openapi.json").json()["components"]["schemas"]["AnswersUpdate"]
    assert "answers" not in schema.get("required", []) and "kpis" in schema["properties"]


def test_bad_kpis_name_each_field_and_save_nothing(signed_in: TestClient, start: Any) -> None:
    assessment = start(QUICK)
    response = put(
        signed_in,
        assessment,
        {"kpis": {"oee": 140, "made_up": 1, "on_time_delivery": 95}},
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"]: e["code"] for e in response.json()["errors"]}
    assert fields == {"body.kpis.oee": "out_of_range", "body.kpis.made_up": "unknown_kpi"}
    after = signed_in.get(f"/api/v1/assessments/{assessment['id']}").json()
    assert after["kpis"] == {}


def test_a_boolean_is_not_a_kpi_value(signed_in: TestClient, start: Any) -> None:
    response = put(signed_in, start(QUICK), {"kpis": {"oee": True}})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body.kpis.oee"]


def test_v1_has_no_kpis(signed_in: TestClient, start: Any) -> None:
    response = put(signed_in, start(QUICK, questionnaire_version=1), {"kpis": {"oee": 60}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "unknown_kpi"


def submit_three(client: TestClient, enterprise: Enterprise) -> list[str]:
    """Three submissions a month apart, oldest first: the full questionnaire, then the quick
    check (KPIs compare across questionnaires), then the full one with no KPIs."""
    ids = []
    with clock.frozen(datetime(2026, 3, 2, 9, tzinfo=UTC)) as time:
        for questionnaire_id, kpis in (
            (FULL, {"oee": 60, "inventory_days": 50, "energy_per_output": 0.8}),
            (
                QUICK,
                {
                    "oee": 65.5,
                    "inventory_days": 55,
                    "energy_per_output": 0.8,
                    "on_time_delivery": 90,
                },
            ),
            (FULL, {}),
        ):
            body = submit_assessment(client, enterprise, questionnaire(questionnaire_id), kpis=kpis)
            ids.append(body["assessment_id"])
            time.advance(timedelta(days=30))
    return ids


def test_history_shows_each_kpi_before_and_after(
    signed_in: TestClient, enterprise: Enterprise
) -> None:
    first, second, third = submit_three(signed_in, enterprise)
    page = soup(signed_in.get("/history", headers=HTML))
    section = page.select_one("#kpi-history")
    assert "经营指标" in section.h2.get_text()
    # Newest first; the first submission has nothing before it but its own figures.
    tables = section.select("table.kpi-change")
    assert [t["id"] for t in tables] == [f"kpis-{third}", f"kpis-{second}", f"kpis-{first}"]
    rows = {r[0]: r[1:] for r in (texts(tr, "th, td") for tr in tables[1].select("tbody tr"))}
    assert rows["设备综合效率（OEE）或设备利用率，近三个月平均"][:3] == [
        "60 %",
        "65.5 %",
        "↑ 变好 （越高越好）",
    ]
    inventory = rows["库存周转天数（平均库存金额 ÷ 年销售成本 × 365）"]
    assert inventory[:2] == ["50 天", "55 天"] and "变差" in inventory[2]
    assert "不变" in rows["单位产值综合能耗（上年度能耗折标准煤 ÷ 产值）"][2]
    assert rows["订单准时交付率（近三个月按承诺日期交付的订单占比）"][:2] == ["未填写", "90 %"]
    # The last one recorded nothing: the figures before it, and "not recorded" after.
    last = [texts(tr, "td") for tr in tables[0].select("tbody tr")]
    assert len(last) == 4 and all(c[1] == "未填写" and c[2].startswith("—") for c in last)
    # The first submission has no earlier one: its own figures, nothing said of "before" (it
    # read "not recorded" there, as if the firm had left a previous assessment's figure blank).
    assert [texts(th, "th") for th in tables[2].select("thead tr")] == [["指标", "已填写"]]
    first_rows = [texts(tr, "td") for tr in tables[2].select("tbody tr")]
    assert ["60 %"] in first_rows and all(len(row) == 1 for row in first_rows)
    assert "首次提交，没有更早的数据可供对比" in tables[2].caption.get_text()
    assert "未填写" not in tables[2].get_text()
    english = soup(signed_in.get("/history", headers={**HTML, "accept-language": "en"}))
    cells = texts(english.select_one(f"#kpis-{second} tbody tr"), "td")
    assert cells == ["60 %", "65.5 %", "↑ better (higher is better)"]


def test_history_without_kpis_has_no_section(signed_in: TestClient, enterprise: Enterprise) -> None:
    submit_assessment(signed_in, enterprise, questionnaire(QUICK))
    page = soup(signed_in.get("/history", headers=HTML))
    assert page.select_one("svg.trend") is not None
    assert page.select_one("#kpi-history") is None
