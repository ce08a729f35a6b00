"""The admin console says a refusal's reason in the page's language (``app.admin.pages``)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.integrators import service as integrator_service
from app.kit.principal import CLI
from app.kit.settings import Settings
from tests.factories import create_api_key, create_user
from tests.pages import HTML, hidden, sign_in, soup


def test_a_key_refused_is_said_with_its_reason_in_the_pages_language(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """A third live key is refused (409); its reason was English on the Chinese page."""
    _key, api_client = create_api_key(db, settings)
    client_id: Any = api_client.id  # type: ignore[attr-defined]
    integrator_service.issue_key(db, CLI, settings, client_id)
    db.commit()
    sign_in(client, create_user(db, role="admin"))
    for headers, said in (
        ({}, "未签发密钥：该客户端已有 2 个有效密钥；请先吊销较早的密钥（"),
        (
            {"Accept-Language": "en"},
            "No key was issued: This client already has 2 live keys; revoke the older one (",
        ),
    ):
        page = soup(client.get("/admin/clients", headers={**HTML, **headers}))
        form = page.select_one(f"form[action='/admin/clients/{client_id}/keys']")
        assert form is not None
        fields = {name: hidden(form, name) for name in ("csrf_token", "form_key")}
        refused = client.post(f"/admin/clients/{client_id}/keys", data=fields, headers=headers)
        assert refused.status_code == 409
        alert = soup(refused).select_one("[role=alert]")
        assert alert is not None and said in alert.get_text(" ", strip=True), alert
