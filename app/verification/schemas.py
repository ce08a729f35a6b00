from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.kit.schemas import JsonBool, RequestModel, Text


class VerificationUpdate(RequestModel):
    verified: JsonBool = Field(
        description="true confirms the firm; false withdraws a confirmation (admins only)."
    )


class FlagUpdate(RequestModel):
    flagged: JsonBool = Field(
        description="true flags the firm for an admin; false clears the flag (admins only)."
    )
    reason: Annotated[Text, Field(max_length=500)] | None = Field(
        default=None, description="Why (when flagging)."
    )


class VerificationItem(BaseModel):
    """A firm's identity and verification state: registration facts only, never scores."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    credit_code: str
    name: str
    district_code: str
    industry_code: str
    size_class: str
    synthetic: bool = Field(description="A synthetic demo firm.")
    verified: bool
    verified_method: str | None = Field(examples=["official"])
    verified_at: datetime | None
    attested_at: datetime | None = Field(
        description="When the registering integrator attested the firm: it counts only once "
        "confirmed."
    )
    flagged_at: datetime | None
    flag_reason: str | None
    created_at: datetime
