"""The documented walkthrough runs against the app and agrees with `zhizao score`."""

from __future__ import annotations

import importlib.util
import sys

from fastapi.testclient import TestClient

from app.kit.settings import PROJECT_ROOT


def test_walkthrough_api_result_equals_cli(client: TestClient) -> None:
    spec = importlib.util.spec_from_file_location(
        "walkthrough", PROJECT_ROOT / "docs" / "examples" / "walkthrough.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    outcome = module.run(
        client,
        [sys.executable, "-m", "app"],
        PROJECT_ROOT / "questionnaires" / "smart-manufacturing-maturity.v2.yaml",
    )
    assert outcome["api"]["overall"] == outcome["cli"]["overall"]
    assert outcome["api"]["rung"] == outcome["cli"]["rung"]
    assert set(outcome["api"]["stages"]) == {
        "digitization",
        "automation",
        "data_collection",
        "cloud_adoption",
    }
