"""The common lot of several venues, quantity multipliers included."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange_clients.types import Market
from execution.atomic.sizing import common_step, tradable_size

D = Decimal


def market(step: str, multiplier: str = "1") -> Market:
    return Market(
        symbol="X",
        contract_id="X-PERP",
        tick_size=D("0.01"),
        step_size=D(step),
        min_size=D(step),
        min_notional=D(0),
        max_leverage=D(10),
        quantity_multiplier=D(multiplier),
    )


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (("0.001", "0.0001"), "0.001"),
        (("0.004", "0.006"), "0.012"),
        (("1000", "1"), "1000"),  # a kPEPE contract (1,000 PEPE a lot) against plain PEPE
        (("0.01",), "0.01"),
        (("2.5", "0.1"), "2.5"),
    ],
)
def test_common_step(steps: tuple[str, ...], expected: str) -> None:
    assert common_step(market(s) for s in steps) == D(expected)


def test_tradable_size_rounds_down_to_what_every_venue_can_trade() -> None:
    markets = [market("0.004"), market("0.006")]
    assert tradable_size(D("0.05"), markets) == D("0.048")
    assert tradable_size(D("0.011"), markets) == 0


@given(
    st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=4),
    st.integers(min_value=0, max_value=4),
    st.integers(min_value=0, max_value=10**7),
)
def test_tradable_size_is_on_every_grid_and_never_more_than_asked(
    units: list[int], exponent: int, raw: int
) -> None:
    steps = [D(u).scaleb(-exponent) for u in units]
    markets = [market(str(step)) for step in steps]
    size = D(raw).scaleb(-6)
    rounded = tradable_size(size, markets)
    assert 0 <= rounded <= size
    assert all(rounded % step == 0 for step in steps)
    assert size - rounded < common_step(markets)
