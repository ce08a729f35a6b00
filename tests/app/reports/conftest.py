"""Report test helpers: a firm with a submitted assessment, and reading PDFs with pypdf."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from app.enterprises import service as enterprise_service
from app.kit.settings import PROJECT_ROOT
from app.models import Enterprise
from scoring import Questionnaire, load_questionnaire
from tests.app.assessments.conftest import complete_answers
from tests.factories import create_enterprise, create_user, login

FULL = "smart-manufacturing-maturity"
FIRM_NAME = "上海智造示范精密机械有限公司"


@pytest.fixture(scope="session")
def full_questionnaire() -> Questionnaire:
    return load_questionnaire(PROJECT_ROOT / "questionnaires" / f"{FULL}.yaml")


@pytest.fixture
def enterprise(db: Session) -> Enterprise:
    return create_enterprise(db, name=FIRM_NAME)


@pytest.fixture
def signed_in(client: TestClient, db: Session, enterprise: Enterprise) -> TestClient:
    login(client, create_user(db, enterprise=enterprise))
    return client


Submit = Callable[..., dict[str, Any]]


def submit_assessment(
    client: TestClient,
    enterprise: Enterprise,
    questionnaire: Questionnaire,
    position: float = 0.6,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Start, fill and submit an assessment through the API; returns the result body."""
    headers = headers or {}
    created = client.post(
        f"/api/v1/enterprises/{enterprise.id}/assessments",
        json={"questionnaire_id": questionnaire.id},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    answers = complete_answers(
        questionnaire, enterprise_service.scoring_profile(enterprise), position
    )
    put = client.put(
        f"/api/v1/assessments/{created.json()['id']}/answers",
        json={"answers": answers},
        headers=headers | {"If-Match": created.headers["ETag"]},
    )
    assert put.status_code == 200, put.text
    submitted = client.post(
        f"/api/v1/assessments/{created.json()['id']}/submit",
        headers=headers | {"If-Match": put.headers["ETag"]},
    )
    assert submitted.status_code == 200, submitted.text
    return dict(submitted.json())


@pytest.fixture
def submit(
    signed_in: TestClient, enterprise: Enterprise, full_questionnaire: Questionnaire
) -> Submit:
    def _submit(position: float = 0.6) -> dict[str, Any]:
        return submit_assessment(signed_in, enterprise, full_questionnaire, position)

    return _submit


# --- reading PDFs --------------------------------------------------------------------------------


def pdf_reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def pdf_text(pdf: bytes) -> str:
    """The PDF's text with all whitespace removed (extraction splits CJK runs unpredictably)."""
    text = "".join(page.extract_text() or "" for page in pdf_reader(pdf).pages)
    return re.sub(r"\s+", "", text)


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def embedded_fonts(pdf: bytes) -> dict[str, bool]:
    """Every font the pages use: base font name → whether its file is embedded."""
    fonts: dict[str, bool] = {}

    def visit(resources: Any) -> None:
        if resources is None:
            return
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            targets = [d.get_object() for d in descendants] if descendants else [font]
            for target in targets:
                descriptor = target.get("/FontDescriptor")
                descriptor = descriptor.get_object() if descriptor is not None else {}
                embedded = any(
                    key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
                )
                fonts[str(target.get("/BaseFont") or font.get("/BaseFont"))] = embedded
        for xobject in (resources.get("/XObject") or {}).values():
            visit(xobject.get_object().get("/Resources"))

    for page in pdf_reader(pdf).pages:
        visit(page.get("/Resources"))
    return fonts
