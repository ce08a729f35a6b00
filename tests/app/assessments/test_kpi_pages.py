"""The wizard's optional baseline-figures step (questionnaire v2 ``kpis``, issue #12): after the
scored stages, unscored, blank allowed, autosaved like a stage, a bad figure shown in its field
with nothing stored lost — without JavaScript and with htmx."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.enterprises.service import scoring_profile
from app.models import Enterprise
from scoring import Questionnaire
from tests.answers import FULL, complete_answers
from tests.factories import create_user
from tests.pages import HTML, HTMX, hidden, sign_in, soup, texts

from .test_pages import form_data
from .test_pages import start as begin


@pytest.fixture
def browser(client: TestClient, db: Session, enterprise: Enterprise) -> TestClient:
    sign_in(client, create_user(db, enterprise=enterprise))
    return client


def kpi_form(page: BeautifulSoup, values: dict[str, str], **extra: str) -> dict[str, Any]:
    """The KPI form as a browser posts it: every field, ``values`` typed over what it shows."""
    form = page.select_one("#stage-form") or page
    data: dict[str, Any] = {name: hidden(form, name) for name in ("csrf_token", "etag")}
    for field in form.select("input[inputmode=decimal]"):
        data[field["name"]] = values.get(field["name"], field.get("value", ""))
    return data | extra


def stored_kpis(client: TestClient, assessment_id: str) -> dict[str, float]:
    kpis: dict[str, float] = client.get(f"/api/v1/assessments/{assessment_id}").json()["kpis"]
    return kpis


def test_the_last_stage_leads_to_the_optional_kpi_step(
    browser: TestClient, enterprise: Enterprise, full_questionnaire: Questionnaire
) -> None:
    assessment_id = begin(browser)
    base = f"/assessments/{assessment_id}"
    stage = soup(browser.get(f"{base}/stages/cloud_adoption", headers=HTML))
    assert "保存并继续" in stage.select_one("#btn-next").get_text()
    steps = stage.select(".stage-steps a")
    assert [a["href"] for a in steps[-2:]] == [f"{base}/kpis", f"{base}/review"]
    assert "选答" in steps[-2].get_text() and "0/5" in steps[-2].get_text()
    answers = complete_answers(full_questionnaire, scoring_profile(enterprise), 0.5)
    response = browser.post(
        f"{base}/stages/cloud_adoption",
        data=form_data(stage, answers, action="next"),
        headers=HTML,
        follow_redirects=False,
    )
    assert response.headers["location"] == f"{base}/kpis"
    page = soup(browser.get(f"{base}/kpis", headers=HTML))
    assert page.select_one("[aria-current=step]")["href"] == f"{base}/kpis"
    labels = texts(page, "#stage-form label")
    assert len(labels) == 5
    assert any("设备综合效率（OEE）" in text and "（%）" in text for text in labels)
    assert any("吨标煤/万元" in text for text in labels)
    hints = texts(page, "#stage-form .hint")
    assert "越高越好" in hints[0] and "越低越好" in hints[3]
    for field in page.select("#stage-form input[inputmode=decimal]"):
        assert page.select_one(f"label[for='{field['id']}']") is not None
    english = soup(browser.get(f"{base}/kpis", headers={**HTML, "accept-language": "en"}))
    assert any("First-pass yield" in text and "(%)" in text for text in texts(english, "label"))
    assert "higher is better" in texts(english, "#stage-form .hint")[0]


def test_kpis_autosave_blank_allowed_and_clearing(browser: TestClient) -> None:
    assessment_id = begin(browser)
    url = f"/assessments/{assessment_id}/kpis"
    page = soup(browser.get(url, headers=HTML))
    response = browser.post(
        url + "/autosave",
        data=kpi_form(page, {"oee": "62.5", "inventory_days": "1,200"}),
        headers=HTMX,
    )
    # 1,200 days is beyond the 730 allowed: nothing saved, the field says why (out of band);
    # the typed values stay in the form, which the answer does not touch.
    fragment = soup(response)
    assert response.status_code == 200 and fragment.find("html") is None
    assert fragment.select_one("#errslot-inventory_days")["hx-swap-oob"] == "true"
    assert "0 到 730" in fragment.select_one("#err-inventory_days").get_text()
    assert fragment.select_one("#inventory_days--value") is None
    assert stored_kpis(browser, assessment_id) == {}
    typed = kpi_form(page, {"oee": "62.5", "inventory_days": "45"})
    fragment = soup(browser.post(url + "/autosave", data=typed, headers=HTMX))
    assert "已保存" in fragment.select_one("#save-status").get_text()
    assert fragment.select_one("#progress")["hx-swap-oob"] == "true"
    assert fragment.select_one("#errslot-inventory_days").get_text() == ""  # error gone
    assert stored_kpis(browser, assessment_id) == {"oee": 62.5, "inventory_days": 45}
    # KPIs are not answers: the scored progress does not move.
    assert browser.get(f"/api/v1/assessments/{assessment_id}").json()["answered_share"] == 0
    # Blanking a field clears it; the others stay.
    blanked = typed | {"oee": "", "etag": hidden(fragment, "etag")}
    browser.post(url + "/autosave", data=blanked, headers=HTMX)
    assert stored_kpis(browser, assessment_id) == {"inventory_days": 45}


def test_a_bad_figure_keeps_what_was_saved(browser: TestClient) -> None:
    assessment_id = begin(browser)
    url = f"/assessments/{assessment_id}/kpis"
    page = soup(browser.get(url, headers=HTML))
    saved = browser.post(
        url,
        data=kpi_form(page, {"first_pass_yield": "97"}, action="save"),
        headers=HTML,
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == url + "?saved=1"
    page = soup(browser.get(saved.headers["location"], headers=HTML))
    assert page.select_one("#first_pass_yield--value")["value"] == "97"
    response = browser.post(
        url,
        data=kpi_form(page, {"first_pass_yield": "abc", "oee": "70"}, action="next"),
        headers=HTML,
    )
    assert response.status_code == 422
    bad = soup(response)
    assert "请输入数字" in bad.select_one("#err-first_pass_yield").get_text()
    assert bad.select_one("#first_pass_yield--value")["aria-invalid"] == "true"
    assert bad.select_one("#first_pass_yield--value")["value"] == "abc"
    assert bad.select_one(".alert-error a")["href"] == "#kpi-first_pass_yield"
    assert stored_kpis(browser, assessment_id) == {"first_pass_yield": 97}
    english = browser.post(
        url,
        data=kpi_form(page, {"energy_per_output": "12"}, action="save"),
        headers={**HTML, "accept-language": "en"},
    )
    assert "from 0 to 10" in soup(english).select_one("#err-energy_per_output").get_text()


def test_every_bad_figure_is_marked_in_one_round(browser: TestClient) -> None:
    """A figure that cannot be read beside one out of range: only the first was marked, the
    second once it was fixed and the form sent again."""
    assessment_id = begin(browser)
    url = f"/assessments/{assessment_id}/kpis"
    page = soup(browser.get(url, headers=HTML))
    typed = {"first_pass_yield": "abc", "energy_per_output": "12"}
    response = browser.post(url, data=kpi_form(page, typed, action="save"), headers=HTML)
    assert response.status_code == 422
    bad = soup(response)
    assert "请输入数字" in bad.select_one("#err-first_pass_yield").get_text()
    assert "0 到 10" in bad.select_one("#err-energy_per_output").get_text()
    summary = [a["href"] for a in bad.select("#form-errors a")]
    assert summary == ["#kpi-first_pass_yield", "#kpi-energy_per_output"]
    for kpi_id, value in typed.items():
        assert bad.select_one(f"#{kpi_id}--value")["value"] == value
    assert stored_kpis(browser, assessment_id) == {}


def test_next_goes_to_the_review_which_counts_the_figures(browser: TestClient) -> None:
    assessment_id = begin(browser)
    url = f"/assessments/{assessment_id}/kpis"
    page = soup(browser.get(url, headers=HTML))
    response = browser.post(
        url,
        data=kpi_form(page, {"on_time_delivery": "91"}, action="next"),
        headers=HTML,
        follow_redirects=False,
    )
    assert response.headers["location"] == f"/assessments/{assessment_id}/review"
    review = soup(browser.get(response.headers["location"], headers=HTML))
    assert "5 项中已填 1 项" in review.select_one("#kpi-summary").get_text()
    page = soup(browser.get(url, headers=HTML))
    back = browser.post(
        url, data=kpi_form(page, {}, action="previous"), headers=HTML, follow_redirects=False
    )
    assert back.headers["location"].endswith("/stages/cloud_adoption")


def test_a_stale_kpi_form_is_reported_not_overwritten(browser: TestClient) -> None:
    assessment_id = begin(browser)
    url = f"/assessments/{assessment_id}/kpis"
    stale = soup(browser.get(url, headers=HTML))
    browser.post(url + "/autosave", data=kpi_form(stale, {"oee": "50"}), headers=HTMX)
    response = browser.post(url, data=kpi_form(stale, {"oee": "55"}, action="save"), headers=HTML)
    assert response.status_code == 412
    assert soup(response).select_one("#conflict a")["href"] == url
    assert stored_kpis(browser, assessment_id) == {"oee": 50}


def test_v1_has_no_kpi_step(signed_in: TestClient, start: Any) -> None:
    assessment = start(FULL, questionnaire_version=1)
    base = f"/assessments/{assessment['id']}"
    assert signed_in.get(f"{base}/kpis", headers=HTML).status_code == 404
    stage = soup(signed_in.get(f"{base}/stages/cloud_adoption", headers=HTML))
    assert "保存并检查" in stage.select_one("#btn-next").get_text()
    assert not [a for a in stage.select(".stage-steps a") if a["href"].endswith("/kpis")]
    assert soup(signed_in.get(f"{base}/review", headers=HTML)).select_one("#kpi-summary") is None
