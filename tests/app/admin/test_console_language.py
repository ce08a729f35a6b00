"""The admin console says a refusal's reason in the page's language (``app.admin.pages``)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.integrators import sealing
from app.integrators import service as integrator_service
from app.kit.clock import utcnow
from app.kit.principal import CLI
from app.kit.settings import Settings
from app.models import WebhookEndpoint
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


def _pending_endpoint(db: Session, settings: Settings, client_id: Any, url: str) -> uuid.UUID:
    """A pending endpoint registered before its host resolved inside (or whose DNS changed)."""
    endpoint_id = uuid.uuid4()
    sealed = sealing.seal(settings, endpoint_id, "whsec_" + "A" * 43 + "=")
    db.add(
        WebhookEndpoint(
            id=endpoint_id,
            client_id=client_id,
            url=url,
            description="",
            events=["assessment.submitted"],
            secret_ciphertext=sealed.ciphertext,
            secret_key_id=sealed.key_id,
            status="pending",
        )
    )
    db.commit()
    return endpoint_id


def test_why_the_worker_would_refuse_an_endpoint_is_said_in_the_pages_language(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """The reason under a pending endpoint was the English of the check on the Chinese console;
    it is the same phrase an API problem says for the URL, in the page's language."""
    _key, api_client = create_api_key(db, settings)
    client_id: Any = api_client.id  # type: ignore[attr-defined]
    private = _pending_endpoint(db, settings, client_id, "https://intranet.example.com/hook")
    loopback = _pending_endpoint(db, settings, client_id, "https://split.example.com/hook")
    sign_in(client, create_user(db, role="admin"))
    said = {
        "zh": {
            private: "后台任务将拒绝向该地址发送：intranet.example.com 解析为 10.20.30.40，"
            "不是公网地址",
            loopback: "后台任务将拒绝向该地址发送：split.example.com 解析为 127.0.0.1，"
            "不是公网地址",
        },
        "en": {
            private: "The worker would refuse to send there: intranet.example.com resolves to "
            "10.20.30.40, which is not a public address",
            loopback: "The worker would refuse to send there: split.example.com resolves to "
            "127.0.0.1, which is not a public address",
        },
    }
    for lang, headers in (("zh", HTML), ("en", {**HTML, "Accept-Language": "en"})):
        for path in ("/admin", "/admin/webhooks"):
            page = soup(client.get(path, headers=headers))
            for endpoint_id, reason in said[lang].items():
                problem = page.select_one(f"#webhook-{endpoint_id} .field-error")
                assert problem is not None, (lang, path)
                assert problem.get_text(strip=True) == "⚠" + reason, (lang, path)
                assert problem.select("[lang]") == [], "the reason is in the page's language"


def test_why_an_endpoint_is_disabled_is_said_in_the_pages_language(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """A disabled endpoint's reason showed as its stored code ("failing_for_long") in both
    languages; each code the service writes is said in words, one it does not know as stored."""
    _key, api_client = create_api_key(db, settings)
    client_id: Any = api_client.id  # type: ignore[attr-defined]
    failing, by_admin, unknown = (
        _pending_endpoint(db, settings, client_id, f"https://{name}.example.com/hook")
        for name in ("failing", "admin", "unknown")
    )
    for endpoint_id in (failing, unknown):
        endpoint = db.get(WebhookEndpoint, endpoint_id)
        assert endpoint is not None
        integrator_service.disable_failing_endpoint(db, endpoint, utcnow())
    db.get(WebhookEndpoint, unknown).disabled_reason = "paused_by_hand"  # type: ignore[union-attr]
    db.commit()
    sign_in(client, create_user(db, role="admin"))
    page = soup(client.get("/admin/webhooks", headers=HTML))
    form = page.select_one(f"form[action='/admin/webhooks/{by_admin}/disable']")
    assert form is not None
    disabled = client.post(form["action"], data={"csrf_token": hidden(form, "csrf_token")})
    assert disabled.status_code == 200
    said = {
        "zh": {
            failing: "✗ 已停用（长时间未能成功投递）",
            by_admin: "✗ 已停用（管理员操作）",
            unknown: "✗ 已停用（paused_by_hand）",
        },
        "en": {
            failing: "✗ disabled (no delivery succeeded for too long)",
            by_admin: "✗ disabled (by an administrator)",
            unknown: "✗ disabled (paused_by_hand)",
        },
    }
    for lang, headers in (("zh", HTML), ("en", {**HTML, "Accept-Language": "en"})):
        page = soup(client.get("/admin/webhooks", params={"status": "disabled"}, headers=headers))
        for endpoint_id, status in said[lang].items():
            terms = page.select(f"#webhook-{endpoint_id} dl.facts > dt")
            shown = {dt.get_text(): dt.find_next_sibling("dd").get_text() for dt in terms}
            assert shown["状态" if lang == "zh" else "Status"] == status, (lang, endpoint_id)
