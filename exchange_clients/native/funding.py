"""Funding as venues that only estimate the interval in progress report it.

Binance-style ``premiumIndex`` and Backpack ``markPrices`` give one rate: the current interval's,
re-estimated until it settles at the next funding time. There is no separate prediction, so it
is both our ``rate`` and our ``predicted_rate``; the row's ``markPrice`` comes along.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from exchange_clients.native.wire import ms_to_datetime, to_decimal
from exchange_clients.types import FundingRate, Market


def estimated_funding(
    venue: str,
    market: Market,
    row: Mapping[str, Any],
    *,
    rate: Decimal,
    interval_hours: Decimal,
    next_ms: int | None,
    ts: datetime | None,
) -> FundingRate:
    mark = row.get("markPrice")
    return FundingRate(
        venue=venue,
        symbol=market.symbol,
        rate=rate,
        interval_hours=interval_hours,
        next_funding_time=ms_to_datetime(next_ms) if next_ms else None,
        predicted_rate=rate,
        mark_price=market.from_venue_price(to_decimal(mark)) if mark is not None else None,
        ts=ts,
    )
