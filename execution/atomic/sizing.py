"""One size every venue can trade: the common lot of several markets.

Venues list different size steps (0.001 BTC here, 0.0001 there; 1,000 units for a ``kPEPE``
contract), already converted to base units by :class:`~exchange_clients.types.Market`. A
hedge is only exact if both legs can trade the same amount, so sizes are rounded down to the
least common multiple of the steps.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal

from exchange_clients.rounding import round_to_step
from exchange_clients.types import Market


def common_step(markets: Iterable[Market]) -> Decimal:
    """The smallest size that is a whole number of steps on every market (exact LCM)."""
    steps = [market.step_size for market in markets]
    if not steps:
        raise ValueError("no markets to take a common step of")
    scale = max(max(0, -int(step.as_tuple().exponent)) for step in steps)
    factor = Decimal(10) ** scale
    integers = [int(step * factor) for step in steps]
    return (Decimal(math.lcm(*integers)) / factor).normalize()


def tradable_size(size: Decimal, markets: Iterable[Market]) -> Decimal:
    """``size`` rounded down to the common step of ``markets`` (never more than asked)."""
    return round_to_step(size, common_step(markets))
