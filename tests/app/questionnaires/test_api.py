from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.kit.settings import PROJECT_ROOT, Settings
from app.main import create_app
from app.questionnaires.catalog import PublishedVersionChanged
from tests.answers import QUICK, questionnaire


class TestList:
    def test_lists_both_questionnaires_in_chinese_by_default(self, client: TestClient) -> None:
        response = client.get("/api/v1/questionnaires")
        assert response.status_code == 200
        assert response.headers["Content-Language"] == "zh-CN"
        by_id = {q["id"]: q for q in response.json()}
        assert set(by_id) == {"smart-manufacturing-maturity", "quick-check"}
        # The latest versions are listed; v2's quick check adds planning, management, skills,
        # energy and service (a discrete plant sees 15 of its 16 questions).
        assert [by_id[q]["version"] for q in sorted(by_id)] == [2, 2]
        assert by_id["quick-check"]["question_count"] <= 16
        assert not by_id["quick-check"]["title"].isascii()

    def test_english_by_query(self, client: TestClient) -> None:
        response = client.get("/api/v1/questionnaires", params={"lang": "en"})
        assert response.headers["Content-Language"] == "en"
        assert all(q["title"].isascii() for q in response.json())


class TestGet:
    def test_full_questionnaire_stages_in_order(self, client: TestClient) -> None:
        body = client.get("/api/v1/questionnaires/smart-manufacturing-maturity").json()
        assert [s["id"] for s in body["stages"]] == [
            "digitization",
            "automation",
            "data_collection",
            "cloud_adoption",
        ]
        assert body["versions"] == [1, 2] and body["version"] == 2
        assert all(8 <= len(s["questions"]) <= 14 for s in body["stages"])

    def test_etag_and_304(self, client: TestClient) -> None:
        url = "/api/v1/questionnaires/smart-manufacturing-maturity"
        first = client.get(url)
        etag = first.headers["etag"]
        assert first.headers["content-language"] == "zh-CN"
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        english = client.get(url, params={"lang": "en"}, headers={"If-None-Match": etag})
        assert english.status_code == 200 and english.headers["etag"] != etag
        assert english.headers["content-language"] == "en"
        older = client.get(url, params={"version": 1}, headers={"If-None-Match": etag})
        assert older.status_code == 200 and older.json()["version"] == 1

    def test_unknown_is_404(self, client: TestClient) -> None:
        assert client.get("/api/v1/questionnaires/nope").status_code == 404
        assert (
            client.get("/api/v1/questionnaires/quick-check", params={"version": 7}).status_code
            == 404
        )

    def test_bad_version_is_422(self, client: TestClient) -> None:
        response = client.get("/api/v1/questionnaires/quick-check", params={"version": "x"})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "query.version"


class TestKpis:
    """The v2 ``kpis`` block: what ``PUT /assessments/{id}/answers {"kpis": …}`` accepts is
    discoverable here (API fuzzing round: the endpoint did not return it)."""

    def test_served_localised_with_unit_bounds_and_direction(self, client: TestClient) -> None:
        served = questionnaire(QUICK)
        assert served.kpis, "questionnaire v2 has a KPI block"
        url = f"/api/v1/questionnaires/{QUICK}"
        english = client.get(url, params={"lang": "en"}).json()
        chinese = client.get(url, params={"lang": "zh"}).json()
        assert english["kpis"] == [
            {
                "id": kpi.id,
                "text": kpi.text.en,
                "unit": kpi.unit.en,
                "min": float(kpi.min),
                "max": float(kpi.max),
                "better": kpi.better,
                "refs": list(kpi.refs),
            }
            for kpi in served.kpis
        ]
        assert [k["text"] for k in chinese["kpis"]] == [kpi.text.zh for kpi in served.kpis]
        assert not chinese["kpis"][0]["text"].isascii()

    def test_a_version_without_kpis_says_so(self, client: TestClient) -> None:
        v1 = client.get(f"/api/v1/questionnaires/{QUICK}", params={"version": 1}).json()
        assert v1["kpis"] == []

    def test_documented_in_the_openapi_document(self, client: TestClient) -> None:
        schemas = client.get("/openapi.json").json()["components"]["schemas"]
        assert "kpis" in schemas["QuestionnaireOut"]["required"]
        assert schemas["QuestionnaireOut"]["properties"]["kpis"]["items"] == {
            "$ref": "#/components/schemas/KpiOut"
        }
        kpi = schemas["KpiOut"]
        assert set(kpi["required"]) == {"id", "text", "unit", "min", "max", "better", "refs"}
        assert kpi["properties"]["better"]["enum"] == ["higher", "lower"]

    def test_what_it_serves_is_what_the_answers_put_accepts(
        self, client: TestClient, signed_in: TestClient, start: Any
    ) -> None:
        kpis = client.get(f"/api/v1/questionnaires/{QUICK}").json()["kpis"]
        assessment = start(QUICK)
        url = f"/api/v1/assessments/{assessment['id']}/answers"
        at_bounds = {k["id"]: k["max"] if i % 2 else k["min"] for i, k in enumerate(kpis)}
        saved = signed_in.put(url, json={"kpis": at_bounds}, headers={"If-Match": "*"})
        assert saved.status_code == 200, saved.text
        assert saved.json()["kpis"] == at_bounds
        beyond = {k["id"]: k["max"] + 1 for k in kpis}
        refused = signed_in.put(url, json={"kpis": beyond}, headers={"If-Match": "*"})
        assert refused.status_code == 422
        assert {e["field"] for e in refused.json()["errors"]} == {
            f"body.kpis.{k['id']}" for k in kpis
        }


def test_start_up_refuses_a_changed_published_version(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    with TestClient(create_app(settings)):
        pass  # records the published hashes
    changed = tmp_path / "questionnaires"
    shutil.copytree(PROJECT_ROOT / "questionnaires", changed)
    path = changed / "quick-check.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("5", "6", 1), encoding="utf-8")
    edited = settings.model_copy(update={"QUESTIONNAIRES_DIR": changed})
    with pytest.raises(PublishedVersionChanged, match="quick-check v1"):
        with TestClient(create_app(edited)):
            pass
