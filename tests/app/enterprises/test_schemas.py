"""The enterprise bodies' own rules, without the app: the revenue typed in 万元, consent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.enterprises import schemas


@pytest.mark.parametrize("typed", ["1e999999999", "-1e999999999", "1e-999999999"])
def test_a_revenue_beyond_the_decimal_arithmetic_comes_back_as_typed(
    monkeypatch: pytest.MonkeyPatch, typed: str
) -> None:
    """Whatever the form parser lets through, the conversion to yuan raises nothing (decimal's
    Overflow answered 500 on /register and /settings/profile): the text comes back for the
    validator to name the field."""
    monkeypatch.setattr(schemas, "typed_number", lambda text: Decimal(text))
    assert schemas.cny_from_wan(typed + "亿") in (typed + "亿", "0.00")
