"""The unscored baseline KPIs of questionnaire v2 (issue #12): recorded per assessment through
the answers PUT, validated against the questionnaire's ``kpis`` block, returned by the API and
never scored."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.answers import FULL, QUICK


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
