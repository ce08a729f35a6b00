"""The heatmap page: matrix, legend, tile map, filters and exports; who may open it."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.app.heatmaps.helpers import publish_now, submit, verified_firm
from tests.factories import create_enterprise, create_user, login
from tests.pages import HTML, sign_in, soup


def test_page_shows_matrix_map_legend_and_exports(client: TestClient, db: Session) -> None:
    for i in range(6):
        firm = verified_firm(db, district_code="310117", industry_code="39")
        submit(db, firm, datetime.now(UTC), overall=f"{3.1 + i * 0.1:.2f}")
    lonely = verified_firm(db, district_code="310115", industry_code="36")
    submit(db, lonely, datetime.now(UTC))
    publish_now(db)
    login(client, create_user(db, role="official"))
    page = client.get("/heatmaps", params={"cut": "district-industry", "lang": "en"})
    assert page.status_code == 200
    html = page.text
    assert "District map (16 districts)" in html and "<svg" in html and "Songjiang" in html
    assert "hm-x" in html  # a suppressed (grey, marked) cell and its explanation
    assert "hidden to protect individual firms" in html
    assert "/api/v1/heatmaps.csv?" in html and "/api/v1/heatmaps?" in html
    assert 'name="cut"' in html and 'name="quarter"' in html and 'name="questionnaire_id"' in html
    chinese = client.get("/heatmaps", params={"lang": "zh"})
    assert "区域智能制造成熟度热力图" in chinese.text and "图例" in chinese.text


def test_page_is_absent_for_enterprise_users_and_asks_anonymous_to_sign_in(
    client: TestClient, db: Session
) -> None:
    anonymous = client.get("/heatmaps", follow_redirects=False)
    assert anonymous.status_code in (303, 302, 401)
    login(client, create_user(db, enterprise=create_enterprise(db)))
    assert client.get("/heatmaps").status_code == 404


def test_synthetic_data_is_labelled(client: TestClient, db: Session) -> None:
    firm = verified_firm(db)
    firm.synthetic = True
    db.commit()
    publish_now(db)
    login(client, create_user(db, role="admin"))
    assert "synthetic demo firms" in client.get("/heatmaps", params={"lang": "en"}).text
    view = client.get("/api/v1/heatmaps").json()
    assert view["includes_synthetic"] is True


def test_a_district_official_is_not_offered_the_city_wide_scope(
    client: TestClient, db: Session
) -> None:
    """A district official sees their own district's tables only (docs/heatmaps.md, "Scope"):
    the page offered them 全市 / City-wide, which showed their district's table again."""
    firm = verified_firm(db, district_code="310115", industry_code="36")
    submit(db, firm, datetime.now(UTC))
    publish_now(db)
    sign_in(client, create_user(db, role="official", district_code="310115"))
    for lang, own in (("zh", "浦东新区"), ("en", "Pudong New Area")):
        page = soup(client.get("/heatmaps", params={"lang": lang}, headers=HTML))
        scope = page.select("select[name=district] option")
        assert [(o["value"], o.get_text(strip=True)) for o in scope] == [("310115", own)]
        assert scope[0].has_attr("selected")
    # A city-wide official and an admin choose the city or any district.
    for viewer in (create_user(db, role="official"), create_user(db, role="admin")):
        sign_in(client, viewer)
        page = soup(client.get("/heatmaps", params={"lang": "zh"}, headers=HTML))
        scope = page.select("select[name=district] option")
        assert (scope[0]["value"], scope[0].get_text(strip=True)) == ("", "全市")
        assert scope[0].has_attr("selected") and len(scope) == 17
