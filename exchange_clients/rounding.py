"""Rounding to a market's grid, at the venue boundary only (DESIGN.md §3).

Sizes round *down* to the step: never trade more than asked. Prices round to
the side that is safe for the order: a buy never pays more than the caller's
price (floor), a sell never receives less (ceiling). That also keeps a
post-only order from crossing because of rounding.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from core.errors import InvalidOrder
from exchange_clients.types import Market, Side


def round_to_step(value: Decimal, step: Decimal, rounding: str = ROUND_DOWN) -> Decimal:
    """``value`` rounded to a multiple of ``step`` with the given rounding mode."""
    if step <= 0:
        raise ValueError(f"step must be positive, not {step}")
    units = (value / step).to_integral_value(rounding=rounding)
    result = units * step
    # Keep the step's decimal places (0.10 -> "0.10"), never an exponent form like 1.2E+3.
    exponent = step.as_tuple().exponent
    return result.quantize(step) if isinstance(exponent, int) and exponent <= 0 else result


def round_size(market: Market, size: Decimal) -> Decimal:
    """Size rounded down to the market's step."""
    return round_to_step(size, market.step_size, ROUND_DOWN)


def round_price(market: Market, price: Decimal, side: Side) -> Decimal:
    """Price on the tick grid, rounded toward the safe side for ``side``."""
    return round_to_step(price, market.tick_size, ROUND_FLOOR if side == "buy" else ROUND_CEILING)


def check_order_size(market: Market, size: Decimal, price: Decimal) -> None:
    """Raise ``InvalidOrder`` when a (rounded) order is below the market's minimums."""
    if size <= 0:
        raise InvalidOrder(
            f"{market.symbol}: size {size} rounds to nothing (step {market.step_size})"
        )
    if size < market.min_size:
        raise InvalidOrder(f"{market.symbol}: size {size} is below the minimum {market.min_size}")
    notional = size * price
    if notional < market.min_notional:
        raise InvalidOrder(
            f"{market.symbol}: notional {notional} USD is below the minimum "
            f"{market.min_notional} USD"
        )


def on_grid(value: Decimal, step: Decimal) -> bool:
    return value % step == 0
