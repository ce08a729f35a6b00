"""The verification page: size classes in words, a synthetic firm labelled once, a confirmation
after each change; flagging a firm for an admin, and clearing the flag."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Enterprise
from tests.factories import create_enterprise, create_user
from tests.pages import HTML, hidden, sign_in, soup, texts


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


def _flag_form(page: Any, firm: Enterprise) -> Any:
    return page.find("form", attrs={"action": f"/verification/{firm.id}/flag"})


def _send_flag_form(client: TestClient, form: Any, reason: str | None = None) -> Response:
    """The flag form sent as the page sends it (its hidden fields), with ``reason`` typed."""
    data = {name: hidden(form, name) for name in ("csrf_token", "status", "flagged")}
    if reason is not None:
        data["reason"] = reason
    response: Response = client.post(form["action"], data=data, headers=HTML)
    return response


def _flagged_by_an_official(
    client: TestClient, db: Session, reason: str
) -> tuple[Enterprise, Response]:
    """上海存疑机械有限公司 flagged with ``reason`` by its district's official, from the form on
    the verification page: the firm and the answer."""
    firm = create_enterprise(db, name="上海存疑机械有限公司", district_code="310115")
    sign_in(client, create_user(db, role="official", district_code="310115"))
    form = _flag_form(soup(client.get("/verification", headers=HTML)), firm)
    return firm, _send_flag_form(client, form, reason)


def test_an_official_flags_a_firm_and_an_admin_clears_the_flag(
    client: TestClient, db: Session
) -> None:
    """The district official's only home is this page: flagging was in the API only."""
    firm, response = _flagged_by_an_official(client, db, "地址是一处住宅")
    assert response.status_code == 200
    page = soup(response)
    assert "已标记" in page.select_one(".flash").get_text()
    row = page.find("td", string=lambda text: bool(text) and "上海存疑" in text).parent
    assert "已提请管理员核查" in row.get_text() and "地址是一处住宅" in row.get_text()
    assert _flag_form(page, firm) is None  # flagged: an official cannot clear it
    db.expire_all()
    stored = db.get(Enterprise, firm.id)
    assert stored is not None and stored.flagged_at is not None
    assert stored.flag_reason == "地址是一处住宅"
    flagged = select(AuditEvent).where(AuditEvent.action == "enterprise.flag")
    assert db.scalars(flagged).one().enterprise_id == firm.id

    sign_in(client, create_user(db, role="admin"))
    page = soup(client.get("/verification?status=flagged", headers=HTML))
    assert texts(page, "tbody tr td:first-child") == ["上海存疑机械有限公司"]
    form = _flag_form(page, firm)
    assert hidden(form, "flagged") == "0"
    response = _send_flag_form(client, form)
    assert response.status_code == 200
    assert "标记已撤销" in soup(response).select_one(".flash").get_text()
    assert soup(response).select("tbody tr") == []  # the flagged tab is empty now
    db.expire_all()
    stored = db.get(Enterprise, firm.id)
    assert stored is not None and stored.flagged_at is None and stored.flag_reason is None


def test_flagging_from_the_page_keeps_the_rules(client: TestClient, db: Session) -> None:
    """Only an admin clears a flag; another district's firm is absent; the reason is bounded
    and a form without its CSRF token is refused; nothing is saved by any of them."""
    firm = create_enterprise(db, district_code="310115")
    elsewhere = create_enterprise(db, district_code="310104")
    csrf = sign_in(client, create_user(db, role="official", district_code="310115"))

    def post(target: Enterprise, **data: str) -> int:
        return client.post(
            f"/verification/{target.id}/flag", data={"status": "pending", **data}, headers=HTML
        ).status_code

    def is_flagged(target: Enterprise) -> bool:
        db.rollback()  # a new transaction: on SQLite the last one kept its snapshot
        db.expire_all()
        stored = db.get(Enterprise, target.id)
        return stored is not None and stored.flagged_at is not None

    assert post(firm, csrf_token=csrf, flagged="1", reason="x" * 501) == 422
    assert post(elsewhere, csrf_token=csrf, flagged="1") == 404
    assert post(firm, flagged="1") == 403  # no CSRF token
    assert not is_flagged(firm)
    assert post(firm, csrf_token=csrf, flagged="1") == 200
    assert post(firm, csrf_token=csrf, flagged="0") == 403  # only an admin clears it
    assert is_flagged(firm) and not is_flagged(elsewhere)


@pytest.mark.parametrize(
    ("reason", "said"),
    [("地址是\x0b住宅", "不能包含控制字符。"), ("长" * 501, "过长：最多 500 个字符。")],
)
def test_a_refused_reason_is_said_at_its_form_which_keeps_it(
    client: TestClient, db: Session, reason: str, said: str
) -> None:
    """A reason with a control character (pasted from elsewhere) gave the generic error page,
    naming "body.reason", and the reason typed was lost."""
    firm, response = _flagged_by_an_official(client, db, reason)
    assert response.status_code == 422
    page = soup(response)
    assert page.select_one(".error-page") is None and "body.reason" not in response.text
    opened = page.select_one(f"details#flag-{firm.id}[open]")
    assert opened is not None
    field = opened.select_one(f"#f-reason-{firm.id}")
    assert field is not None and field["value"] == reason
    assert field["aria-invalid"] == "true"
    error = opened.select_one(f"#err-reason-{firm.id}")
    assert error is not None and error.get_text(strip=True) == f"⚠{said}"
    # Said where the page opens too, leading to the form.
    alert = page.select_one("#flag-refused[role=alert]")
    assert alert is not None and said in alert.get_text()
    link = alert.select_one("a")
    assert link is not None and link["href"] == f"#f-reason-{firm.id}"
    assert "上海存疑机械有限公司" in link.get_text()
    db.expire_all()
    stored = db.get(Enterprise, firm.id)
    assert stored is not None and stored.flagged_at is None
