"""The OpenAPI document is fit for code generation, and a client generated from it by
`openapi-python-client` (offline) runs the whole integrator flow against a live server."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.kit.settings import Settings
from app.main import create_app
from tests.app.integrators.helpers import (
    CONSENT,
    PROFILE,
    Integrator,
    LiveServer,
    full_answers,
)
from tests.factories import enterprise_payload

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return create_app(Settings()).openapi()


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


class TestDocument:
    def test_every_operation_has_an_id_tags_and_problem_responses(
        self, spec: dict[str, Any]
    ) -> None:
        ids = []
        for path, method, operation in _operations(spec):
            where = f"{method.upper()} {path}"
            assert operation.get("operationId"), where
            assert operation.get("tags"), where
            assert operation.get("summary") or operation.get("description"), where
            ids.append(operation["operationId"])
            if path.startswith("/api/v1"):
                problems = [
                    status
                    for status, response in operation["responses"].items()
                    if "application/problem+json" in response.get("content", {})
                ]
                assert {"401", "404", "429", "500"} <= set(problems), where
        assert len(ids) == len(set(ids)), "operationIds must be unique"

    def test_security_schemes_are_declared_and_used(self, spec: dict[str, Any]) -> None:
        schemes = spec["components"]["securitySchemes"]
        assert schemes["HTTPBearer"]["scheme"] == "bearer"
        assert schemes["APIKeyCookie"]["in"] == "cookie"
        integrator_tags = {"enterprises", "assessments", "feed", "webhooks", "reports"}
        for path, method, operation in _operations(spec):
            if set(operation["tags"]) & integrator_tags:
                names = {name for req in operation.get("security", []) for name in req}
                assert "HTTPBearer" in names, f"{method.upper()} {path}"

    def test_integrator_schemas_carry_examples(self, spec: dict[str, Any]) -> None:
        schemas = spec["components"]["schemas"]
        for name, field in [
            ("FeedItem", "rung"),
            ("WebhookEndpointCreate", "url"),
            ("EnterpriseCreate", "credit_code"),
            ("GrantCreate", "client_id"),
        ]:
            assert schemas[name]["properties"][field].get("examples"), (name, field)
        feed = spec["paths"]["/api/v1/scores"]["get"]
        assert feed["operationId"] == "scores_feed" and feed["tags"] == ["feed"]

    def test_served_document_is_the_same(self, client: TestClient, spec: dict[str, Any]) -> None:
        served = client.get("/openapi.json").json()
        assert {op["operationId"] for _, _, op in _operations(served)} == {
            op["operationId"] for _, _, op in _operations(spec)
        }


def _generate(spec: dict[str, Any], workdir: Path, package: str) -> None:
    document = workdir / "openapi.json"
    document.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    config = workdir / "config.json"
    config.write_text(
        json.dumps(
            {
                "project_name_override": package.replace("_", "-"),
                "package_name_override": package,
                "post_hooks": [],
                # PDF reports are binary downloads for the generated client.
                "content_type_overrides": {"application/pdf": "application/octet-stream"},
            }
        ),
        encoding="utf-8",
    )
    executable = shutil.which("openapi-python-client") or str(
        Path(sys.executable).parent / "openapi-python-client"
    )
    out = workdir / "src" / package
    completed = subprocess.run(
        [
            executable,
            "generate",
            "--path",
            str(document),
            "--config",
            str(config),
            "--meta",
            "none",
            "--output-path",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    importlib.invalidate_caches()


class TestGeneratedClient:
    def test_full_integrator_flow_through_the_generated_client(
        self, live_server: LiveServer, integrator: Integrator, tmp_path: Path
    ) -> None:
        spec = httpx.get(f"{live_server.url}/openapi.json", timeout=30).json()
        package = f"zhizao_client_{uuid.uuid4().hex[:8]}"
        _generate(spec, tmp_path, package)
        sys.path.insert(0, str(tmp_path / "src"))
        try:
            self._flow(package, live_server.url, integrator.key)
        finally:
            sys.path.remove(str(tmp_path / "src"))
            for name in [m for m in sys.modules if m.startswith(package)]:
                del sys.modules[name]

    def _flow(self, package: str, base_url: str, key: str) -> None:
        def mod(name: str) -> Any:
            return importlib.import_module(f"{package}.{name}")

        client = mod("client").AuthenticatedClient(
            base_url=base_url, token=key, raise_on_unexpected_status=True
        )
        models = mod("models")

        # 1. register a client firm, with its consent
        registration = models.EnterpriseRegistration.from_dict(
            enterprise_payload() | {"consent": CONSENT}
        )
        created = mod("api.enterprises.enterprises_create").sync_detailed(
            client=client, body=registration
        )
        assert created.status_code == 201, created.content
        enterprise = created.parsed
        # attested by the integrator, not verified: it counts in heatmaps once confirmed
        assert isinstance(enterprise, models.EnterpriseRead) and enterprise.verified is False

        # 2. start an assessment
        started = mod("api.assessments.assessments_create").sync_detailed(
            enterprise.id,
            client=client,
            body=models.AssessmentCreate.from_dict({"questionnaire_id": "quick-check"}),
        )
        assert started.status_code == 201, started.content
        assessment = started.parsed
        assert isinstance(assessment, models.AssessmentRead)

        # 3. answer (If-Match with the ETag)
        put = mod("api.assessments.assessments_put_answers").sync_detailed(
            assessment.id,
            client=client,
            body=models.AnswersUpdate.from_dict({"answers": full_answers(PROFILE)}),
            if_match=started.headers["etag"],
        )
        assert put.status_code == 200, put.content
        assert put.parsed.next_stage is None

        # 4. submit, safely retryable
        submit = mod("api.assessments.assessments_submit")
        kwargs = {
            "client": client,
            "if_match": put.headers["etag"],
            "idempotency_key": uuid.uuid4().hex,
        }
        first = submit.sync_detailed(assessment.id, **kwargs)
        assert first.status_code == 200, first.content
        replay = submit.sync_detailed(assessment.id, **kwargs)
        assert replay.status_code == 200 and replay.headers.get("idempotent-replayed") == "true"

        # 5. read the result
        result = mod("api.assessments.assessments_result").sync(assessment.id, client=client)
        assert isinstance(result, models.ResultRead)
        assert 2.75 <= result.rung <= 4.0

        # 6. the feed has it
        page = mod("api.feed.scores_feed").sync(client=client)
        assert isinstance(page, models.FeedPage)
        assert [item.assessment_id for item in page.items] == [assessment.id]
        assert page.items[0].rung == result.rung
        following = mod("api.feed.scores_feed").sync(client=client, cursor=page.next_cursor)
        assert following.items == [] and following.has_more is False

        # problems parse as Problem
        missing = mod("api.assessments.assessments_get").sync_detailed(uuid.uuid4(), client=client)
        assert missing.status_code == 404
        assert isinstance(missing.parsed, models.Problem) and missing.parsed.status == 404
