"""The PDF's system dependencies: the start-up warning and what doctor reports."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from app.kit.settings import Settings
from app.main import create_app
from app.reports import system


def test_this_machine_has_what_reports_need() -> None:
    assert system.harfbuzz_subset_available()
    assert system.REPORT_FONT in system.cjk_fonts()
    assert system.missing_for_reports() == []


def test_start_up_warns_when_either_is_missing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(system, "harfbuzz_subset_available", lambda: False)
    monkeypatch.setattr(system, "cjk_fonts", lambda: ())
    with caplog.at_level(logging.WARNING, logger="zhizao"), TestClient(create_app(settings)):
        pass
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("libharfbuzz-subset0" in w for w in warnings)
    assert any("fonts-noto-cjk" in w for w in warnings)


def test_a_cjk_font_other_than_noto_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system, "harfbuzz_subset_available", lambda: True)
    monkeypatch.setattr(system, "cjk_fonts", lambda: ("WenQuanYi Micro Hei",))
    (problem,) = system.missing_for_reports()
    assert "Noto Sans CJK SC" in problem and "WenQuanYi" in problem
