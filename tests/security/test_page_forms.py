"""Junk in any field of any form a page shows answers a 4xx or a page, never a 500.

The pages' forms are read as each role sees them (a firm's owner with a draft of each
questionnaire and a submitted one, its district's official, an admin), and each of their fields
is sent, one at a time, with values no browser of these pages sends. Three such values answered
500 on the wizard and the start form (an option no question has, a control character, an id
over its length); schemathesis does the same for the API, which these forms do not go through.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Enterprise, User
from tests.answers import questionnaire, submit_assessment
from tests.factories import create_enterprise, create_user, login
from tests.pages import HTML, HTMX, sign_in, soup

JUNK = ["", "x" * 3000, "\x00", "no-such-option", "-1", "1e309", "２０２６"]
#: Forms that end the session or delete what the rest needs: their own tests cover them.
LEFT_OUT = ("/logout", "/settings/delete", "/account/password", "/settings/members/")
PAGES = (
    "/",
    "/dashboard",
    "/account",
    "/settings",
    "/settings/profile",
    "/settings/members",
    "/history",
    "/assessments/new",
    "/admin",
    "/admin/users",
    "/admin/clients",
    "/admin/webhooks",
    "/admin/audit",
    "/admin/outbox",
    "/heatmaps",
    "/verification",
    "/claim",
)


def forms(client: TestClient, path: str) -> Iterator[tuple[str, str, dict[str, str], list[Any]]]:
    """(method, action, the fields as the page fills them, where it is sent: the action as a
    page, and the htmx autosave's URL with htmx's headers) of each form on the page."""
    response = client.get(path, headers=HTML)
    if response.status_code != 200 or not response.headers["content-type"].startswith("text/html"):
        return
    for form in soup(response).find_all("form"):
        fields: dict[str, str] = {}
        for field in form.find_all(["input", "select", "textarea"]):
            name = field.get("name")
            if not name:
                continue
            option = field.find("option") if field.name == "select" else None
            fields[name] = str(option.get("value", "") if option else field.get("value", ""))
        action = form.get("action") or path
        targets: list[Any] = [(action, HTML)]
        if form.get("hx-post"):
            targets.append((form["hx-post"], HTMX))
        yield (form.get("method") or "get").lower(), action, fields, targets


def pages_of(client: TestClient, enterprise: Enterprise | None) -> list[str]:
    if enterprise is None:
        return list(PAGES)
    items = client.get(f"/api/v1/enterprises/{enterprise.id}/assessments").json()["items"]
    own = [f"/assessments/{item['id']}/result" for item in items if item["status"] == "submitted"]
    for item in items:
        if item["status"] == "draft":
            page = BeautifulSoup(
                client.get(f"/assessments/{item['id']}", headers=HTML).text, "html.parser"
            )
            own += [a["href"] for a in page.select("a[href*='/stages/']")]
            own += [f"/assessments/{item['id']}/kpis", f"/assessments/{item['id']}/review"]
    return list(PAGES) + own


@pytest.fixture
def firm(db: Session, client: TestClient) -> Enterprise:
    """A firm with a submitted full assessment and a draft of each questionnaire."""
    enterprise = create_enterprise(db, district_code="310115")
    owner = create_user(db, enterprise=enterprise)
    headers = {"X-CSRF-Token": login(client, owner)}
    submit_assessment(
        client, enterprise, questionnaire("smart-manufacturing-maturity"), headers=headers
    )
    for questionnaire_id in ("smart-manufacturing-maturity", "quick-check"):
        response = client.post(
            f"/api/v1/enterprises/{enterprise.id}/assessments",
            json={"questionnaire_id": questionnaire_id},
            headers=headers,
        )
        assert response.status_code == 201, response.text
    client.cookies.clear()
    return enterprise


def users(db: Session, firm: Enterprise) -> dict[str, User]:
    return {
        "owner": db.query(User).filter_by(enterprise_id=firm.id).one(),
        "official": create_user(db, role="official", district_code="310115"),
        "admin": create_user(db, role="admin"),
    }


@pytest.mark.parametrize("role", ["owner", "official", "admin"])
def test_no_field_of_any_form_answers_500(
    client: TestClient, db: Session, firm: Enterprise, role: str
) -> None:
    user = users(db, firm)[role]
    sign_in(client, user)
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    sent = 0
    for path in pages_of(client, firm if role == "owner" else None):
        for method, action, fields, targets in list(forms(client, path)):
            key = (method, action, tuple(fields))
            if action.startswith(LEFT_OUT) or key in seen:
                continue
            seen.add(key)
            for name in (n for n in fields if n != "csrf_token"):
                for value in JUNK:
                    data = fields | {name: value}
                    for url, headers in targets:
                        if method == "post":
                            response = client.post(url, data=data, headers=headers)
                        else:
                            response = client.get(url, params=data, headers=headers)
                        sent += 1
                        assert response.status_code < 500, (url, name, value, response.text[:300])
    assert seen and sent  # the pages did show forms
