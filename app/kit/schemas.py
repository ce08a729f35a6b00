"""Shared pydantic building blocks for request and response bodies."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    ValidationInfo,
    field_validator,
)

from app.kit.errors import InvalidValue
from app.kit.i18n import N_


def _reject_bool(value: Any) -> Any:
    # Pydantic's lax mode reads JSON true/false as 1/0; for a count or amount that is a client bug.
    if isinstance(value, bool):
        raise InvalidValue("must be a number, not true/false")
    return value


#: Refuses JSON booleans where a number is due. Bounds go *before* it,
#: ``Annotated[int, Field(ge=0), NOT_BOOL]``: after a validator pydantic writes them into the
#: document as ``ge``/``le``, which JSON Schema does not know (a generator then ignores them).
NOT_BOOL = BeforeValidator(_reject_bool)
#: An int that refuses JSON booleans but still accepts 3.0 (JSON Schema calls it an integer).
#: With bounds: ``Annotated[int, Field(ge=..., le=...), NOT_BOOL]`` (see :data:`NOT_BOOL`).
JsonInt = Annotated[int, NOT_BOOL]
#: A yes/no a client sends: JSON true or false only. Pydantic's lax mode would also read 1,
#: 1.0000000000000000001 (which JSON parsers read as 1.0), "yes" or "on" as true, so a number
#: sent by mistake could confirm a firm; a request model's booleans are all of this type.
JsonBool = Annotated[bool, Strict()]
#: A decimal amount accepted from a JSON number (not a boolean) and returned as a JSON number.
JsonDecimal = Annotated[
    Decimal,
    BeforeValidator(_reject_bool),
    PlainSerializer(lambda d: float(d), return_type=float, when_used="json"),
]

_BARE_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _reject_timestamp(value: Any) -> Any:
    # Pydantic's lax mode reads a bare number ("1700000000", "-30424") as a Unix timestamp; the
    # document promises an RFC 3339 date-time, so a number there is a client's mistake.
    if isinstance(value, int | float) or isinstance(value, str) and _BARE_NUMBER.fullmatch(value):
        raise InvalidValue("must be an RFC 3339 date-time, e.g. 2026-12-01T08:00:00+08:00")
    return value


def in_utc(moment: datetime) -> datetime:
    """``moment`` in UTC, a moment without a time zone being taken as UTC already. Raises
    ``ValueError`` for a moment UTC cannot hold (0001-01-01T00:00+14:00 is in year 0)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidValue("is out of range once converted to UTC") from None


#: A moment a client sends (a query filter): an RFC 3339 date-time or a date, never a number;
#: given in UTC (:func:`in_utc`).
DateTimeParam = Annotated[datetime, BeforeValidator(_reject_timestamp), AfterValidator(in_utc)]

#: Characters no text field accepts: the C0 controls except tab, line feed and carriage return
#: (U+0000 included: PostgreSQL cannot store it), and lone surrogates (not text; no encoder
#: takes them). The OpenAPI document states the same rule as ``TEXT_PATTERN``.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
TEXT_PATTERN = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F]*$"


#: What a client is told of a string :func:`clean_text` refuses.
CONTROL_CHARACTERS = N_("must not contain control characters (other than tab and newline)")


def is_clean_text(value: str) -> bool:
    """Whether ``value`` passes :func:`clean_text`'s rule (no forbidden character)."""
    return _FORBIDDEN.search(value) is None


def clean_text(value: Any) -> Any:
    """The one rule for text a client sends: NFC (so that "é" typed either way is one string,
    compares and counts the same), CR LF and lone CR as LF, and no control characters other than
    tab and newline. Anything not a string passes unchanged (the field's type judges it)."""
    if not isinstance(value, str):
        return value
    if not is_clean_text(value):
        raise InvalidValue(CONTROL_CHARACTERS)
    return unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))


def _clean_all(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_clean_all(item) for item in value]
    if isinstance(value, dict):
        return {_clean_all(key): _clean_all(item) for key, item in value.items()}
    return value


def _holds_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_model(arg) for arg in get_args(annotation))


#: The type of every free-text field of a request body. A :class:`RequestModel` cleans it
#: (:func:`clean_text`) and strips surrounding whitespace before the bounds each use gives,
#: ``Annotated[Text, Field(max_length=200)]``, are checked (tests/security/test_hostile_input.py
#: fails on a request string without a ``maxLength``); the pattern tells clients the rule.
Text = Annotated[str, Field(pattern=TEXT_PATTERN)]


_NOT_SPACE = "[^ \\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]"
#: :func:`normalise_email`'s rule as the document states it (surrounding spaces are trimmed,
#: and no text field takes control characters): something without "@", "@", then a part with
#: a dot; no space.
_EMAIL_PATTERN = f"[^@ \\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]+@{_NOT_SPACE}*\\.{_NOT_SPACE}*"
EMAIL_SCHEMA: dict[str, Any] = {"format": "email", "pattern": f"^ *{_EMAIL_PATTERN} *$"}


def normalise_email(value: str) -> str:
    """The one e-mail rule (accounts, invitations, contact persons): trimmed, lower case,
    something before "@", a dot after it, no space, at most 254 characters."""
    value = value.strip().lower()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value or len(value) > 254:
        raise InvalidValue("must be an e-mail address such as name@example.com")
    return value


def _normalise_optional_email(value: str) -> str:
    return "" if not value.strip() else normalise_email(value)


#: An e-mail address a client sends (:func:`normalise_email`).
Email = Annotated[
    str, Field(max_length=254, json_schema_extra=EMAIL_SCHEMA), AfterValidator(normalise_email)
]
#: An e-mail address that may be left empty ("" or spaces: none).
OptionalEmail = Annotated[
    str,
    Field(max_length=254, json_schema_extra={"pattern": f"^ *({_EMAIL_PATTERN})? *$"}),
    AfterValidator(_normalise_optional_email),
]


def _state_the_text_rule(schema: dict[str, Any]) -> None:
    """The document's side of :func:`clean_text`: every free string property of a request body
    (no pattern, enum or format of its own) gets :data:`TEXT_PATTERN`, so that a client
    generator sends no control character the model would refuse."""
    for prop in schema.get("properties", {}).values():
        for branch in [prop, *prop.get("anyOf", [])]:
            if branch.get("type") == "string" and not {"pattern", "enum", "format"} & set(branch):
                branch["pattern"] = TEXT_PATTERN
            if branch.get("pattern") == TEXT_PATTERN and branch.get("minLength") in (1, 2):
                branch["pattern"] = _at_least_visible(branch["minLength"])


#: What ``str.strip`` removes (Python's whitespace, control separators aside), spelled out:
#: ECMA-262's ``\s`` differs (U+0085, U+FEFF).
_STRIPPED = r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"


def _at_least_visible(minimum: int) -> str:
    """The text rule plus the bound as the server counts it: after surrounding whitespace is
    stripped. A stripped string has at least ``minimum`` (1 or 2) characters exactly when it
    has that many non-whitespace ones, which a lookahead states; for larger bounds the two
    differ ("a  b"), so they keep the plain ``minLength``."""
    return rf"^(?=(?:[{_STRIPPED}]*[^{_STRIPPED}]){{{minimum}}})" + TEXT_PATTERN[1:]


class RequestModel(BaseModel):
    """Input bodies: unknown fields are an error, not silently dropped.

    Every string of a request body, at any depth (identifiers, e-mails, the values of a facts or
    answers object), goes through :func:`clean_text` here, so that no control character reaches
    a query or a stored row whichever type a field was given (a ``mode="before"`` validator on
    ``"*"`` runs before the field's own type and bounds: lengths count NFC characters).
    """

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=_state_the_text_rule
    )

    @field_validator("*", mode="before")
    @classmethod
    def _clean_strings(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and _holds_model(field.annotation):
            return value  # a nested request model cleans its own fields and names them
        return _clean_all(value)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
