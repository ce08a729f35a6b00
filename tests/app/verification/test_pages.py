"""The verification page: size classes in words, a synthetic firm labelled once, a confirmation
after each change."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import create_enterprise, create_user
from tests.pages import HTML, hidden, sign_in, soup


def test_sizes_in_words_synthetic_label_once_and_a_confirmation(
    client: TestClient, db: Session
) -> None:
    synthetic = create_enterprise(
        db, name="上海测试机械有限公司（合成演示）", district_code="310115", employees=50
    )
    synthetic.synthetic = True
    db.commit()
    sign_in(client, create_user(db, role="official", district_code="310115"))
    page = soup(client.get("/verification", headers=HTML))
    row = page.select_one("tbody tr")
    cells = [td.get_text(" ", strip=True) for td in row.select("td")]
    assert cells[4] == "小型"  # not "small"
    assert cells[0].count("合成演示") == 1
    form = row.select_one("form")
    response = client.post(
        form["action"],
        data={"csrf_token": hidden(form, "csrf_token"), "verified": "1", "status": "pending"},
        headers=HTML,
    )
    assert response.status_code == 200
    assert "已保存" in soup(response).select_one(".flash").get_text()
