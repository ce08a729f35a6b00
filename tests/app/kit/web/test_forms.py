"""Figures typed into forms (``kit.web.forms.typed_number``): what reads as which number; and
what a form says of a refused value (``form_errors``)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pytest
from pydantic import ValidationError

from app.accounts.schemas import ProfileUpdate, Registration
from app.enterprises.schemas import cny_from_wan
from app.kit.web.forms import form_errors, typed_number
from tests.factories import enterprise_payload


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("40", "40"),
        (" 2,000,000 ", "2000000"),
        ("1,234.5", "1234.5"),
        ("1，234", "1234"),
        ("-1,000", "-1000"),
        ("４０", "40"),
        ("0.5", "0.5"),
        ("1e3", "1E+3"),
        ("999999999999999999", "999999999999999999"),
        ("1e-300", "1e-300"),
    ],
)
def test_figures(typed: str, number: str) -> None:
    assert typed_number(typed) == Decimal(number)


def test_blank_is_no_figure() -> None:
    assert typed_number("  ") is None


@pytest.mark.parametrize(
    "typed",
    ["4,0", "40,00", "1,2345", ",100", "1_000", "lots", "NaN", "inf",
     "1e18", "-1e18", "1e200000", "9" * 41, "9" * 5000],
)  # fmt: skip
def test_not_figures(typed: str) -> None:
    """ "4,0" (a decimal comma) read as 40 and "1_000" as 1000: a figure ten or more times off,
    saved without a word. "1e200000" and 5,000 nines: seconds of CPU to make the integer, then
    a 500 printing it."""
    with pytest.raises(InvalidOperation):
        typed_number(typed)


@pytest.mark.parametrize(
    ("typed", "cny"),
    [("4500", "45000000.00"), ("4,500.5", "45005000.00"), ("3200万元", "32000000.00"),
     ("0.45亿", "45000000.00"), ("4 500", "45000000.00"), ("4,5", "4,5")],
)  # fmt: skip
def test_revenue_in_wan(typed: str, cny: str) -> None:
    """The revenue is typed in 万元; what is not a figure comes back as typed (the validator
    then names the field)."""
    assert cny_from_wan(typed) == cny


def _errors(model: type[ProfileUpdate] | type[Registration], data: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return form_errors("en", caught.value)


def test_a_control_character_in_a_name_is_said_as_such() -> None:
    """A name pasted with a vertical tab was answered "Enter a number (digits only).": every
    validator's refusal (``value_error``) was taken for an unreadable figure."""
    errors = _errors(ProfileUpdate, {"display_name": "Li\x0bShen"})
    assert errors == {"display_name": "Must not contain control characters."}


def test_a_negative_revenue_is_said_to_be_negative() -> None:
    """ "-3" (万元) is a figure with the wrong sign, not text: it was told "digits only"."""
    enterprise = enterprise_payload() | {"annual_revenue_cny": cny_from_wan("-3")}
    user = {"email": "li@example.com", "password": "amber kettle drifts over quiet rooftops"}
    errors = _errors(Registration, {"enterprise": enterprise, "user": user})
    assert errors == {"annual_revenue_wan": "Must not be negative."}


def test_text_that_is_no_figure_is_still_asked_for_digits() -> None:
    enterprise = enterprise_payload() | {"annual_revenue_cny": cny_from_wan("lots")}
    user = {"email": "li@example.com", "password": "amber kettle drifts over quiet rooftops"}
    errors = _errors(Registration, {"enterprise": enterprise, "user": user})
    assert errors == {"annual_revenue_wan": "Enter a number (digits only)."}
