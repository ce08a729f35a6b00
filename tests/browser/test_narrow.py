"""At 375 px (a phone) no page with a table scrolls sideways: a wide table scrolls inside its box.

The hidden labels of the action columns (``.visually-hidden``, absolutely positioned) escaped the
table's scroll box and widened the page: /admin/users to 590 px, /settings/members to 467 px,
/dashboard and /history to 563 px in English. Found by the web audit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from app.integrators import service as integrator_service
from app.kit.principal import CLI
from app.models import Enterprise
from tests.answers import questionnaire, submit_assessment
from tests.browser.helpers import api_client, database, file_claim, serve, server_settings
from tests.factories import create_enterprise, create_user

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


def _prepare(url: str) -> dict[str, Any]:
    """A firm with its owner, a colleague and a pending access request; the district's
    official; an admin; an integrator."""
    settings = server_settings(url)
    with database(url) as db:
        firm = create_enterprise(db, name="上海窄屏测试精密机械制造有限公司")
        create_user(db, enterprise=firm, email=OWNER, display_name="王总经理")
        create_user(
            db,
            enterprise=firm,
            email="colleague.in.the.finance.department@narrow.example.com",
            display_name="孙会计",
        )
        create_user(db, role="official", district_code="310115", email=OFFICIAL)
        create_user(db, role="admin", email=ADMIN)
        issued = integrator_service.create_api_client(
            db, CLI, settings, name="示例工业互联网平台有限公司", scopes=["assessments:read"]
        )
        db.commit()
        file_claim(db, settings, firm, "someone.asking.to.join@narrow.example.com")
        db.expunge(firm)
        return {"firm": firm, "integrator": str(issued.client.id)}


@pytest.fixture(scope="module")
def world(chromium_available: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve(tmp_path_factory.mktemp("narrow"), _prepare) as (live, prepared):
        # Two submitted assessments (the dashboard's and the history's tables have rows) and
        # an integrator's access (the settings' table).
        with api_client(live.url, OWNER) as http:
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
    world: World, new_page: Any, email: str, lang: str
) -> None:
    page = new_page(email, lang, viewport={"width": WIDTH, "height": 800})
    wide = {}
    for path in PAGES[email]:
        response = page.goto(f"{world.url}{path}?lang={lang}")
        assert response is not None and response.ok, path
        assert page.locator("table").count() >= 1, path  # a page with a table
        scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
        if scroll_width > WIDTH:
            wide[path] = (scroll_width, page.evaluate(STICKING_OUT))
    assert wide == {}
