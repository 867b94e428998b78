"""Rounding to the market grid: never more size than asked, prices rounded to the safe side."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidOrder
from exchange_clients.rounding import (
    check_order_size,
    on_grid,
    round_price,
    round_size,
    round_to_step,
)
from exchange_clients.types import Market

STEPS = st.sampled_from([Decimal(s) for s in ("0.00001", "0.001", "0.01", "0.1", "0.5", "1", "10")])
VALUES = st.decimals(min_value=Decimal("0.00001"), max_value=Decimal("1000000"), places=7)


def market(tick: Decimal, step: Decimal) -> Market:
    return Market(
        symbol="X",
        contract_id="X-PERP",
        tick_size=tick,
        step_size=step,
        min_size=step,
        min_notional=Decimal(10),
        max_leverage=Decimal(20),
    )


@given(value=VALUES, step=STEPS)
def test_size_rounds_down_onto_the_grid(value: Decimal, step: Decimal) -> None:
    rounded = round_size(market(Decimal("0.01"), step), value)
    assert on_grid(rounded, step)
    assert rounded <= value
    assert value - rounded < step


@given(value=VALUES, tick=STEPS)
def test_buy_prices_round_down_and_sell_prices_up(value: Decimal, tick: Decimal) -> None:
    m = market(tick, Decimal("0.001"))
    buy, sell = round_price(m, value, "buy"), round_price(m, value, "sell")
    assert on_grid(buy, tick)
    assert on_grid(sell, tick)
    assert buy <= value <= sell
    assert sell - buy <= tick
    assert (buy == sell) == on_grid(value, tick)


def test_rounded_values_keep_the_step_precision() -> None:
    assert str(round_to_step(Decimal("64123.57"), Decimal("0.5"))) == "64123.5"
    assert str(round_to_step(Decimal("1.239"), Decimal("0.01"))) == "1.23"
    assert str(round_to_step(Decimal("1234"), Decimal("10"))) == "1230"


def test_minimums_are_enforced_with_clear_messages() -> None:
    m = market(Decimal("0.1"), Decimal("0.001"))
    check_order_size(m, Decimal("0.001"), Decimal(60000))
    cases = [
        (Decimal(0), Decimal(60000), "X: size 0 rounds to nothing (step 0.001)"),
        (Decimal("0.0005"), Decimal(60000), "X: size 0.0005 is below the minimum 0.001"),
        (Decimal("0.001"), Decimal(5000), "X: notional 5.000 USD is below the minimum 10 USD"),
    ]
    for size, price, message in cases:
        with pytest.raises(InvalidOrder) as caught:
            check_order_size(m, size, price)
        assert str(caught.value) == message
