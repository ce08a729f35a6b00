"""Cursor pagination: opaque, typed cursors over a stable (sort key, id) order."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field, WithJsonSchema

from app.kit.errors import FieldError, InvalidInput
from app.kit.schemas import in_utc

T = TypeVar("T")
K = TypeVar("K")
R = TypeVar("R")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
#: The largest position a cursor may hold: a position is compared with a BIGINT column (the feed's
#: seq), and a larger number overflows the query's parameter (OverflowError on SQLite, an error
#: on PostgreSQL). A position compared with an INTEGER id stops at MAX_ROW_ID.
MAX_POSITION = 2**63 - 1
MAX_ROW_ID = 2**31 - 1
#: The wire format, stated in the OpenAPI document: URL-safe base64 (padding optional).
CURSOR_PATTERN = r"^[A-Za-z0-9_-]*={0,2}$"


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= to get the next page; null when there is none."
    )


def invalid_cursor() -> InvalidInput:
    return InvalidInput(
        "The cursor is not one this API issued.",
        errors=[FieldError("query.cursor", "not a valid cursor", "invalid_cursor")],
    )


@dataclass(frozen=True, slots=True)
class CursorCodec(Generic[K]):
    """How the sort key ``K`` of a list's last item travels as an opaque cursor and back.

    A cursor is URL-safe base64 (unpadded) of a JSON list of the key's parts; :meth:`decode`
    gives the typed key back, or answers 422 naming ``query.cursor`` for anything this API did
    not issue (the one message for every list): not base64 or JSON, not a list, the wrong
    number of parts, a part of the wrong type (``true`` is not a number) or out of range.
    """

    dump: Callable[[K], list[Any]]
    #: Raises IndexError, TypeError or ValueError for values it does not accept.
    load: Callable[[list[Any]], K]
    #: The ``format`` of the cursor parameter in the OpenAPI document: which key the cursor
    #: holds, so that a client generator (or the contract test) can tell a cursor of this list
    #: from any base64 (docs/integrators.md, "Cursors").
    format: str

    def encode(self, key: K) -> str:
        raw = json.dumps(self.dump(key), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, cursor: str | None) -> K | None:
        """The key after which the next page starts; None without a cursor (the first page)."""
        if cursor is None:
            return None
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            values = json.loads(base64.urlsafe_b64decode(padded.encode()))
            if not isinstance(values, list):
                raise TypeError("a cursor holds a list")
            return self.load(values)
        except (IndexError, TypeError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            raise invalid_cursor() from exc


def _exactly(values: list[Any], count: int) -> list[Any]:
    if len(values) != count:
        raise IndexError(f"a cursor of {count} values")
    return values


def _moment(at: Any) -> datetime:
    """A cursor's time as this API writes it (``isoformat`` of a time with its offset), in UTC.
    Without an offset, or out of range once in UTC, it is no cursor of ours (compared with a
    stored time it was a 500: naive against aware, or an overflow)."""
    if not isinstance(at, str):
        raise TypeError("the time part is text")
    moment = datetime.fromisoformat(at)
    if moment.tzinfo is None:
        raise ValueError("the time part has its offset")
    return in_utc(moment)


def _time_uuid(values: list[Any]) -> tuple[datetime, uuid.UUID]:
    at, identifier = _exactly(values, 2)
    return _moment(at), uuid.UUID(identifier)


def _time_text(values: list[Any]) -> tuple[datetime, str]:
    at, identifier = _exactly(values, 2)
    if not isinstance(identifier, str):
        raise TypeError("the id part is text")
    return _moment(at), identifier


def _position_upto(maximum: int) -> Callable[[list[Any]], int]:
    """A whole-number position from 0 to ``maximum`` (the range of the column it is compared
    with), else the cursor is refused."""

    def load(values: list[Any]) -> int:
        (position,) = _exactly(values, 1)
        if isinstance(position, bool) or not isinstance(position, int):  # JSON true is an int
            raise TypeError("a position is a whole number")
        if not 0 <= position <= maximum:
            raise ValueError(f"a position is 0 to {maximum}")
        return position

    return load


#: (created at, UUID id): lists ordered by creation time, ties broken by id.
TIME_UUID: CursorCodec[tuple[datetime, uuid.UUID]] = CursorCodec(
    dump=lambda key: [key[0].isoformat(), str(key[1])],
    load=_time_uuid,
    format="zhizao-cursor-time-uuid",
)
#: (created at, text id): the webhook delivery log (message ids are text).
TIME_TEXT: CursorCodec[tuple[datetime, str]] = CursorCodec(
    dump=lambda key: [key[0].isoformat(), key[1]],
    load=_time_text,
    format="zhizao-cursor-time-text",
)
#: A position in a numbered sequence (the score feed's BIGINT seq).
POSITION: CursorCodec[int] = CursorCodec(
    dump=lambda key: [key], load=_position_upto(MAX_POSITION), format="zhizao-cursor-position"
)
#: A row id of an INTEGER key (the audit trail's id).
ROW_ID: CursorCodec[int] = CursorCodec(
    dump=lambda key: [key], load=_position_upto(MAX_ROW_ID), format="zhizao-cursor-row-id"
)
#: The score feed's cursor: a :data:`POSITION` in the caller's own sequence, which a cursor may
#: not pass (422), hence a format of its own.
FEED_CURSOR_FORMAT = "zhizao-feed-cursor"


def paginate(
    rows: Sequence[R], limit: int, codec: CursorCodec[K], key: Callable[[R], K]
) -> tuple[list[R], str | None]:
    """Split ``limit + 1`` fetched rows into the page and the cursor of the next one (None when
    this is the last page)."""
    page = list(rows[:limit])
    more = len(rows) > limit and bool(page)
    return page, codec.encode(key(page[-1])) if more else None


_CURSOR_DESCRIPTION = (
    "`next_cursor` of the previous page (opaque, URL-safe base64); omit it for the first page."
)


def _cursor_schema(format: str) -> WithJsonSchema:
    """The cursor parameter as the document states it: the wire format (``pattern``) and which
    list's cursor it is (``format``); validation stays :data:`CursorQuery`'s and the codec's."""
    text = {"type": "string", "maxLength": 500, "pattern": CURSOR_PATTERN, "format": format}
    return WithJsonSchema({"anyOf": [text, {"type": "null"}]}, mode="validation")


_CURSOR_QUERY = Query(max_length=500, pattern=CURSOR_PATTERN, description=_CURSOR_DESCRIPTION)

#: The ``cursor`` query parameter of every list (one per codec, for the document's ``format``):
#: 422 naming ``query.cursor`` for anything else (here or in :meth:`CursorCodec.decode`).
CursorQuery = Annotated[str | None, _cursor_schema(TIME_UUID.format), _CURSOR_QUERY]
TimeTextCursorQuery = Annotated[str | None, _cursor_schema(TIME_TEXT.format), _CURSOR_QUERY]
RowIdCursorQuery = Annotated[str | None, _cursor_schema(ROW_ID.format), _CURSOR_QUERY]
FeedCursorQuery = Annotated[str | None, _cursor_schema(FEED_CURSOR_FORMAT), _CURSOR_QUERY]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


class PageParams(BaseModel):
    cursor: str | None
    limit: int


def page_params(cursor: CursorQuery = None, limit: LimitQuery = DEFAULT_LIMIT) -> PageParams:
    return PageParams(cursor=cursor, limit=limit)


def time_text_page_params(
    cursor: TimeTextCursorQuery = None, limit: LimitQuery = DEFAULT_LIMIT
) -> PageParams:
    return PageParams(cursor=cursor, limit=limit)


def row_id_page_params(
    cursor: RowIdCursorQuery = None, limit: LimitQuery = DEFAULT_LIMIT
) -> PageParams:
    return PageParams(cursor=cursor, limit=limit)


#: A page of a list ordered by (time, UUID) — most lists; the others name their codec.
PageDep = Annotated[PageParams, Depends(page_params)]
TimeTextPageDep = Annotated[PageParams, Depends(time_text_page_params)]
RowIdPageDep = Annotated[PageParams, Depends(row_id_page_params)]
