"""Hyperliquid's price and size grid (perpetuals).

Hyperliquid has no tick size: a price is valid with at most 5 significant figures and at most
``6 - szDecimals`` decimals, and an integer price is always valid whatever its length. Sizes
have exactly ``szDecimals`` decimals at most. Prices round toward the safe side for the order
(a buy never pays more than asked, a sell never receives less), sizes round down - the same
conventions as :mod:`exchange_clients.rounding`.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from exchange_clients.types import Side

MAX_PERP_DECIMALS = 6
SIGNIFICANT_FIGURES = 5


def price_decimals(price: Decimal, sz_decimals: int) -> int:
    """How many decimals a price of this magnitude may have on a market with ``sz_decimals``."""
    if price <= 0:
        raise ValueError(f"a price must be positive, not {price}")
    by_figures = SIGNIFICANT_FIGURES - 1 - price.adjusted()  # adjusted() = exponent of 1st digit
    return max(0, min(MAX_PERP_DECIMALS - sz_decimals, by_figures))


def round_price(price: Decimal, sz_decimals: int, side: Side) -> Decimal:
    decimals = price_decimals(price, sz_decimals)
    rounding = ROUND_FLOOR if side == "buy" else ROUND_CEILING
    rounded = price.quantize(Decimal(1).scaleb(-decimals), rounding=rounding)
    if rounded <= 0:
        raise ValueError(
            f"price {price} is below the smallest price a market with szDecimals "
            f"{sz_decimals} can quote ({Decimal(1).scaleb(-decimals)})"
        )
    if rounded != price and price_decimals(rounded, sz_decimals) < decimals:
        # Rounding crossed a power of ten (9.99995 -> 10.0000): re-round on the new grid.
        return round_price(rounded, sz_decimals, side)
    return rounded


def is_valid_price(price: Decimal, sz_decimals: int) -> bool:
    if price <= 0:
        return False
    if price == price.to_integral_value():
        return True
    return price == price.quantize(
        Decimal(1).scaleb(-price_decimals(price, sz_decimals)), rounding=ROUND_DOWN
    )


def round_size(size: Decimal, sz_decimals: int) -> Decimal:
    return size.quantize(Decimal(1).scaleb(-sz_decimals), rounding=ROUND_DOWN)


def slippage_price(price: Decimal, sz_decimals: int, is_buy: bool, slippage: Decimal) -> Decimal:
    """``price`` moved by ``slippage`` against the taker, as the reference SDK bounds a market
    order (``Exchange._slippage_price``): x (1 +/- slippage), then 5 significant figures, then
    at most ``6 - szDecimals`` decimals, both to nearest. A triggered stop executes as a market
    order with this as its worst price; from the trigger price, never from the touch (a stop
    far from the market would otherwise carry a limit on the wrong side of its trigger)."""
    moved = price * (1 + slippage if is_buy else 1 - slippage)
    if moved <= 0:
        raise ValueError(f"slippage {slippage} leaves no positive price below {price}")
    figures = moved.quantize(
        Decimal(1).scaleb(moved.adjusted() - (SIGNIFICANT_FIGURES - 1)), rounding=ROUND_HALF_EVEN
    )
    return figures.quantize(
        Decimal(1).scaleb(-(MAX_PERP_DECIMALS - sz_decimals)), rounding=ROUND_HALF_EVEN
    )
