"""Bodies of the privacy operations: contacts, export, deletion."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from app.kit.schemas import OptionalEmail, RequestModel, ResponseModel, Text


class ContactIn(RequestModel):
    name: Annotated[Text, Field(min_length=1, max_length=100, examples=["王经理"])]
    phone: Annotated[Text, Field(max_length=40, examples=["+86 21 5555 0100"])] = ""
    email: Annotated[
        OptionalEmail,
        Field(
            description="An e-mail address (stored trimmed, in lower case), or empty for none.",
            examples=["wang@example.com"],
        ),
    ] = ""
    role: Annotated[Text, Field(max_length=100, examples=["生产经理"])] = ""


class ContactsUpdate(RequestModel):
    contacts: Annotated[list[ContactIn], Field(max_length=20)] = Field(
        description="The firm's contact persons; replaces the ones held."
    )


class ContactRead(ResponseModel):
    id: uuid.UUID
    name: str
    phone: str
    email: str
    role: str
    created_at: datetime
    retain_until: datetime = Field(description="Deleted after this (CONTACT_RETENTION_DAYS).")


class DeletionRequest(RequestModel):
    confirm_credit_code: str = Field(
        max_length=40,
        description="The firm's unified social credit code, typed again to confirm.",
        examples=["91310115MA1FL3K293"],
    )


class DeletionRead(ResponseModel):
    enterprise_id: uuid.UUID
    rows_deleted: dict[str, int] = Field(description="Rows deleted per table.")
