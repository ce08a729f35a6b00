from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class VerificationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verified: bool = Field(description="true confirms the firm; false withdraws a confirmation.")


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
    created_at: datetime
