"""The ladder's own helpers: the rung above, and the one-rung rule subsidy matching uses."""

from __future__ import annotations

from decimal import Decimal as D

from scoring.ladder import RUNG_LEVELS, rung_above, within_one_rung


def test_rung_above() -> None:
    assert rung_above(D("2.75")) == D("3.00")
    assert rung_above(D("3.50")) == D("3.75")
    assert rung_above(D("4.00")) is None
    assert [rung_above(level) for level in RUNG_LEVELS[:-1]] == list(RUNG_LEVELS[1:])


def test_within_one_rung_is_a_gap_of_at_most_a_quarter() -> None:
    assert within_one_rung(D("3.20"), D("3.25"))
    assert within_one_rung(D("3.00"), D("3.25"))  # exactly one rung
    assert not within_one_rung(D("2.99"), D("3.25"))
    assert within_one_rung(D("3.60"), D("3.25"))  # already met
    # A target to exceed (gt) must be less than one rung away.
    assert within_one_rung(D("3.01"), D("3.25"), strict=True)
    assert not within_one_rung(D("3.00"), D("3.25"), strict=True)
