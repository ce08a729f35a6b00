from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator
from pydantic_core import PydanticCustomError
from zxcvbn import zxcvbn

from app.enterprises.schemas import EnterpriseCreate, valid_credit_code
from app.kit.i18n import N_
from app.kit.schemas import (
    EMAIL_SCHEMA,
    TEXT_PATTERN,
    Email,
    JsonBool,
    RequestModel,
    ResponseModel,
    Text,
    normalise_email,
)

#: NIST SP 800-63B-4 §3.1.1.2: a password that is the only factor is at least 15 characters.
MIN_PASSWORD_LENGTH = 15
#: zxcvbn's score (0-4) a new password must reach: 3 is "safely unguessable" (at least 10^8
#: guesses by its estimate), which its dictionaries of common and breached passwords, keyboard
#: walks, repeats and sequences bring far below.
MIN_PASSWORD_SCORE = 3
#: How much of a password zxcvbn judges: a longer one is as strong as its first 100 characters.
ZXCVBN_CHARACTERS = 100
#: Words of this service a password must not lean on (NIST's "context-specific words").
SERVICE_WORDS = ("zhizao", "智造", "smart manufacturing", "shanghai")


def checked_password(value: str) -> str:
    """The password policy (NIST SP 800-63B-4 §3.1.1.2), for every password a person chooses.

    At least MIN_PASSWORD_LENGTH characters (the length check is the field's ``min_length``),
    and not common, breached or predictable: zxcvbn (its bundled lists, nothing downloaded)
    must estimate at least MIN_PASSWORD_SCORE. No composition rules (no "one digit, one
    capital"): length and the blocklist are what make a password hard to guess.
    """
    # zxcvbn raises ValueError past its max_length (72 unless told): every passphrase of 73 to
    # 200 characters was refused, the form saying "enter a number".
    judged = value[:ZXCVBN_CHARACTERS]
    if (
        zxcvbn(judged, user_inputs=list(SERVICE_WORDS), max_length=ZXCVBN_CHARACTERS)["score"]
        < MIN_PASSWORD_SCORE
    ):
        raise PydanticCustomError(
            "password_too_common",
            N_(
                "This password is too common or too easy to guess (a common or breached "
                "password, a repeat, a sequence or a keyboard walk); choose a longer phrase of "
                "unrelated words"
            ),
        )
    return value


#: Every password a person chooses (registration, invitation sign-up, change, reset): the one
#: type that holds the password policy (``checked_password``).
NewPassword = Annotated[
    str,
    Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=200,
        # The blocklist and guessability estimate are no JSON Schema: a custom format says so.
        json_schema_extra={"format": "zhizao-new-password", "pattern": TEXT_PATTERN},
    ),
    AfterValidator(checked_password),
]


class UserCreate(RequestModel):
    email: str = Field(
        max_length=254, examples=["manager@example.com"], json_schema_extra=EMAIL_SCHEMA
    )
    password: NewPassword
    display_name: Annotated[Text, Field(max_length=100)] = ""
    locale: Literal["zh-CN", "en"] = "zh-CN"

    _email = field_validator("email")(normalise_email)


class Registration(RequestModel):
    """Register an enterprise together with its first user."""

    enterprise: EnterpriseCreate
    user: UserCreate


class LoginRequest(RequestModel):
    email: str = Field(max_length=254, json_schema_extra=EMAIL_SCHEMA)
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


class RegistrationAccepted(ResponseModel):
    """The answer to a registration, the same whether or not the e-mail had an account (so it
    cannot be used to find out who has one)."""

    email: str
    detail: str = Field(
        default=(
            "Registration received. Sign in with this e-mail address and the password you "
            "chose; if the address already had an account, its owner was told by e-mail "
            "instead and nothing was created."
        )
    )


class SessionRead(ResponseModel):
    user: UserRead
    csrf_token: str = Field(
        description="Send as X-CSRF-Token on unsafe requests made with the cookie."
    )


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

    _credit_code = field_validator("credit_code")(valid_credit_code)  # as registration does


class ClaimDecision(RequestModel):
    approve: JsonBool
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
