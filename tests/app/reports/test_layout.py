"""How the PDF report falls into pages, read from the PDFs' text: no page holds the disclaimer
alone, a short table is not split, a box that may run on does not leave a page part empty."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient
from markupsafe import Markup
from sqlalchemy.orm import Session

from app.kit.settings import Settings
from app.reports.context import ReportContext
from app.reports.pdf import render_pdf
from scoring import Questionnaire
from tests.app.reports.helpers import Submit, context
from tests.pdfs import compact, pdf_reader


def page_texts(pdf: bytes) -> list[str]:
    """Each page's text, whitespace removed."""
    return [compact(page.extract_text() or "") for page in pdf_reader(pdf).pages]


def page_of(texts: list[str], text: str) -> int:
    found = [number for number, page in enumerate(texts) if compact(text) in page]
    assert found, text
    return found[0]


def test_the_disclaimer_never_stands_alone_on_the_last_page(
    submit: Submit, db: Session, settings: Settings
) -> None:
    """The disclaimer closes the methodology; where the rule above it ended at a page's foot,
    it went to a page of its own. A last rule of growing height (a spacer standing in for a
    long one) moves the disclaimer down: at the least height that adds a page, the new last
    page holds that rule with the disclaimer."""
    built = context(db, settings, submit()["assessment_id"], "zh")
    # Without the programmes' cards (a third of the render): the pages after them are the same.
    lean = replace(built, subsidies=replace(built.subsidies, groups=(), unlocks=(), gaps=()))

    def render(height: int) -> bytes:
        spacer = Markup('<span style="display:inline-block;height:{}px">★</span>').format(height)
        with_spacer: ReportContext = replace(lean, methodology=[*lean.methodology, spacer])
        return render_pdf(with_spacer, static_dir=settings.STATIC_DIR, origin="script")

    def pages(height: int) -> int:
        return len(pdf_reader(render(height)).pages)

    low, high = 0, 960  # px: less than a page's text area (259 mm)
    fewest = pages(low)
    assert pages(high) > fewest
    while high - low > 1:
        middle = (low + high) // 2
        if pages(middle) > fewest:
            high = middle
        else:
            low = middle
    last = page_texts(render(high))[-1]
    footer = compact(f"zhizao · {built.t['report_title']}")
    assert last.split(footer)[0] == "8.★" + compact(built.t["disclaimer"]), last


def test_the_stage_table_is_on_one_page(
    signed_in: TestClient, submit: Submit, full_questionnaire: Questionnaire
) -> None:
    """Four rows: split, its header and first row stood at page 2's foot, the rest on page 3."""
    assessment_id = submit()["assessment_id"]
    for lang, header in (("zh", "阶段权重得分对应等级"), ("en", "StageWeightScoreAtrung")):
        response = signed_in.get(f"/api/v1/assessments/{assessment_id}/report.pdf?lang={lang}")
        texts = page_texts(response.content)
        page = page_of(texts, header)
        for stage in full_questionnaire.stages:
            assert compact(stage.title.get(lang)) + "1" in texts[page], (lang, stage.id)


def test_the_other_ideas_follow_the_plan(signed_in: TestClient, submit: Submit) -> None:
    """The other ideas' box was kept whole: too long for what was left of the plan's page, it
    went to the next one and left a third of that page empty. It runs on now, an idea at a
    time."""
    assessment_id = submit()["assessment_id"]
    for lang, plan, ideas in (
        ("zh", "完成整个方案后", "其他思路（不属于本方案）"),
        ("en", "With the whole plan", "Other ideas (not part of the plan)"),
    ):
        response = signed_in.get(f"/api/v1/assessments/{assessment_id}/report.pdf?lang={lang}")
        texts = page_texts(response.content)
        assert page_of(texts, ideas) == page_of(texts, plan), lang
