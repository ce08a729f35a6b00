"""Cursor pagination: opaque cursors over a stable (sort key, id) order."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from app.kit.errors import FieldError, InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= to get the next page; null when there is none."
    )


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "The cursor is not one this API issued.",
            errors=[FieldError("query.cursor", "not a valid cursor", "invalid_cursor")],
        ) from exc
    if not isinstance(values, list):
        raise InvalidInput(
            "The cursor is not one this API issued.",
            errors=[FieldError("query.cursor", "not a valid cursor", "invalid_cursor")],
        )
    return values


class PageParams(BaseModel):
    cursor: str | None
    limit: int


def page_params(
    cursor: Annotated[str | None, Query(max_length=500, description="From next_cursor.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> PageParams:
    return PageParams(cursor=cursor, limit=limit)


PageDep = Annotated[PageParams, Depends(page_params)]
