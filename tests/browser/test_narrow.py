"""At 375 px (a phone) no page with a table scrolls sideways: a wide table scrolls inside its box.

The hidden labels of the action columns (``.visually-hidden``, absolutely positioned) escaped the
table's scroll box and widened the page: /admin/users to 590 px, /settings/members to 467 px,
/dashboard and /history to 563 px in English. Found by the web audit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.accounts import claims
from app.accounts import service as accounts_service
from app.accounts.schemas import ClaimCreate
from app.enterprises import service as enterprise_service
from app.enterprises.schemas import EnterpriseCreate
from app.integrators import service as integrator_service
from app.kit.db import create_db_engine, create_session_factory
from app.kit.principal import ANONYMOUS, CLI
from app.kit.settings import Environment, Settings
from app.models import Enterprise
from tests.answers import questionnaire, submit_assessment
from tests.factories import PASSWORD, enterprise_payload
from tests.live import live_server as live_server_process

WIDTH = 375
OWNER = "owner.with.a.rather.long.address@narrow.example.com"
OFFICIAL = "official.of.pudong.new.area@narrow.example.com"
ADMIN = "administrator.of.the.service@narrow.example.com"

PAGES = {
    OWNER: ["/dashboard", "/history", "/settings", "/settings/members"],
    OFFICIAL: ["/claims", "/verification"],
    ADMIN: ["/admin/users", "/admin/clients", "/admin/audit", "/verification"],
}

#: What sticks out of the page on the right (not clipped by a scroll box), to say what widens it.
STICKING_OUT = """() => {
  const width = document.documentElement.clientWidth;
  const clipped = e => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement)
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    return false;
  };
  return [...document.querySelectorAll('body *')]
    .filter(e => { const r = e.getBoundingClientRect(); return r.width && r.right > width + 1; })
    .filter(e => getComputedStyle(e).position === 'absolute' || !clipped(e))
    .slice(0, 5)
    .map(e => `${e.tagName}.${e.className} right=${Math.round(e.getBoundingClientRect().right)}`);
}"""


@dataclass
class World:
    url: str
    firm: Enterprise


def _prepare(url: str, prepared: dict[str, Any]) -> None:
    """A firm with its owner, a colleague and a pending access request; the district's
    official; an admin; an integrator."""
    settings = Settings(ENV=Environment.testing, DATABASE_URL=url, SECRET_KEY="x" * 40)
    engine = create_db_engine(url)
    try:
        with create_session_factory(engine)() as db:
            firm = enterprise_service.add_enterprise(
                db,
                CLI,
                EnterpriseCreate.model_validate(
                    enterprise_payload(name="上海窄屏测试精密机械制造有限公司")
                ),
            )
            for email, role, extra in (
                (OWNER, "enterprise", {"enterprise_id": firm.id, "display_name": "王总经理"}),
                (
                    "colleague.in.the.finance.department@narrow.example.com",
                    "enterprise",
                    {"enterprise_id": firm.id, "display_name": "孙会计"},
                ),
                (OFFICIAL, "official", {"district_code": "310115"}),
                (ADMIN, "admin", {}),
            ):
                accounts_service.create_user(
                    db, CLI, email=email, password=PASSWORD, role=role, **extra
                )
            issued = integrator_service.create_api_client(
                db, CLI, settings, name="示例工业互联网平台有限公司", scopes=["assessments:read"]
            )
            db.commit()
            claims.file_claim(
                db,
                ANONYMOUS,
                settings,
                ClaimCreate(
                    credit_code=firm.credit_code,
                    email="someone.asking.to.join@narrow.example.com",
                    display_name="刘会计",
                    message="财务部主管",
                ),
                "127.0.0.1",
            )
            db.commit()
            db.expunge(firm)
            prepared["firm"] = firm
            prepared["integrator"] = str(issued.client.id)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def world(chromium_available: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    prepared: dict[str, Any] = {}
    with live_server_process(
        tmp_path_factory.mktemp("narrow"), prepare=lambda url: _prepare(url, prepared)
    ) as live:
        # Two submitted assessments (the dashboard's and the history's tables have rows) and
        # an integrator's access (the settings' table).
        with httpx.Client(base_url=live.url) as http:
            signed_in = http.post("/api/v1/session", json={"email": OWNER, "password": PASSWORD})
            http.headers["X-CSRF-Token"] = signed_in.json()["csrf_token"]
            firm: Enterprise = prepared["firm"]
            granted = http.post(
                f"/api/v1/enterprises/{firm.id}/grants", json={"client_id": prepared["integrator"]}
            )
            assert granted.status_code == 201, granted.text
            for position in (0.3, 0.7):
                submit_assessment(http, firm, questionnaire(), position)  # type: ignore[arg-type]
        yield World(live.url, firm)


@pytest.fixture(scope="module")
def live_server(world: World) -> str:
    return world.url


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("email", list(PAGES))
def test_no_page_with_a_table_scrolls_sideways_at_375_px(
    world: World, browser: Any, email: str, lang: str
) -> None:
    context = browser.new_context(
        locale="zh-CN" if lang == "zh" else "en-GB",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9" if lang == "zh" else "en"},
        viewport={"width": WIDTH, "height": 800},
    )
    try:
        signed_in = context.request.post(
            world.url + "/api/v1/session", data={"email": email, "password": PASSWORD}
        )
        assert signed_in.ok, signed_in.text()
        page = context.new_page()
        wide = {}
        for path in PAGES[email]:
            response = page.goto(f"{world.url}{path}?lang={lang}")
            assert response is not None and response.ok, path
            assert page.locator("table").count() >= 1, path  # a page with a table
            scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
            if scroll_width > WIDTH:
                wide[path] = (scroll_width, page.evaluate(STICKING_OUT))
        assert wide == {}
    finally:
        context.close()
