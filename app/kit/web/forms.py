"""Form validation messages: a pydantic error on a page's form, said in the page's language and
keyed by the form input it belongs to."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from app.kit.errors import InvalidValue
from app.kit.i18n import Lang, tr
from app.kit.schemas import CONTROL_CHARACTERS

#: Fields whose errors show on a differently named form input (revenue is typed in 万元).
FORM_FIELD = {"annual_revenue_cny": "annual_revenue_wan", "new_password": "password"}


#: Longer typed text is no figure: the longest real one ("-12,345,678,901,234.56") is 22.
MAX_TYPED_CHARS = 40
#: No form takes a figure of 10^18 or more (the largest are money, at most 10^13 CNY): beyond
#: it a figure is refused before anything sizes work by it ("1e200000" is eight characters, and
#: the integer it names took seconds to make and could not be printed).
MAX_TYPED_EXPONENT = 18

#: Digits grouped by threes with commas (ASCII or full-width), an optional fraction after them.
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:[,，]\d{3})+(?:\.\d*)?")


def typed_number(typed: str) -> Decimal | None:
    """A figure typed into a form; None when blank. Raises ``InvalidOperation`` for text that
    is not a finite number.

    Commas, ASCII or full-width, may only group digits by threes ("2,000,000", "1,234.5"):
    elsewhere ("4,0", a decimal comma) the text is unreadable, not a figure ten times larger.
    Underscores (Python's grouping, "1_000") are no figure either. Full-width digits ("４０")
    are digits: Chinese input methods type them. Longer than :data:`MAX_TYPED_CHARS` or at
    least ``10**MAX_TYPED_EXPONENT`` in size: refused too."""
    text = typed.strip()
    if not text:
        return None
    if len(text) > MAX_TYPED_CHARS:
        raise InvalidOperation(text[:MAX_TYPED_CHARS])
    if "," in text or "，" in text:
        if not _GROUPED.fullmatch(text):
            raise InvalidOperation(text)
        text = text.replace(",", "").replace("，", "")
    if "_" in text:
        raise InvalidOperation(text)
    number = Decimal(text)
    if not number.is_finite() or (number and number.adjusted() >= MAX_TYPED_EXPONENT):
        raise InvalidOperation(text)
    return number


def form_errors(lang: Lang, exc: ValidationError) -> dict[str, str]:
    """A form's validation errors by form input name, said in ``lang`` (first error each)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        # The field's name: the last name in the path, not a list's index (("scopes", 0)).
        field = next((part for part in reversed(error["loc"]) if isinstance(part, str)), "")
        errors.setdefault(FORM_FIELD.get(field, field), field_message(lang, field, dict(error)))
    return errors


def field_message(lang: Lang, field: str, error: dict[str, Any]) -> str:
    """A pydantic error on a form field, said in ``lang``."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    given = error.get("input")
    # A field left blank is missing, whatever rule its empty text then broke ("too short: at
    # least 2 characters" for a blank name, "enter a number" for a blank figure).
    blank = given is None or (isinstance(given, str) and not given.strip())
    if kind == "missing" or blank or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return tr(lang, "Required.")
    if field == "credit_code" and kind == "value_error":
        return tr(
            lang,
            "Not a valid unified social credit code: 18 characters with a correct check digit.",
        )
    if field == "district_code":
        return tr(lang, "Choose one of Shanghai's districts.")
    if field == "industry_code":
        return tr(lang, "Choose a manufacturing industry (GB/T 4754 divisions 13–43).")
    if field == "email":
        return tr(lang, "Enter an e-mail address such as name@example.com.")
    if field in ("password", "new_password") and kind == "string_too_short":
        return tr(lang, "At least %(n)s characters.", n=ctx.get("min_length", 0))
    if kind == "password_too_common":
        return tr(
            lang,
            "Too common or too easy to guess; choose a longer phrase of unrelated words.",
        )
    if kind == "string_too_short":
        return tr(lang, "Too short: at least %(n)s characters.", n=ctx.get("min_length", 1))
    if kind == "string_too_long":
        return tr(lang, "Too long: at most %(n)s characters.", n=ctx.get("max_length", 0))
    if kind == "value_error" and _refused_by(error) == CONTROL_CHARACTERS:
        return tr(lang, "Must not contain control characters.")
    if kind in ("greater_than_equal", "greater_than") or _negative(given):
        return tr(lang, "Must not be negative.")
    if kind in ("less_than_equal", "less_than"):
        return tr(lang, "This figure is too large; check the unit.")
    if kind.startswith(("int_", "decimal_", "float_")) or kind == "value_error":
        return tr(lang, "Enter a number (digits only).")
    return tr(lang, "This value is not valid.")


def _refused_by(error: dict[str, Any]) -> str | None:
    """The message (its English template) of the validator that refused the value, if one did
    (``kit.errors.InvalidValue``)."""
    refusal = (error.get("ctx") or {}).get("error")
    return refusal.template if isinstance(refusal, InvalidValue) else None


def _negative(given: object) -> bool:
    """Whether the typed text is a figure below zero: a revenue of "-3" (万元) is a number the
    field refuses for its sign, not text to be told to type "digits only"."""
    if not isinstance(given, str):
        return False
    try:
        number = typed_number(given)
    except InvalidOperation:
        return False
    return number is not None and number < 0
