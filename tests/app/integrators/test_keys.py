"""API clients and key rotation (admin API and `zhizao api-keys`), rate limits per key."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from limits import parse_many
from limits.limits import TIME_TYPES
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.integrators.ratelimit import said
from app.kit.errors import say
from app.kit.settings import Settings
from app.main import create_app
from tests.app.integrators.helpers import Integrator, bearer, register_firm
from tests.factories import create_enterprise, create_user, login

runner = CliRunner()


class TestAdminApi:
    def test_create_client_rotate_keys_and_revoke(self, admin: TestClient, db: Session) -> None:
        created = admin.post(
            "/api/v1/admin/api-clients",
            json={
                "name": "示例工业互联网平台",
                "contact_email": "api@platform.example",
                "scopes": ["assessments:read", "enterprises:write"],
            },
        )
        assert created.status_code == 201, created.text
        body = created.json()
        client_id, first = body["client"]["id"], body["api_key"]
        assert first.startswith("zk_test_")
        assert body["key"]["scopes"] == ["assessments:read", "enterprises:write"]

        probe = TestClient(admin.app)  # a second caller using the keys
        assert probe.get("/api/v1/scores", headers=bearer(first)).status_code == 200

        second = admin.post(f"/api/v1/admin/api-clients/{client_id}/keys", json={})
        assert second.status_code == 201, second.text
        new_key = second.json()["api_key"]
        assert second.json()["key"]["scopes"] == ["assessments:read", "enterprises:write"]
        assert probe.get("/api/v1/scores", headers=bearer(new_key)).status_code == 200
        assert probe.get("/api/v1/scores", headers=bearer(first)).status_code == 200  # overlap

        third = admin.post(f"/api/v1/admin/api-clients/{client_id}/keys", json={})
        assert third.status_code == 409  # at most two live keys

        first_id = body["key"]["key_id"]
        revoked = admin.delete(f"/api/v1/admin/api-clients/{client_id}/keys/{first_id}")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        assert probe.get("/api/v1/scores", headers=bearer(first)).status_code == 401
        assert probe.get("/api/v1/scores", headers=bearer(new_key)).status_code == 200

        shown = admin.get(f"/api/v1/admin/api-clients/{client_id}").json()
        assert [k["revoked_at"] is None for k in shown["keys"]] == [False, True]
        assert shown["keys"][1]["last_used_at"] is not None
        listed = admin.get("/api/v1/admin/api-clients").json()
        assert client_id in {c["id"] for c in listed["items"]}

        disabled = admin.patch(f"/api/v1/admin/api-clients/{client_id}", json={"disabled": True})
        assert disabled.status_code == 200 and disabled.json()["disabled_at"]
        assert probe.get("/api/v1/scores", headers=bearer(new_key)).status_code == 401

    def test_admin_routes_are_404_to_everyone_else(
        self, client: TestClient, db: Session, integrator: Integrator
    ) -> None:
        paths = [
            ("GET", "/api/v1/admin/api-clients"),
            ("GET", f"/api/v1/admin/api-clients/{integrator.client_id}"),
            ("POST", f"/api/v1/admin/api-clients/{integrator.client_id}/keys"),
            ("GET", "/api/v1/admin/webhooks"),
        ]
        for method, path in paths:
            response = client.request(method, path, json={}, headers=integrator.headers)
            assert response.status_code == 404, path
        login(client, create_user(db, enterprise=create_enterprise(db)))
        for method, path in paths:
            assert client.request(method, path, json={}).status_code == 404, path


class TestCli:
    @pytest.fixture
    def cli_env(self, settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ZHIZAO_DATABASE_URL", settings.DATABASE_URL)
        monkeypatch.setenv("ZHIZAO_ENV", settings.ENV.value)
        monkeypatch.setenv("ZHIZAO_SECRET_KEY", settings.SECRET_KEY.get_secret_value())

    def test_rotate_with_the_cli(
        self, cli_env: None, client: TestClient, integrator: Integrator
    ) -> None:
        cid = str(integrator.client_id)
        issued = runner.invoke(cli, ["api-keys", "create", cid])
        assert issued.exit_code == 0, issued.output
        new_key = issued.stdout.strip().splitlines()[-1]
        assert new_key.startswith("zk_test_")
        assert client.get("/api/v1/scores", headers=bearer(new_key)).status_code == 200

        refused = runner.invoke(cli, ["api-keys", "create", cid])
        assert refused.exit_code == 2 and "2 live keys" in refused.output

        old_id = integrator.key.split("_")[2]
        listed = runner.invoke(cli, ["api-keys", "list", cid])
        assert listed.exit_code == 0 and old_id in listed.output and "live" in listed.output
        assert integrator.key.split("_")[3] not in listed.output  # never a secret

        revoked = runner.invoke(cli, ["api-keys", "revoke", old_id])
        assert revoked.exit_code == 0, revoked.output
        assert client.get("/api/v1/scores", headers=integrator.headers).status_code == 401
        assert client.get("/api/v1/scores", headers=bearer(new_key)).status_code == 200

        assert runner.invoke(cli, ["api-keys", "revoke", "0" * 16]).exit_code == 2
        bad_scope = runner.invoke(cli, ["api-keys", "create", cid, "--scope", "root"])
        assert bad_scope.exit_code == 2

    def test_worker_once(self, cli_env: None) -> None:
        result = runner.invoke(cli, ["worker", "--once"])
        assert result.exit_code == 0, result.output
        # Nothing to deliver; the two periodic jobs (heatmap publication, retention purge) have
        # never run: one run each.
        assert "2 delivery attempt(s)" in result.output
        again = runner.invoke(cli, ["worker", "--once"])
        assert "0 delivery attempt(s)" in again.output


class TestRateLimit:
    @pytest.fixture
    def limited(self, settings: Settings, engine: Engine) -> Any:
        tight = settings.model_copy(update={"API_RATE_LIMIT": "3/minute"})
        with TestClient(create_app(tight)) as c:
            yield c

    def test_every_answer_a_key_is_counted_for_carries_its_budget(
        self, limited: TestClient, integrator: Integrator
    ) -> None:
        """Routes that return their own Response (a result, a PDF, a PUT) and error answers
        (404, 422, the 429 itself) counted against the key without saying so: the headers were
        set on the dependency's response, which those answers drop."""
        headers = integrator.headers
        answers = [
            limited.get(f"/api/v1/assessments/{uuid.uuid4()}/result", headers=headers),  # 404
            limited.post("/api/v1/enterprises", json={}, headers=headers),  # 422
            limited.get("/api/v1/questionnaires/quick-check", headers=headers),  # own Response
            limited.get("/api/v1/scores", headers=headers),  # 429
        ]
        assert [a.status_code for a in answers] == [404, 422, 200, 429]
        for answer, remaining in zip(answers, (2, 1, 0, 0), strict=True):
            assert answer.headers["X-RateLimit-Limit"] == "3", answer.status_code
            assert answer.headers["X-RateLimit-Remaining"] == str(remaining), answer.status_code
        assert len(answers[-1].headers.get_list("X-RateLimit-Remaining")) == 1

    def test_429_problem_with_retry_after_per_key(
        self,
        limited: TestClient,
        integrator: Integrator,
        other_integrator: Integrator,
        db: Session,
    ) -> None:
        for remaining in (2, 1, 0):
            ok = limited.get("/api/v1/scores", headers=integrator.headers)
            assert ok.status_code == 200
            assert ok.headers["X-RateLimit-Remaining"] == str(remaining)
        refused = limited.get("/api/v1/scores", headers=integrator.headers)
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json()["status"] == 429
        # every integrator route counts, and another key has its own budget
        assert (
            limited.post("/api/v1/enterprises", json={}, headers=integrator.headers).status_code
            == 429
        )
        assert limited.get("/api/v1/scores", headers=other_integrator.headers).status_code == 200
        # signed-in users are not counted against keys
        login(limited, create_user(db, enterprise=create_enterprise(db)))
        for _ in range(5):
            assert limited.get("/api/v1/integrators").status_code == 200

    def test_the_429_says_its_limit_in_the_requests_language(
        self, limited: TestClient, integrator: Integrator
    ) -> None:
        """The Chinese problem said the limit in the `limits` package's English: "此 API 密钥已超出
        速率限制（3 per 1 minute）" (found by reviewing every problem in Chinese)."""
        for _ in range(3):
            assert limited.get("/api/v1/scores", headers=integrator.headers).status_code == 200
        zh = limited.get(
            "/api/v1/scores", headers=integrator.headers | {"Accept-Language": "zh-CN"}
        )
        by_query = limited.get("/api/v1/scores", params={"lang": "zh"}, headers=integrator.headers)
        en = limited.get("/api/v1/scores", headers=integrator.headers | {"Accept-Language": "en"})
        assert zh.status_code == by_query.status_code == en.status_code == 429
        for chinese in (zh, by_query):
            seconds = chinese.headers["Retry-After"]
            assert chinese.json()["detail"] == (
                f"此 API 密钥已超出速率限制（每分钟 3 次），请在 {seconds} 秒后重试。"
            )
        assert en.json()["detail"] == (
            "Rate limit of 3 per minute for this API key exceeded; "
            f"retry in {en.headers['Retry-After']} s."
        )

    @pytest.mark.parametrize("unit", sorted(TIME_TYPES))
    def test_every_window_is_said_in_either_language(self, unit: str) -> None:
        one, several = parse_many(f"600/1 {unit};20/10 {unit}s")
        assert [say("en", said(item)) for item in (one, several)] == [
            f"600 per {unit}",
            f"20 per 10 {unit}s",
        ]
        chinese = [say("zh", said(item)) for item in (one, several)]
        assert re.fullmatch(r"每[^A-Za-z]+ 600 次", chinese[0]), chinese
        assert re.fullmatch(r"每 10 [^A-Za-z]+ 20 次", chinese[1]), chinese

    def test_limit_applies_to_firm_registration_too(
        self, limited: TestClient, integrator: Integrator
    ) -> None:
        register_firm(limited, integrator.headers)
        for _ in range(2):
            limited.get("/api/v1/scores", headers=integrator.headers)
        assert limited.get("/api/v1/webhooks", headers=integrator.headers).status_code == 429
