"""Forms as their users meet them when something is wrong: each refused value is named by its
field, what was typed stays, the page opens where the errors are, and the language switch of a
refused form's page leads somewhere. Found by the web audit (every role, both languages):

- a blank sign-in said "wrong e-mail address or password", naming no field;
- a figure the wizard could not read vanished from its field on a plain save;
- switching language on a refused form's page (``/settings/facts``) was a 405;
- a refused facts form re-opened the settings page at its top, the errors far below unseen;
- a refused name kept no trace of what was typed, and a pasted control character was answered
  "Enter a number (digits only).";
- the admin's new-API-client form lost all it held and named no field;
- an access request's time was UTC on its page, the day before the list's (Shanghai) date, and
  the page had no way back to the list;
- a heatmap address with a filter the form never offers was an error page naming "query.cut";
- the error summary listed fields out of the form's order; people's names were headed 名称;
- the roadmap's other ideas read "…?: “…”"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from app.kit.clock import SHANGHAI
from app.models import AccessClaim, Enterprise
from tests.answers import FULL, QUICK, questionnaire, submit_assessment
from tests.browser.helpers import (
    api_client,
    database,
    file_claim,
    fill_form,
    serve,
    server_settings,
    sign_in,
)
from tests.factories import create_enterprise, create_user

OWNER = "owner@forms.example.com"
OFFICIAL = "official@forms.example.com"
ADMIN = "admin@forms.example.com"


@dataclass
class World:
    url: str
    firm: Enterprise
    claim_id: str
    claim_at: datetime
    result_id: str
    draft_id: str


def _prepare(url: str) -> dict[str, Any]:
    """A firm with its owner and a pending access request; the district's official; an admin."""
    with database(url) as db:
        firm = create_enterprise(db, name="上海表单测试机械有限公司")
        create_user(db, enterprise=firm, email=OWNER, display_name="王总")
        create_user(db, role="official", district_code="310115", email=OFFICIAL)
        create_user(db, role="admin", email=ADMIN)
        file_claim(db, server_settings(url), firm, "liu@forms.example.com")
        claim = db.scalars(select(AccessClaim)).one()
        db.expunge(firm)
        return {"firm": firm, "claim": (str(claim.id), claim.created_at)}


@pytest.fixture(scope="module")
def world(chromium_available: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve(tmp_path_factory.mktemp("forms"), _prepare) as (live, prepared):
        firm: Enterprise = prepared["firm"]
        with api_client(live.url, OWNER) as http:
            result = submit_assessment(http, firm, questionnaire(QUICK), 0.3)  # type: ignore[arg-type]
            draft = http.post(
                f"/api/v1/enterprises/{firm.id}/assessments", json={"questionnaire_id": FULL}
            )
            assert draft.status_code == 201, draft.text
        claim_id, claim_at = prepared["claim"]
        yield World(
            live.url, firm, claim_id, claim_at, str(result["assessment_id"]), draft.json()["id"]
        )


@pytest.fixture(scope="module")
def live_server(world: World) -> str:
    return world.url


def in_view(page: Any, selector: str) -> bool:
    """Whether the element's top is within the window as the page opened."""
    return bool(
        page.evaluate(
            """s => { const r = document.querySelector(s).getBoundingClientRect();
                      return r.top >= 0 && r.top < window.innerHeight; }""",
            selector,
        )
    )


def test_a_blank_sign_in_names_its_empty_fields(world: World, new_page: Any) -> None:
    page = new_page()
    page.goto(world.url + "/login")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="登录").click()
    assert answer.value.status == 422
    assert page.locator("#err-email").inner_text() == "⚠ 必填。"
    assert page.locator("#err-password").inner_text() == "⚠ 必填。"
    assert page.locator("main .alert-error").count() == 0  # not "wrong e-mail or password"
    sign_in(page, OWNER)
    page.wait_for_url("**/dashboard")


def test_registration_says_a_negative_revenue_is_negative(world: World, new_page: Any) -> None:
    """ "-3" (万元) was told to use "digits only"; a passphrase of 80 characters was refused
    with the same words (zxcvbn's own limit is 72)."""
    page = new_page()
    page.goto(world.url + "/register")
    fill_form(
        page,
        "注册并开始",
        annual_revenue_wan="-3",
        password=("amber kettle drifts over quiet rooftops " * 3)[:79] + "z",
    )
    summary = page.locator("#error-summary").inner_text()
    assert "年营业收入：不能为负数。" in summary
    assert "密码" not in summary
    assert "仅限数字" not in summary


def test_the_error_summary_lists_the_fields_in_the_forms_order(world: World, new_page: Any) -> None:
    page = new_page()
    page.goto(world.url + "/claim")
    page.get_by_role("button", name="提交申请").click()
    listed = page.locator("#error-summary li").all_inner_texts()
    assert [text.split("：")[0] for text in listed] == ["统一社会信用代码", "您的姓名", "电子邮箱"]


def test_a_figure_that_cannot_be_read_stays_in_its_field(world: World, new_page: Any) -> None:
    """Without JavaScript the stage form posts; "abc" came back as a blank (or the stored
    answer) beside the error that asked to correct it."""
    page = new_page(OWNER, java_script_enabled=False)
    page.goto(f"{world.url}/assessments/{world.draft_id}/stages/digitization")
    page.fill("#dig_equipment_rate--value", "4o")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator("#btn-save").click()
    assert answer.value.status == 422
    assert page.input_value("#dig_equipment_rate--value") == "4o"
    assert "请输入数字" in page.locator("#errslot-dig_equipment_rate").inner_text()


def test_a_refused_facts_form_opens_at_its_errors_and_the_language_switch_works(
    world: World, new_page: Any
) -> None:
    page = new_page(OWNER)
    page.goto(world.url + "/settings")
    fill_form(page, "保存企业信息", fact_project_investment_cny="lots")
    page.wait_for_load_state()
    assert page.url.endswith("/settings/facts#facts")
    assert in_view(page, "#error-summary")
    assert "技改或智能化项目总投资" in page.locator("#error-summary").inner_text()
    assert page.input_value("#f-fact_project_investment_cny") == "lots"
    with page.expect_navigation() as switched:
        page.locator("#lang-en").click()
    assert switched.value is not None and switched.value.status == 200
    assert page.url == world.url + "/settings"
    assert page.locator("h1").inner_text() == "Enterprise settings"


def test_a_refused_deletion_opens_at_its_error(world: World, new_page: Any) -> None:
    page = new_page(OWNER)
    page.goto(world.url + "/settings")
    fill_form(page, "永久删除全部数据", confirm="not the code")
    page.wait_for_load_state()
    assert in_view(page, "#err-confirm")


def test_refused_account_details_keep_what_was_typed(world: World, new_page: Any) -> None:
    page = new_page(OWNER)
    page.goto(world.url + "/account")
    # A vertical tab pasted with a name from elsewhere.
    page.evaluate("document.querySelector('#f-display_name').value = 'Wang\\u000bZong'")
    page.locator("form[action='/account/profile'] button").click()
    page.wait_for_load_state()
    assert page.locator("#err-display_name").inner_text() == "⚠ 不能包含控制字符。"
    assert page.input_value("#f-display_name") == "Wang\x0bZong"


def test_a_refused_api_client_keeps_what_was_typed_and_names_each_field(
    world: World, new_page: Any
) -> None:
    page = new_page(ADMIN)
    page.goto(world.url + "/admin/clients")
    fill_form(page, name="x", contact_email="ops@platform.example.com")
    for box in page.locator("#f-scopes input[type=checkbox]").all():
        box.uncheck()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="创建客户端及其密钥").click()
    assert answer.value.status == 422
    summary = page.locator("#error-summary").inner_text()
    assert "名称：过短：至少 2 个字符。" in summary
    assert "权限范围：请至少选择一个列出的权限范围。" in summary
    assert page.input_value("#f-name") == "x"
    assert page.input_value("#f-contact_email") == "ops@platform.example.com"
    assert page.locator("#f-scopes input:checked").count() == 0
    page.fill("#f-name", "示例工业互联网平台")
    page.locator("#f-scopes input[type=checkbox]").first.check()
    page.get_by_role("button", name="创建客户端及其密钥").click()
    assert page.locator("#issued-key code").inner_text().startswith("zk_")


@pytest.mark.parametrize(
    ("email", "back"), [(OWNER, "/settings/members#claims"), (OFFICIAL, "/claims")]
)
def test_an_access_request_shows_shanghais_time_and_leads_back(
    world: World, new_page: Any, email: str, back: str
) -> None:
    page = new_page(email)
    page.goto(f"{world.url}/claims/{world.claim_id}")
    asked = world.claim_at.replace(tzinfo=world.claim_at.tzinfo or UTC).astimezone(SHANGHAI)
    shown = page.locator("dl.facts dd").nth(4).inner_text()
    assert shown.endswith(f"{asked:%H:%M}（UTC+8）"), shown
    assert f"{asked.month}月{asked.day}日" in shown
    link = page.get_by_role("link", name="返回加入申请列表")
    assert link.get_attribute("href") == back
    link.click()
    page.wait_for_load_state()
    assert page.locator(f"a[href='/claims/{world.claim_id}']").count() == 1


def test_a_heatmap_filter_the_form_never_offers_is_named_and_reset(
    world: World, new_page: Any
) -> None:
    page = new_page(OFFICIAL)
    response = page.goto(world.url + "/heatmaps?cut=bogus&quarter=2019Q9")
    assert response is not None and response.status == 422
    assert page.locator("#hm-refused").inner_text() == (
        "⚠ 以下筛选条件不在可选范围内，已按默认值显示：维度、季度。"
    )
    assert page.locator("h1").inner_text() == "区域智能制造成熟度热力图"
    assert page.locator("select[name=cut]").input_value() == "district-stage"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_other_ideas_read_without_a_double_mark(world: World, new_page: Any, lang: str) -> None:
    page = new_page(OWNER, lang=lang)
    page.goto(f"{world.url}/assessments/{world.result_id}/result")
    ideas = page.locator("#other-ideas li").all_inner_texts()
    assert ideas
    assert not [idea for idea in ideas if "?:" in idea or "？:" in idea], ideas


def test_people_are_headed_by_their_name(world: World, new_page: Any) -> None:
    page = new_page(OWNER)
    page.goto(world.url + "/settings/members")
    assert page.locator("table thead th").first.inner_text() == "姓名"
