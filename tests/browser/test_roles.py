"""Every role's journeys in a real browser, with e-mail delivered by the server's own worker to a
real SMTP server: claim a registered firm and get approved; accept an integrator's invitation;
invite a colleague who signs up from the e-mail; reset a password from the e-mail; an official
lands on the heatmaps; an admin approves a webhook from the console. /docs and /redoc render with
every outside request blocked. Screenshots of each role's home at 1280 and 375 px."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.demo.synthetic_cli import seed_synthetic_firms
from app.enterprises import service as enterprise_service
from app.heatmaps import service as heatmaps
from app.integrators import service as integrator_service
from app.kit.principal import CLI
from app.models import SCOPES
from app.questionnaires.catalog import QuestionnaireCatalog
from tests.answers import questionnaire, submit_assessment
from tests.browser.helpers import (
    api_client,
    database,
    fill_form,
    no_horizontal_scroll,
    serve,
    server_settings,
    sign_in,
)
from tests.factories import PASSWORD, create_enterprise, create_user, enterprise_payload
from tests.mailbox import Mailbox, smtp_server

OWNER = "owner@roles.example.com"
READER = "reader@roles.example.com"
OFFICIAL = "official@roles.example.com"
ADMIN = "admin@roles.example.com"
CONSENT = {"given_by": "张经理", "given_at": "2026-11-20T09:00:00+08:00", "method": "signed_form"}


@dataclass
class World:
    url: str
    mailbox: Mailbox
    firm_code: str
    integrator_key: str
    database_url: str


def _prepare(url: str) -> dict[str, str]:
    """The firm with its owner, an official, an admin, an integrator's key, synthetic firms."""
    settings = server_settings(url)
    seed_synthetic_firms(settings, enterprises=160, seed=5)
    with database(url) as db:
        firm = create_enterprise(db, name="上海角色测试机械有限公司")
        create_user(db, enterprise=firm, email=OWNER, display_name="王总")
        create_user(db, enterprise=firm, email=READER, display_name="孙工")
        create_user(db, role="official", district_code="310115", email=OFFICIAL)
        create_user(db, role="admin", email=ADMIN)
        issued = integrator_service.create_api_client(
            db, CLI, settings, name="示例工业互联网平台", scopes=list(SCOPES)
        )
        db.commit()
        # Published before the server starts, as `zhizao seed-demo` does: left to the
        # server's embedded worker, the official's first page could come before it.
        heatmaps.publish(
            db,
            QuestionnaireCatalog.from_directory(settings.QUESTIONNAIRES_DIR),
            heatmaps.parameters_of(settings),
        )
        db.commit()
        return {"firm_code": firm.credit_code, "key": issued.plaintext, "db_url": url}


@pytest.fixture(scope="module")
def world(chromium_available: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with (
        smtp_server() as mailbox,
        serve(
            tmp_path_factory.mktemp("roles"),
            _prepare,
            SMTP_HOST=mailbox.host,
            SMTP_PORT=str(mailbox.port),
            SMTP_TLS="none",
            WEBHOOK_POLL_SECONDS="0.2",
            WEBHOOK_ALLOW_HTTP="true",
            WEBHOOK_ALLOW_LOOPBACK="true",
        ) as (live, prepared),
    ):
        yield World(live.url, mailbox, prepared["firm_code"], prepared["key"], prepared["db_url"])


@pytest.fixture(scope="module")
def live_server(world: World) -> str:
    return world.url


@pytest.fixture
def new_page(new_page: Any) -> Iterator[Any]:
    """The shared ``new_page``, each page watched: no Content Security Policy refusal."""
    errors: list[str] = []

    def make(*args: Any, **options: Any) -> Any:
        page = new_page(*args, **options)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        return page

    yield make
    assert not [e for e in errors if "Content Security Policy" in e], errors


def create_account(page: Any, display_name: str, **fields: str) -> None:
    """Create the account an invitation's page offers (named ``display_name``, the password
    ``PASSWORD``; ``fields`` such as the e-mail address where the page asks for it): the
    dashboard opens."""
    fill_form(
        page,
        "创建我的账号",
        **fields,
        display_name=display_name,
        password=PASSWORD,
        password_again=PASSWORD,
    )
    page.wait_for_url("**/dashboard")


def link_in_mail(world: World, to: str, path_part: str, count: int = 1) -> str:
    return world.mailbox.wait_for(to, count)[count - 1].link(path_part)


def shoot(page: Any, directory: Path, name: str) -> None:
    """The page at 1280 px and at 375 px (no sideways scrolling there)."""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(directory / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    assert no_horizontal_scroll(page), name
    page.screenshot(path=str(directory / f"{name}-375.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_claim_a_registered_firm_and_get_approved(world: World, new_page: Any) -> None:
    claimant = new_page()
    claimant.goto(world.url + "/register")
    fill_form(
        claimant,
        "注册并开始",
        credit_code=world.firm_code,
        name="上海角色测试机械有限公司",
        district_code="310115",
        industry_code="36",
        employees="80",
        annual_revenue_wan="3200万",
        email="liu@roles.example.com",
        password=PASSWORD,
    )
    # The firm is taken: the page says so and offers to ask to join it.
    claimant.locator("#claim-next a").click()
    claimant.wait_for_url("**/claim?credit_code=*")
    assert claimant.input_value("#f-credit_code") == world.firm_code
    fill_form(
        claimant,
        "提交申请",
        display_name="刘会计",
        email="liu@roles.example.com",
        message="财务部主管，办公电话 021-5555 0199",
    )
    claimant.wait_for_selector("#claim-sent")

    # The owner is told by e-mail, follows the link, signs in and approves.
    owner = new_page()
    sign_in(owner, OWNER, at=link_in_mail(world, OWNER, "/claims/"))
    owner.wait_for_selector("#approve")
    assert "刘会计" in owner.locator("main").inner_text()
    owner.locator("#approve").click()
    owner.wait_for_url("**/settings/members")
    assert "已批准申请" in owner.locator(".flash").inner_text()

    # The claimant signs up from the e-mail and is in the firm.
    claimant.goto(link_in_mail(world, "liu@roles.example.com", "/invitations/", count=2))
    create_account(claimant, "刘会计")
    assert "上海角色测试机械有限公司" in claimant.locator("main").inner_text()


def test_accept_an_integrators_invitation(world: World, new_page: Any) -> None:
    api = httpx.Client(
        base_url=world.url + "/api/v1", headers={"Authorization": f"Bearer {world.integrator_key}"}
    )
    firm = api.post("/enterprises", json=enterprise_payload(consent=CONSENT)).json()
    url = api.post(f"/enterprises/{firm['id']}/owner-invitation").json()["url"]
    page = new_page()
    page.goto(url)
    assert firm["name"] in page.locator("h1").inner_text()
    create_account(page, "赵总", email="boss@roles.example.com")
    # The new owner sees the integrator's access, and could revoke it.
    page.goto(world.url + "/settings")
    access = page.locator("#integrators").inner_text()
    assert "示例工业互联网平台" in access and "撤销" in access
    page.goto(url)
    assert "已失效" in page.locator("main").inner_text()  # used once


def test_invite_a_colleague_who_signs_up_from_the_mail(world: World, new_page: Any) -> None:
    owner = new_page()
    sign_in(owner, OWNER, at=world.url + "/login")
    owner.get_by_role("link", name="同事").first.click()
    owner.wait_for_url("**/settings/members")
    fill_form(owner, "发送邀请", email="chen@roles.example.com")
    assert "邀请已发送" in owner.locator(".flash").inner_text()
    colleague = new_page()
    colleague.goto(link_in_mail(world, "chen@roles.example.com", "/invitations/"))
    assert "chen@roles.example.com" in colleague.locator("main").inner_text()
    create_account(colleague, "陈工")
    owner.reload()
    assert "chen@roles.example.com" in owner.locator("main").inner_text()


def test_reset_a_password_from_the_mail(world: World, new_page: Any) -> None:
    page = new_page()
    page.goto(world.url + "/login")
    page.get_by_role("link", name="忘记密码？").click()
    fill_form(page, "发送链接", email=READER)
    page.wait_for_selector("#reset-sent")
    page.goto(link_in_mail(world, READER, "/password/reset/"))
    new_password = "a brand new reader secret"
    fill_form(page, "保存新密码", password=new_password, password_again=new_password)
    page.wait_for_url("**/login")
    assert "密码已重置" in page.locator(".flash").inner_text()
    sign_in(page, READER, new_password, at=world.url + "/login")
    page.wait_for_url("**/dashboard")


def test_an_official_lands_on_the_heatmaps(
    world: World, new_page: Any, screenshots_dir: Path
) -> None:
    page = new_page()
    sign_in(page, OFFICIAL, at=world.url + "/login")
    page.wait_for_url("**/heatmaps")
    nav = page.locator(".main-nav").inner_text()
    assert "热力图" in nav and "核实企业" in nav and "加入申请" in nav and "仪表板" not in nav
    assert page.locator(".hm-table").count() == 1
    shoot(page, screenshots_dir, "home-official")
    # The widest cut at 1280 px: the page does not scroll sideways, the table scrolls inside
    # its box to its 合计 column, and the district names stay in view (it cut 合计 off).
    page.goto(world.url + "/heatmaps?cut=district-industry&metric=count")
    assert no_horizontal_scroll(page)
    box = page.locator(".hm-scroll")
    box.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    total = page.locator(".hm-table thead th").last
    assert total.inner_text() == "合计"
    frame, cell = box.bounding_box(), total.bounding_box()
    assert frame and cell and cell["x"] + cell["width"] <= frame["x"] + frame["width"] + 1
    row_label = page.locator(".hm-table tbody th").first.bounding_box()
    assert row_label and abs(row_label["x"] - frame["x"]) <= 2  # sticky first column


def test_an_official_flags_a_firm_and_an_admin_clears_it(
    world: World, new_page: Any, screenshots_dir: Path
) -> None:
    """The district official flags from the verification page (it was in the API only); the
    admin finds the firm under 已提请管理员核查 and clears the flag."""
    page = new_page()
    sign_in(page, OFFICIAL, at=world.url + "/login")
    page.goto(world.url + "/verification?status=all")
    row = page.locator("tbody tr", has_text="上海角色测试机械有限公司")
    row.locator("summary", has_text="提请管理员核查").click()  # the form folds out
    row.get_by_label("原因（选填）").fill("注册地址是一处住宅")
    row.get_by_role("button", name="提请管理员核查").click()
    page.wait_for_url("**/verification?status=all")
    assert "已标记" in page.locator(".flash").inner_text()
    row = page.locator("tbody tr", has_text="上海角色测试机械有限公司")
    assert "注册地址是一处住宅" in row.inner_text()
    assert row.get_by_role("button", name="撤销标记").count() == 0  # an admin's to clear
    shoot(page, screenshots_dir, "verification-official")

    admin = new_page()
    sign_in(admin, ADMIN, at=world.url + "/login")
    admin.goto(world.url + "/verification?status=flagged")
    rows = admin.locator("tbody tr")
    assert rows.count() == 1 and "上海角色测试机械有限公司" in rows.inner_text()
    rows.get_by_role("button", name="撤销标记").click()
    admin.wait_for_url("**/verification?status=flagged")
    assert "标记已撤销" in admin.locator(".flash").inner_text()
    assert admin.locator("tbody tr").count() == 0


def test_an_admin_approves_a_webhook_from_the_console(
    world: World, new_page: Any, screenshots_dir: Path
) -> None:
    api = httpx.Client(
        base_url=world.url + "/api/v1", headers={"Authorization": f"Bearer {world.integrator_key}"}
    )
    endpoint = api.post("/webhooks", json={"url": "http://127.0.0.1:9/zhizao-hook"}).json()
    assert endpoint["status"] == "pending"
    page = new_page()
    sign_in(page, ADMIN, at=world.url + "/login")
    page.wait_for_url("**/admin")
    card = page.locator(f"#webhook-{endpoint['id']}")
    assert card.locator(".addresses li").all_inner_texts() == ["127.0.0.1"]
    shoot(page, screenshots_dir, "home-admin")
    card.get_by_role("button", name="批准").click()
    page.wait_for_url("**/admin/webhooks")
    assert "已批准" in page.locator(".flash").inner_text()
    assert api.get(f"/webhooks/{endpoint['id']}").json()["status"] == "active"


def test_the_enterprise_home(world: World, new_page: Any, screenshots_dir: Path) -> None:
    with database(world.database_url) as db:
        firm = enterprise_service.find(db, world.firm_code)
    assert firm is not None
    with api_client(world.url, OWNER) as http:
        for position in (0.3, 0.7):
            submit_assessment(http, firm, questionnaire(), position)  # type: ignore[arg-type]
    page = new_page()
    sign_in(page, OWNER, at=world.url + "/login")
    page.wait_for_url("**/dashboard")
    chart = page.locator("svg.chart.trend")
    assert chart.count() == 1
    # Drawn 560 units wide: shown at most 640 px, so its 11-unit labels stay about body size
    # (stretched over the page they grew to twice that).
    width = chart.bounding_box()["width"]  # type: ignore[index]
    assert width <= 641 and 11 * width / 560 <= 13
    shoot(page, screenshots_dir, "home-enterprise")


#: ReDoc's footer asks for its logo on a CDN; the CSP refuses it, so nothing leaves the site.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs_render_with_outside_network_blocked(
    world: World, browser: Any, path: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    outside: list[str] = []
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    def only_this_site(route: Any) -> None:
        if route.request.url.startswith(world.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_site)
    page.goto(world.url + path)
    if path == "/docs":
        page.wait_for_selector(".opblock-tag")
        assert page.locator(".opblock").count() > 20
    else:
        page.wait_for_selector(".menu-content")
        assert page.get_by_text("zhizao 智造").first.is_visible()
    context.close()
    assert outside == []
    assert [e for e in errors if REDOC_LOGO not in e] == []
