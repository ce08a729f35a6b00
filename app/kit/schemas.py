"""Shared pydantic building blocks for request and response bodies."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer


def _reject_bool(value: Any) -> Any:
    # Pydantic's lax mode reads JSON true/false as 1/0; for a count or amount that is a client bug.
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    return value


#: An int that refuses JSON booleans but still accepts 3.0 (JSON Schema calls it an integer).
JsonInt = Annotated[int, BeforeValidator(_reject_bool)]
#: A decimal amount accepted from a JSON number (not a boolean) and returned as a JSON number.
JsonDecimal = Annotated[
    Decimal,
    BeforeValidator(_reject_bool),
    PlainSerializer(lambda d: float(d), return_type=float, when_used="json"),
]


class RequestModel(BaseModel):
    """Input bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
