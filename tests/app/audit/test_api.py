from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import create_enterprise, create_user, login


def test_admin_filters_and_pages_the_audit_trail(client: TestClient, db: Session) -> None:
    enterprises = [create_enterprise(db) for _ in range(3)]
    login(client, create_user(db, role="admin"))
    page = client.get(
        "/api/v1/admin/audit-events", params={"action": "enterprise.", "limit": 2}
    ).json()
    assert [e["action"] for e in page["items"]] == ["enterprise.create"] * 2
    rest = client.get(
        "/api/v1/admin/audit-events",
        params={"action": "enterprise.", "limit": 2, "cursor": page["next_cursor"]},
    )
    ids = [e["target_id"] for e in page["items"] + rest.json()["items"]]
    assert sorted(ids) == sorted(str(e.id) for e in enterprises)
    assert rest.json()["next_cursor"] is None
    one = client.get(
        "/api/v1/admin/audit-events",
        params={"enterprise_id": str(enterprises[0].id), "since": "2000-01-01T00:00:00"},
    ).json()
    assert [e["enterprise_id"] for e in one["items"]] == [str(enterprises[0].id)]


def test_others_get_404(client: TestClient, db: Session) -> None:
    login(client, create_user(db, enterprise=create_enterprise(db)))
    assert client.get("/api/v1/admin/audit-events").status_code == 404
    client.cookies.clear()
    login(client, create_user(db, role="official"))
    assert client.get("/api/v1/admin/audit-events").status_code == 404
