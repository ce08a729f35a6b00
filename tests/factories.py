"""Plain factory functions for arranging test data (Polar's random_objects style)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping
from decimal import Decimal

import httpx
from sqlalchemy.orm import Session

from app.accounts import service as accounts_service
from app.enterprises import service as enterprise_service
from app.enterprises.schemas import EnterpriseCreate
from app.integrators import service as integrator_service
from app.kit.principal import CLI
from app.kit.settings import Settings
from app.models import Enterprise, User

#: Structurally valid, fabricated credit codes (reference/domain.md §4.4) and more made alike.
_ORG_BODIES = itertools.count(1)
_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
PASSWORD = "correct horse battery"


def make_credit_code(region: str = "310115") -> str:
    n = next(_ORG_BODIES)
    body8 = f"MA{n:06d}"
    weights9 = [3, 7, 9, 10, 5, 8, 4, 2]
    value = lambda c: int(c) if c.isdigit() else ord(c) - 55  # noqa: E731
    c9 = 11 - sum(value(c) * w for c, w in zip(body8, weights9, strict=True)) % 11
    org9 = body8 + {10: "X", 11: "0"}.get(c9, str(c9))
    body17 = "91" + region + org9
    weights = [pow(3, i, 31) for i in range(17)]
    total = sum(_CHARSET.index(c) * w for c, w in zip(body17, weights, strict=True))
    return body17 + _CHARSET[(31 - total % 31) % 31]


def enterprise_payload(**overrides: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "credit_code": make_credit_code(),
        "name": "上海示例精密机械有限公司",
        "district_code": "310115",
        "industry_code": "36",
        "employees": 120,
        "annual_revenue_cny": 45_000_000,
    }
    payload.update(overrides)
    return payload


def create_enterprise(db: Session, **overrides: object) -> Enterprise:
    data = EnterpriseCreate.model_validate(enterprise_payload(**overrides))
    enterprise = enterprise_service.add_enterprise(db, CLI, data)
    db.commit()
    return enterprise


def create_user(
    db: Session,
    *,
    role: str = "enterprise",
    enterprise: Enterprise | None = None,
    district_code: str | None = None,
    email: str | None = None,
    firm_role: str | None = None,
    display_name: str = "",
) -> User:
    n = next(_ORG_BODIES)
    user = accounts_service.create_user(
        db,
        CLI,
        email=email or f"user{n}@example.com",
        password=PASSWORD,
        role=role,
        enterprise_id=enterprise.id if enterprise else None,
        district_code=district_code,
        display_name=display_name,
        firm_role=firm_role,
    )
    db.commit()
    return user


def login(client: httpx.Client, user: User | str) -> str:
    """Sign the client in as ``user`` (or the user of that e-mail address); returns the CSRF
    token and sets it as a default header."""
    email = user if isinstance(user, str) else user.email
    response = client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    csrf = str(response.json()["csrf_token"])
    client.headers["X-CSRF-Token"] = csrf
    return csrf


def delete_firm(
    client: httpx.Client,
    enterprise_id: uuid.UUID | str,
    credit_code: str,
    *,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """The API request deleting a firm and all its data, as its owner sends it: confirmed with
    ``credit_code`` (the firm's own; any other is refused)."""
    return client.request(
        "DELETE",
        f"/api/v1/enterprises/{enterprise_id}",
        json={"confirm_credit_code": credit_code},
        headers=headers,
    )


def create_api_key(
    db: Session, settings: Settings, scopes: list[str] | None = None
) -> tuple[str, object]:
    issued = integrator_service.create_api_client(
        db,
        CLI,
        settings,
        name="Integrator Ltd",
        scopes=scopes
        if scopes is not None
        else ["enterprises:write", "assessments:write", "assessments:read", "reports:read"],
    )
    db.commit()
    return issued.plaintext, issued.client


REVENUE = Decimal(45_000_000)
