from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, field_validator

from app.enterprises.schemas import EnterpriseCreate, EnterpriseRead
from app.kit.schemas import RequestModel, ResponseModel

MIN_PASSWORD_LENGTH = 10


def _normalise_email(value: str) -> str:
    value = value.strip().lower()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value or len(value) > 254:
        raise ValueError("must be an e-mail address such as name@example.com")
    return value


class UserCreate(RequestModel):
    email: str = Field(examples=["manager@example.com"])
    password: Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=200)]
    display_name: Annotated[str, Field(max_length=100)] = ""
    locale: Literal["zh-CN", "en"] = "zh-CN"

    _email = field_validator("email")(_normalise_email)


class Registration(RequestModel):
    """Register an enterprise together with its first user."""

    enterprise: EnterpriseCreate
    user: UserCreate


class LoginRequest(RequestModel):
    email: str
    password: Annotated[str, Field(max_length=200)]

    _email = field_validator("email")(_normalise_email)


class UserRead(ResponseModel):
    id: uuid.UUID
    email: str
    display_name: str
    role: Literal["enterprise", "official", "admin"]
    enterprise_id: uuid.UUID | None
    district_code: str | None
    locale: str


class RegistrationRead(ResponseModel):
    user: UserRead
    enterprise: EnterpriseRead


class SessionRead(ResponseModel):
    user: UserRead
    csrf_token: str = Field(
        description="Send as X-CSRF-Token on unsafe requests made with the cookie."
    )
