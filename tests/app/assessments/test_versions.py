"""Questionnaire versions (issue #12): new assessments get v2, integrators may still ask for v1,
and assessments made on v1 keep rendering on the wizard, the result page and in the PDF."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.kit.settings import Settings
from app.models import Enterprise
from tests.answers import FULL, QUICK, questionnaire, submit_assessment
from tests.app.integrators.helpers import register_firm
from tests.factories import create_api_key
from tests.pages import HTML, soup
from tests.pdfs import pdf_text


def test_new_assessments_use_v2_and_v1_can_be_asked_for(
    signed_in: TestClient, enterprise: Enterprise
) -> None:
    url = f"/api/v1/enterprises/{enterprise.id}/assessments"
    latest = signed_in.post(url, json={"questionnaire_id": QUICK})
    asked = signed_in.post(url, json={"questionnaire_id": QUICK, "questionnaire_version": 1})
    assert latest.json()["questionnaire"]["version"] == 2
    assert asked.status_code == 201 and asked.json()["questionnaire"]["version"] == 1
    assert "qc_business_systems" in asked.json()["applicable_questions"]


def test_an_integrator_may_start_on_v1(client: TestClient, db: Session, settings: Settings) -> None:
    key, _ = create_api_key(db, settings)
    headers = {"Authorization": f"Bearer {key}"}
    firm = register_firm(client, headers)  # type: ignore[arg-type]  # TestClient is an httpx.Client
    response = client.post(
        f"/api/v1/enterprises/{firm['id']}/assessments",
        json={"questionnaire_id": FULL, "questionnaire_version": 1},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["questionnaire"] == {
        "id": FULL,
        "version": 1,
        "title": response.json()["questionnaire"]["title"],
    }


def submitted_on_v1(signed_in: TestClient, enterprise: Enterprise) -> dict[str, Any]:
    return submit_assessment(signed_in, enterprise, questionnaire(FULL, version=1), 0.6)


def test_a_v1_result_renders_on_the_result_page(
    signed_in: TestClient, enterprise: Enterprise
) -> None:
    result = submitted_on_v1(signed_in, enterprise)
    assessment_id = result["assessment_id"]
    page = signed_in.get(f"/assessments/{assessment_id}/result", headers=HTML)
    assert page.status_code == 200
    text = soup(page).get_text(" ")
    assert f"{result['overall']:.2f}" in text
    # A v1-only stage question's text reaches the page through the stored result's roadmap.
    assert "上云用云" in text


def test_a_v1_result_renders_in_the_pdf(signed_in: TestClient, enterprise: Enterprise) -> None:
    result = submitted_on_v1(signed_in, enterprise)
    pdf = signed_in.get(f"/api/v1/assessments/{result['assessment_id']}/report.pdf?lang=zh")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert f"{result['overall']:.2f}" in text and "上云用云" in text


def multi_hints(client: TestClient, assessment_id: str, stage: str, question_id: str) -> int:
    page = soup(client.get(f"/assessments/{assessment_id}/stages/{stage}", headers=HTML))
    legend = page.select_one(f"#q-{question_id} legend")
    assert legend is not None
    return legend.get_text().count("可多选")


def test_the_multi_select_hint_shows_once(signed_in: TestClient, enterprise: Enterprise) -> None:
    url = f"/api/v1/enterprises/{enterprise.id}/assessments"
    v1 = signed_in.post(url, json={"questionnaire_id": FULL, "questionnaire_version": 1}).json()
    v2 = signed_in.post(url, json={"questionnaire_id": FULL}).json()
    # v1's text says "（可多选）" itself; v2's does not and the page adds it.
    assert "可多选" in questionnaire(FULL, version=1).question("dig_systems").text.zh
    assert "可多选" not in questionnaire(FULL).question("dat_areas").text.zh
    assert multi_hints(signed_in, v1["id"], "digitization", "dig_systems") == 1
    assert multi_hints(signed_in, v2["id"], "data_collection", "dat_areas") == 1
