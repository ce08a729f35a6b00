"""Fixtures of the app's tests: a firm, its signed-in user, starting an assessment."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Enterprise
from scoring import Questionnaire
from tests.answers import FULL, questionnaire
from tests.factories import create_enterprise, create_user, login


@pytest.fixture(scope="session")
def full_questionnaire() -> Questionnaire:
    return questionnaire(FULL)


@pytest.fixture
def other(app: FastAPI) -> Iterator[TestClient]:
    """A second browser of the shared app, with cookies of its own."""
    browser = TestClient(app, base_url="http://testserver")
    yield browser
    browser.close()


@pytest.fixture
def enterprise(db: Session) -> Enterprise:
    return create_enterprise(db)


@pytest.fixture
def signed_in(client: TestClient, db: Session, enterprise: Enterprise) -> TestClient:
    login(client, create_user(db, enterprise=enterprise))
    return client


@pytest.fixture
def start(signed_in: TestClient, enterprise: Enterprise) -> Callable[..., dict[str, Any]]:
    def _start(questionnaire_id: str = FULL, **extra: Any) -> dict[str, Any]:
        response = signed_in.post(
            f"/api/v1/enterprises/{enterprise.id}/assessments",
            json={"questionnaire_id": questionnaire_id, **extra},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    return _start
