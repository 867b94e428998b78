"""Hyperliquid's price rule (5 significant figures, <= 6 - szDecimals decimals, integers always
valid) and size rule (szDecimals), with the numbers worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange_clients.hyperliquid.rounding import (
    is_valid_price,
    price_decimals,
    round_price,
    round_size,
    slippage_price,
)

D = Decimal


@pytest.mark.parametrize(
    ("price", "sz_decimals", "side", "expected"),
    [
        # BTC (szDecimals 5): at most 1 decimal; 65432.17 has 5 figures before the point -> 0.
        ("65432.17", 5, "buy", "65432"),
        ("65432.17", 5, "sell", "65433"),
        # ETH (szDecimals 4): at most 2 decimals; 5 figures -> 1670.1x -> 1 decimal.
        ("1670.13", 4, "buy", "1670.1"),
        ("1670.13", 4, "sell", "1670.2"),
        # A 0-szDecimals meme coin: 6 decimals at most, 5 figures would allow 8 -> 6 win.
        ("0.00012345678", 0, "buy", "0.000123"),
        ("0.00012345678", 0, "sell", "0.000124"),
        # 5 figures bind before the decimals limit: 1.234567 with szDecimals 1 -> 4 decimals.
        ("1.234567", 1, "buy", "1.2345"),
        # Rounding up across a power of ten lands on the coarser grid.
        ("9.99995", 0, "sell", "10"),
        # Large prices: integers only.
        ("123456.7", 2, "buy", "123456"),
    ],
)
def test_prices_round_to_the_safe_side_of_the_grid(
    price: str, sz_decimals: int, side: str, expected: str
) -> None:
    rounded = round_price(D(price), sz_decimals, "buy" if side == "buy" else "sell")
    assert rounded == D(expected)
    assert is_valid_price(rounded, sz_decimals)


def test_integer_prices_are_always_valid_and_others_are_checked() -> None:
    assert is_valid_price(D(1234567), 5)
    assert not is_valid_price(D("65432.1"), 5)  # 6 significant figures
    assert not is_valid_price(D("0.0000001"), 0)  # 7 decimals
    assert price_decimals(D("0.5"), 3) == 3


def test_sizes_round_down_to_sz_decimals() -> None:
    assert round_size(D("0.123456"), 5) == D("0.12345")
    assert round_size(D("12.9"), 0) == D(12)


@given(
    st.decimals(min_value=D("0.000001"), max_value=D(1_000_000), places=8),
    st.integers(min_value=0, max_value=6),
    st.sampled_from(["buy", "sell"]),
)
def test_rounded_prices_are_valid_and_on_the_safe_side(
    price: Decimal, sz_decimals: int, side: str
) -> None:
    smallest = D(1).scaleb(-(6 - sz_decimals))
    if side == "buy" and price < smallest:
        with pytest.raises(ValueError, match="below the smallest price"):
            round_price(price, sz_decimals, "buy")
        return
    rounded = round_price(price, sz_decimals, "buy" if side == "buy" else "sell")
    assert is_valid_price(rounded, sz_decimals)
    assert rounded <= price if side == "buy" else rounded >= price


# The reference SDK's Exchange._slippage_price for the same inputs (computed with
# hyperliquid-python-sdk 0.24.0 in a throwaway environment; only the outputs are kept here).
@pytest.mark.parametrize(
    ("price", "sz_decimals", "is_buy", "slippage", "sdk"),
    [
        ("58000", 5, False, "0.1", "52200"),
        ("59000", 5, False, "0.1", "53100"),
        ("61234", 5, True, "0.1", "67357"),  # 67357.4 -> 5 significant figures
        ("3100", 4, True, "0.1", "3410"),
        ("2999.5", 4, False, "0.1", "2699.6"),  # 2699.55 -> to nearest
        ("0.0115", 0, False, "0.1", "0.01035"),  # kPEPE
        ("1.23456", 2, False, "0.05", "1.1728"),
    ],
)
def test_slippage_bounds_equal_the_reference_sdks(
    price: str, sz_decimals: int, is_buy: bool, slippage: str, sdk: str
) -> None:
    bound = slippage_price(D(price), sz_decimals, is_buy, D(slippage))
    assert bound == D(sdk)
    assert is_valid_price(bound, sz_decimals)


def test_a_slippage_that_leaves_no_price_is_refused() -> None:
    with pytest.raises(ValueError, match="no positive price"):
        slippage_price(D(100), 2, False, D(1))
