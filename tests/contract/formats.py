"""Strategies for the custom string formats of the OpenAPI document (docs/integrators.md,
"Formats"): what JSON Schema cannot state, generated valid, so that schemathesis can check that
schema-valid requests are accepted. Importing this module registers them with schemathesis."""

from __future__ import annotations

import hashlib
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import schemathesis
from hypothesis import strategies as st

from app.enterprises.classification import credit_code_problem
from app.heatmaps import quarters
from app.kit.cursor import MAX_ROW_ID, POSITION, ROW_ID, TIME_TEXT, TIME_UUID, CursorCodec
from app.kit.errors import InvalidInput
from app.kit.settings import Settings
from app.questionnaires.catalog import QuestionnaireCatalog

# --- the document's custom formats --------------------------------------------------------------

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _with_check_character(body: str) -> str:
    return next(body + c for c in _CREDIT_CHARS if credit_code_problem(body + c) is None)


#: gb32100-credit-code: 2 characters (registration authority and kind), 6 digits (region),
#: 9 characters (organisation code), and the check character.
credit_codes = st.builds(
    lambda head, region, org: _with_check_character(head + region + org),
    st.text(_CREDIT_CHARS, min_size=2, max_size=2),
    st.from_regex(r"\A[0-9]{6}\Z"),
    st.text(_CREDIT_CHARS, min_size=9, max_size=9),
)


def _cursors(codec: CursorCodec[Any], keys: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    return keys.map(codec.encode)


def issued_cursor(value: object) -> bool:
    """Whether ``value`` is a cursor one of the API's lists could have issued (what the cursor
    formats mean). JSON Schema states only a cursor's alphabet (``CURSOR_PATTERN``), and
    Hypothesis also draws strings that merely match it (``"expired"``, ``""``: from its pool of
    the code's own constants); those are not valid cursors, and the API rightly answers 422."""
    if not isinstance(value, str):
        return False
    for codec in (TIME_UUID, TIME_TEXT, ROW_ID, POSITION):
        try:
            codec.decode(value)
        except InvalidInput:
            continue
        return True
    return False


_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
#: A past or the current quarter, from 2000Q1, in the spellings ``quarters.parse`` reads.
past_quarters = st.builds(
    lambda quarter, dash, q: f"{quarter // 10}{dash}{q}{quarter % 10}",
    st.integers(20001, quarters.current_quarter()).filter(lambda n: 1 <= n % 10 <= 4),
    st.sampled_from(["", "-"]),
    st.sampled_from("Qq"),
)
#: A moment consent can have been given at: from 2000-01-01 in Shanghai until now.
consent_times = st.builds(
    lambda moment, zone: moment.astimezone(zone).isoformat(),
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime.now(UTC).replace(tzinfo=None),
        timezones=st.just(UTC),
    ),
    st.sampled_from([UTC, timezone(timedelta(hours=8))]),
)
#: Long random phrases: what the password policy (zxcvbn score 3) calls hard to guess.
new_passwords = st.integers(0, 2**64).map(
    lambda n: "-".join(textwrap.wrap(hashlib.sha256(str(n).encode()).hexdigest()[:24], 6))
)
questionnaire_ids = st.sampled_from(
    [q.id for q in QuestionnaireCatalog.from_directory(Settings().QUESTIONNAIRES_DIR).latest()]
)

FORMATS: dict[str, st.SearchStrategy[str]] = {
    "gb32100-credit-code": credit_codes,
    "zhizao-cursor-time-uuid": _cursors(TIME_UUID, st.tuples(_times, st.uuids())),
    "zhizao-cursor-time-text": _cursors(TIME_TEXT, st.tuples(_times, st.text(max_size=40))),
    "zhizao-cursor-row-id": _cursors(ROW_ID, st.integers(0, MAX_ROW_ID)),
    # Issued to the integrator of the world: its feed has entry 1 (firm A's submission).
    "zhizao-feed-cursor": _cursors(POSITION, st.integers(0, 1)),
    "zhizao-quarter": past_quarters,
    "zhizao-consent-time": consent_times,
    "zhizao-new-password": new_passwords,
    "zhizao-questionnaire-id": questionnaire_ids,
    # The names tests/conftest.py resolves to a public address.
    "zhizao-webhook-url": st.builds(
        "https://{}/{}".format,
        st.sampled_from(["hooks.example.com", "hooks.partner.example"]),
        st.from_regex(r"\A[a-z0-9/_-]{0,20}\Z"),
    ),
}
for _name, _strategy in FORMATS.items():
    schemathesis.openapi.format(_name, _strategy)
