"""Report tests: a firm with a recognisable name, and submitting its assessments."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Enterprise
from scoring import Questionnaire
from tests.answers import submit_assessment
from tests.app.reports.helpers import FIRM_NAME, Submit
from tests.factories import create_enterprise


@pytest.fixture
def enterprise(db: Session) -> Enterprise:
    return create_enterprise(db, name=FIRM_NAME)


@pytest.fixture
def submit(
    signed_in: TestClient, enterprise: Enterprise, full_questionnaire: Questionnaire
) -> Submit:
    def _submit(position: float = 0.6) -> dict[str, Any]:
        return submit_assessment(signed_in, enterprise, full_questionnaire, position)

    return _submit
