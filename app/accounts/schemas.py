from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from app.enterprises.classification import normalize_credit_code
from app.enterprises.schemas import EnterpriseCreate, EnterpriseRead
from app.kit.schemas import RequestModel, ResponseModel, Text

MIN_PASSWORD_LENGTH = 10

#: Every password a person chooses (registration, invitation sign-up, change, reset): the one
#: type that holds the password policy.
NewPassword = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=200)]


def normalise_email(value: str) -> str:
    value = value.strip().lower()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value or len(value) > 254:
        raise ValueError("must be an e-mail address such as name@example.com")
    return value


class UserCreate(RequestModel):
    email: str = Field(max_length=254, examples=["manager@example.com"])
    password: NewPassword
    display_name: Annotated[Text, Field(max_length=100)] = ""
    locale: Literal["zh-CN", "en"] = "zh-CN"

    _email = field_validator("email")(normalise_email)


class Registration(RequestModel):
    """Register an enterprise together with its first user."""

    enterprise: EnterpriseCreate
    user: UserCreate


class LoginRequest(RequestModel):
    email: str = Field(max_length=254)
    password: Annotated[str, Field(max_length=200)]

    _email = field_validator("email")(normalise_email)


class UserRead(ResponseModel):
    id: uuid.UUID
    email: str
    display_name: str
    role: Literal["enterprise", "official", "admin"]
    enterprise_id: uuid.UUID | None
    firm_role: Literal["owner", "member"] | None = Field(
        description="An enterprise user's place in the firm: an owner also invites and removes "
        "members and decides access requests."
    )
    district_code: str | None
    locale: str
    is_active: bool


class RegistrationRead(ResponseModel):
    user: UserRead
    enterprise: EnterpriseRead


class SessionRead(ResponseModel):
    user: UserRead
    csrf_token: str = Field(
        description="Send as X-CSRF-Token on unsafe requests made with the cookie."
    )


Email = Annotated[str, Field(max_length=254), AfterValidator(normalise_email)]
DisplayName = Annotated[Text, Field(max_length=100)]


class InvitationAcceptance(RequestModel):
    """Signing up from an invitation link (the e-mail is fixed when the invitation names one)."""

    email: Email
    display_name: DisplayName = ""
    password: NewPassword
    locale: Literal["zh-CN", "en"] = "zh-CN"


class MemberInvite(RequestModel):
    email: Email


class PasswordChange(RequestModel):
    current_password: Annotated[str, Field(max_length=200)]
    new_password: NewPassword


class PasswordResetRequest(RequestModel):
    email: Email


class PasswordResetCompletion(RequestModel):
    new_password: NewPassword


class ProfileUpdate(RequestModel):
    display_name: DisplayName = ""
    locale: Literal["zh-CN", "en"] = "zh-CN"


class ClaimCreate(RequestModel):
    """A request to join a firm that is already registered."""

    credit_code: str = Field(max_length=40)
    email: Email
    display_name: Annotated[Text, Field(min_length=1, max_length=100)]
    message: Annotated[Text, Field(max_length=500)] = ""
    locale: Literal["zh-CN", "en"] = "zh-CN"

    @field_validator("credit_code")
    @classmethod
    def _normalised(cls, value: str) -> str:
        return normalize_credit_code(value)


class ClaimDecision(RequestModel):
    approve: bool
    reason: Annotated[Text, Field(max_length=500)] = ""


class OwnerInvitationRead(ResponseModel):
    """A single-use link to hand to the firm: the first person to accept it becomes the firm's
    owner (a zhizao account of their own, which sees and can revoke your access)."""

    enterprise_id: uuid.UUID
    url: str = Field(
        description="Give this link to the firm; it is shown once (only its hash is stored).",
        examples=["https://zhizao.example.gov.cn/invitations/3q2-7LZ..."],
    )
    expires_at: datetime
