"""The one cursor codec: typed keys out, the one 422 for anything this API did not issue."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest

from app.kit.cursor import POSITION, TIME_TEXT, TIME_UUID, paginate
from app.kit.errors import InvalidInput

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def raw(values: object) -> str:
    text = json.dumps(values, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_keys_round_trip_typed() -> None:
    assert TIME_UUID.decode(TIME_UUID.encode((AT, ID))) == (AT, ID)
    assert TIME_TEXT.decode(TIME_TEXT.encode((AT, "msg_1"))) == (AT, "msg_1")
    assert POSITION.decode(POSITION.encode(42)) == 42
    assert TIME_UUID.decode(None) is None


def test_the_wire_format_is_what_clients_already_hold() -> None:
    """Cursors issued before the codec still work (URL-safe base64 of a JSON list)."""
    assert TIME_UUID.encode((AT, ID)) == raw([AT.isoformat(), str(ID)])
    assert POSITION.decode(raw([7])) == 7


@pytest.mark.parametrize(
    ("codec", "cursor"),
    [
        (TIME_UUID, "not base64 at all!"),
        (TIME_UUID, raw({"a": 1})),
        (TIME_UUID, raw(["2026-11-20T09:30:00+00:00"])),
        (TIME_UUID, raw(["yesterday", str(ID)])),
        (TIME_UUID, raw([AT.isoformat(), "not-a-uuid"])),
        (TIME_TEXT, raw([AT.isoformat(), 5])),
        # A time without its offset, or one UTC cannot hold: a 500 in the query before.
        (TIME_UUID, raw(["2026-01-01T00:00:00", str(ID)])),
        (TIME_UUID, raw(["9999-12-31T23:59:59-14:00", str(ID)])),
        (TIME_UUID, raw(["0001-01-01T00:00:00+14:00", str(ID)])),
        (TIME_UUID, raw([20261120, str(ID)])),
        (TIME_TEXT, raw(["2026-01-01T00:00:00", "msg_1"])),
        (POSITION, raw([-1])),
        (POSITION, raw([True])),
        (POSITION, raw([2**63])),
        (POSITION, raw([10**26])),
        (POSITION, raw([1.5])),
        (POSITION, raw(["3"])),
        (POSITION, raw([1, 2])),
    ],
)
def test_anything_else_is_one_clear_422(codec: object, cursor: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        codec.decode(cursor)  # type: ignore[attr-defined]
    assert [(e.field, e.code) for e in caught.value.errors] == [("query.cursor", "invalid_cursor")]


def test_paginate_cuts_the_extra_row_into_the_next_cursor() -> None:
    rows = [1, 2, 3]
    assert paginate(rows, 2, POSITION, lambda n: n) == ([1, 2], POSITION.encode(2))
    assert paginate(rows, 3, POSITION, lambda n: n) == ([1, 2, 3], None)
    assert paginate([], 3, POSITION, lambda n: n) == ([], None)
