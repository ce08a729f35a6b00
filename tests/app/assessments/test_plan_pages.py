"""The roadmap plan (issue 14) where users see it: the API result, the result page and the PDF
show the same plan, other ideas apart, why not higher, the ★ legend only with a starred step, and
the score as the zhizao index; results stored with the older roadmap still render."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Enterprise
from app.models.assessment import Result
from tests.answers import FULL, questionnaire, submit_assessment
from tests.pages import HTML, soup
from tests.pdfs import compact, pdf_text

#: The roadmap as results stored it before issue 14 (ranked steps and the fewest-changes what-if).
OLD_STEP = {
    "question_id": "dig_erp", "stage_id": "digitization", "question": "旧问题：ERP？",
    "current": "paper", "current_text": "纸质单据", "current_level": 2.75, "target": "erp",
    "target_text": "ERP 系统", "target_level": 3.25, "gain": 0.05, "lifts_binding_stage": False,
}  # fmt: skip


def submitted(client: TestClient, enterprise: Enterprise, position: float) -> dict[str, Any]:
    return submit_assessment(client, enterprise, questionnaire(FULL), position)


@pytest.mark.parametrize("position", [0.2, 0.45])
def test_page_and_api_show_the_same_plan(
    signed_in: TestClient, enterprise: Enterprise, position: float
) -> None:
    result = submitted(signed_in, enterprise, position)
    api = signed_in.get(f"/api/v1/assessments/{result['assessment_id']}/result").json()
    roadmap = api["roadmap"]
    assert roadmap["version"] == 2 and roadmap["plan"] is not None
    page = soup(signed_in.get(f"/assessments/{result['assessment_id']}/result", headers=HTML))
    items = page.select("#plan-steps li")
    assert len(items) == len(roadmap["steps"])  # the whole plan, never cut short
    order = [step["question_id"] for step in roadmap["steps"]]
    for item, step in zip(items, roadmap["steps"], strict=True):
        assert step["question"] in item.get_text() and step["target_text"] in item.get_text()
        assert bool(item.select_one(".star")) == step["lifts_binding_stage"]
        numbers = [str(1 + order.index(qid)) for qid in step["after"]]  # prerequisites earlier
        assert all(int(n) < 1 + order.index(step["question_id"]) for n in numbers)
        if numbers:
            assert f"需先完成第 {'、'.join(numbers)} 步" in item.get_text()
    starred = any(step["lifts_binding_stage"] for step in roadmap["steps"])
    assert (page.select_one("#star-legend") is not None) == starred
    ideas = page.select("#other-ideas li")
    assert len(ideas) == len(roadmap["ideas"])
    if ideas:
        assert page.select_one("#other-ideas h3").get_text() == "其他思路（不属于本方案）"
    why = page.select_one("#why-not-higher")
    assert why is not None and why.get_text() == roadmap["why_not_higher"]["text"]
    line = page.select_one("#score-line").get_text()
    assert f"智造指数{api['overall']:.2f}" in line and "参考：CMMM" in line


def test_the_pdf_shows_the_same_plan(signed_in: TestClient, enterprise: Enterprise) -> None:
    result = submitted(signed_in, enterprise, 0.3)
    api = signed_in.get(f"/api/v1/assessments/{result['assessment_id']}/result").json()
    roadmap = api["roadmap"]
    pdf = signed_in.get(f"/api/v1/assessments/{result['assessment_id']}/report.pdf?lang=zh")
    assert pdf.status_code == 200
    text = compact(pdf_text(pdf.content))
    for step in roadmap["steps"]:
        assert compact(step["target_text"]) in text
    # The report words the reason in its own voice (not the page's "使您"), from the same figures.
    why = roadmap["why_not_higher"]
    assert compact(why["stage"]) in text
    assert all(compact(holder["question"]) in text for holder in why.get("holders") or ())
    assert "智造指数" in text and "步骤未列出" not in text  # the plan is never cut short
    starred = any(step["lifts_binding_stage"] for step in roadmap["steps"])
    assert ("★表示该步骤" in text) == starred
    if roadmap["ideas"]:
        assert "其他思路（不属于本方案）" in text


def test_a_result_stored_with_the_old_roadmap_still_renders(
    signed_in: TestClient, enterprise: Enterprise, db: Session
) -> None:
    result = submitted(signed_in, enterprise, 0.4)
    stored = db.scalars(
        select(Result).where(Result.assessment_id == uuid.UUID(result["assessment_id"]))
    ).one()
    payload = copy.deepcopy(stored.payload)
    for lang in ("zh", "en"):
        payload[lang]["roadmap"] = {
            "current_rung": payload[lang]["rung"], "next_rung": 3.5, "steps": [OLD_STEP],
            "what_if": {"rung": 3.5, "changes": [OLD_STEP], "overall": 3.5, "stages": {},
                        "exact": True},
        }  # fmt: skip
    stored.payload = payload
    db.commit()
    page = signed_in.get(f"/assessments/{result['assessment_id']}/result", headers=HTML)
    assert page.status_code == 200
    body = soup(page)
    assert "旧问题：ERP？" in body.get_text() and body.select_one("#plan-steps") is None
    assert body.select_one(".star") is None and "★" not in body.select_one("#roadmap").get_text()
    pdf = signed_in.get(f"/api/v1/assessments/{result['assessment_id']}/report.pdf?lang=zh")
    assert pdf.status_code == 200 and "旧问题：ERP？" in pdf_text(pdf.content)
