"""Funding-arbitrage parameter rules."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from strategies.funding_arbitrage.params import FundingArbitrageParams


def test_defaults_and_symbol_normalisation() -> None:
    params = FundingArbitrageParams.model_validate(
        {"venues": ["hyperliquid", "lighter"], "symbols": ["btc"], "target_margin_usd": "250"}
    )
    assert params.symbols == ["BTC"]
    assert params.max_positions == 1
    assert params.venue_references() == {("venues", 0): "hyperliquid", ("venues", 1): "lighter"}


@pytest.mark.parametrize(
    ("venues", "message"),
    [
        (["hyperliquid"], "List should have at least 2 items after validation, not 1"),
        (["lighter", "lighter"], "Value error, expected distinct venues, found lighter twice"),
    ],
)
def test_needs_two_distinct_venues(venues: list[str], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        FundingArbitrageParams.model_validate({"venues": venues, "target_margin_usd": "1"})
    assert [e["msg"] for e in caught.value.errors()] == [message]


def test_mandatory_venue_must_be_one_of_the_venues() -> None:
    with pytest.raises(ValidationError) as caught:
        FundingArbitrageParams.model_validate(
            {"venues": ["a", "b"], "target_margin_usd": "1", "mandatory_venue": "c"}
        )
    assert [e["msg"] for e in caught.value.errors()] == [
        "Value error, mandatory_venue c is not one of venues (a, b)"
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_exit_spread_pct", "0"),
        ("wide_spread_cooldown_seconds", "-1"),
        ("min_hold_hours", "-1"),
        ("max_new_positions_per_cycle", "0"),
        ("switch_margin_apr_pct", "-1"),
    ],
)
def test_new_limits_refuse_nonsense(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        FundingArbitrageParams.model_validate(
            {"venues": ["a", "b"], "target_margin_usd": "1", field: value}
        )
    [error] = caught.value.errors()
    assert error["loc"] == (field,)
    assert error["type"] in ("greater_than", "greater_than_equal")  # known field, bad value


def test_new_limits_default_to_today_behaviour() -> None:
    params = FundingArbitrageParams.model_validate({"venues": ["a", "b"], "target_margin_usd": "1"})
    assert params.max_exit_spread_pct is None
    assert params.emergency_exit_ignores_spread is True
    assert params.wide_spread_cooldown_seconds == 0
    assert params.min_hold_hours == 0
    assert params.mandatory_venue is None
    assert params.max_new_positions_per_cycle == 1
    assert params.switch_margin_apr_pct is None
