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
