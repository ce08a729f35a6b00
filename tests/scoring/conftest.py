"""Fixtures for the pure scoring tests (no database, no app)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scoring import Questionnaire, load_questionnaire

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def golden() -> Questionnaire:
    return load_questionnaire(DATA / "golden.yaml")


@pytest.fixture(scope="session")
def full() -> Questionnaire:
    return load_questionnaire(ROOT / "questionnaires" / "smart-manufacturing-maturity.yaml")


@pytest.fixture(scope="session")
def worked() -> Questionnaire:
    return load_questionnaire(ROOT / "docs" / "examples" / "worked-example" / "questionnaire.yaml")
