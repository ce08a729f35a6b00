"""The SME journey in a real browser: register, fill the full questionnaire in Chinese across
all stages (a reload midway resumes where it was), one stage by keyboard only, one baseline
figure, submit, see the rung, roadmap and subsidies, switch to English, download the PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.helpers import fill_form, no_horizontal_scroll, settle
from tests.factories import PASSWORD, make_credit_code


def answer_open_questions(page: Any, position: float = 0.6) -> int:
    """Answer, with the mouse, every shown question of the stage that has no answer yet; the
    autosave after each change may bring new questions, so repeat until none is open."""
    answered = 0
    for _ in range(60):
        open_questions = page.evaluate(
            """() => [...document.querySelectorAll('#stage-form fieldset.question')]
                .filter(f => ![...f.querySelectorAll('input')].some(
                    i => (i.type === 'text' ? i.value !== '' : i.checked)))
                .map(f => f.id)"""
        )
        if not open_questions:
            return answered
        fieldset = page.locator(f"#{open_questions[0]}")
        radios = fieldset.locator("input[type=radio]:not([value='n/a'])")
        boxes = fieldset.locator("input[type=checkbox]:not([data-exclusive])")
        if radios.count():
            choice = radios.nth(min(radios.count() - 1, int(position * radios.count())))
        elif boxes.count():
            choice = boxes.nth(0)
        else:
            field = fieldset.locator("input[type=text]")
            maximum = float(field.get_attribute("data-max") or 100)
            field.fill(str(int(maximum * position)))
            field.press("Tab")  # change fires on leaving the field
            settle(page)
            answered += 1
            continue
        page.locator(f"label[for='{choice.get_attribute('id')}']").click()
        settle(page)
        answered += 1
    raise AssertionError("questions kept appearing")


def complete_stage_by_keyboard(page: Any) -> None:
    """Tab through the stage; Space chooses, ArrowDown moves within a radio group, digits go into
    figures; Enter on "save and continue". No mouse."""
    for _ in range(400):
        focused = page.evaluate(
            """() => { const e = document.activeElement;
                const f = e && e.closest ? e.closest('fieldset.question') : null;
                const open = f && ![...f.querySelectorAll('input')].some(
                    i => (i.type === 'text' ? i.value !== '' : i.checked));
                return {tag: e.tagName, type: e.type || '', id: e.id || '', open: !!open,
                        outline: getComputedStyle(e).outlineStyle,
                        max: e.dataset ? (e.dataset.max || '') : ''}; }"""
        )
        if focused["id"] == "btn-next":
            assert focused["outline"] != "none", "focus must be visible"
            page.keyboard.press("Enter")
            return
        if focused["open"]:
            assert focused["outline"] != "none", f"no visible focus on {focused['id']}"
            if focused["type"] == "radio":
                page.keyboard.press("Space")
                settle(page)
                page.keyboard.press("ArrowDown")  # a better option: selection follows focus
            elif focused["type"] == "checkbox" and "--na" not in focused["id"]:
                page.keyboard.press("Space")
            elif focused["type"] == "text":
                page.keyboard.type(str(int(float(focused["max"] or 100) * 0.5)))
            settle(page)
        page.keyboard.press("Tab")
        settle(page)
    raise AssertionError("never reached the save-and-continue button")


def test_sme_journey(
    new_page: Any, live_server: str, screenshots_dir: Path, tmp_path: Path
) -> None:
    page = new_page(accept_downloads=True)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    # Home, in Chinese, to registration.
    page.goto(live_server + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.get_by_role("link", name="注册并开始").first.click()
    fill_form(
        page,
        "注册并开始",
        credit_code=make_credit_code(),
        name="上海浏览器测试机械有限公司",
        district_code="310115",
        industry_code="34",
        employees="150",
        annual_revenue_wan="6000万",
        display_name="王经理",
        email="wang@example.com",
        password=PASSWORD,
    )
    # The same answer for a new and a taken e-mail address: sign in with the password chosen.
    page.wait_for_url("**/login?*")
    assert page.input_value("#f-email") == "wang@example.com"
    fill_form(page, "登录", password=PASSWORD)
    page.wait_for_url("**/dashboard?welcome=1")

    # Start the full assessment.
    page.get_by_role("link", name="开始新的评估").first.click()
    page.get_by_role("button", name="开始").click()
    page.wait_for_url("**/stages/digitization")
    assessment_url = page.url.rsplit("/stages/", 1)[0]

    # Stage 1 with the mouse; autosave brings the adaptive questions in.
    assert page.locator("#q-dig_design").count() == 0
    answer_open_questions(page)
    assert page.locator("#q-dig_design, #q-dig_recipe").count() >= 1
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(screenshots_dir / "wizard-1280.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    assert no_horizontal_scroll(page)
    page.screenshot(path=str(screenshots_dir / "wizard-375.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})
    assert no_horizontal_scroll(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_url("**/stages/automation")

    # Stage 2: half of it, then a reload — the answers are there — and resume where left.
    open_before = page.locator("#stage-form fieldset.question").count()
    first = page.locator("#stage-form fieldset.question").first
    first.locator("label").first.click()
    settle(page)
    chosen_id = first.locator("input:checked").first.get_attribute("id")
    page.reload()
    assert page.locator(f"#{chosen_id}").is_checked()
    page.goto(assessment_url)  # "continue" from the dashboard resumes at the open stage
    page.wait_for_url("**/stages/automation")
    assert page.locator("#stage-form fieldset.question").count() == open_before
    answer_open_questions(page)
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_url("**/stages/data_collection")

    # Stage 3 by keyboard only.
    page.locator("#main").focus()
    complete_stage_by_keyboard(page)
    page.wait_for_url("**/stages/cloud_adoption")
    page.goto(assessment_url + "/stages/data_collection")
    assert "✓" in page.locator("[aria-current=step]").inner_text()  # complete
    page.goto(assessment_url + "/stages/cloud_adoption")

    # Stage 4, then the optional baseline figures (one filled, autosaved), then the review.
    answer_open_questions(page)
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_url("**/kpis")
    page.fill("#oee--value", "62.5")
    page.locator("#oee--value").press("Tab")  # change fires on leaving the field
    settle(page)
    assert "已保存" in page.locator("#save-status").inner_text()
    page.get_by_role("button", name="保存并检查").click()
    page.wait_for_url("**/review")
    assert "已填 1 项" in page.locator("#kpi-summary").inner_text()
    assert page.locator("#unanswered").count() == 0
    page.get_by_role("button", name="提交并查看结果").click()
    page.wait_for_url("**/result")

    # The result: rung on the ladder, radar, why held back, roadmap, subsidies, crosswalk.
    assert page.locator("h1").inner_text() == "您的评估结果"
    rung = page.locator(".big-rung").inner_text()
    assert rung[:4] in (page.locator("svg.ladder .rung-current").text_content() or "")
    assert page.locator("svg.radar .value").count() == 4
    assert page.locator("#roadmap").is_visible()
    assert page.locator("#subsidies h2").inner_text() == "扶持政策"
    assert page.locator("#subsidy-summary").inner_text().startswith("已核对")
    # A not-eligible programme's reasons open with one click.
    refused = page.locator("ul.subsidies-not_eligible > li details").first
    refused.locator("summary").click()
    assert refused.locator("ul.reasons li").first.is_visible()
    page.locator("#subsidies").screenshot(path=str(screenshots_dir / "result-subsidies-zh.png"))
    assert "并非" in page.locator("#crosswalk .disclaimer").inner_text()
    # What-if: change an answer, see a new score, nothing saved.
    what_if = page.locator("#what-if select").first
    if what_if.count():
        options = what_if.locator("option")
        what_if.select_option(index=options.count() - 1)
        page.wait_for_selector("#what-if-result .what-if-score")
        assert "未保存任何内容" in page.locator("#what-if-result").inner_text()
    page.screenshot(path=str(screenshots_dir / "result-1280.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    assert no_horizontal_scroll(page)
    page.screenshot(path=str(screenshots_dir / "result-375.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # English.
    page.locator("#lang-en").click()
    page.wait_for_url("**/result")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Your result"
    assert page.locator("#roadmap h2").inner_text() == "Roadmap to the next rung"
    assert page.locator("#subsidy-summary").inner_text().startswith("Checked ")
    page.locator("#subsidies").screenshot(path=str(screenshots_dir / "result-subsidies-en.png"))

    # The PDF report (the link shows once the report route exists).
    pdf_link = page.locator("#pdf-link")
    if pdf_link.count() == 0:
        api_url = assessment_url.replace("/assessments/", "/api/v1/assessments/")
        status = page.context.request.get(api_url + "/report.pdf").status
        assert status in (404, 405), "a report route exists but the page does not link it"
        pytest.skip("PDF route not present yet: everything else in the journey passed")
    with page.expect_download() as download_info:
        pdf_link.click()
    download = download_info.value
    target = tmp_path / "report.pdf"
    download.save_as(str(target))
    assert target.read_bytes()[:5] == b"%PDF-"

    assert not [e for e in errors if "Content Security Policy" in e], errors
