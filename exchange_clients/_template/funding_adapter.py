"""The venue's funding answer as our :class:`FundingRate` (rate per interval, the interval,
the next funding time, the predicted rate when the venue gives one)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from exchange_clients.native.wire import ms_to_datetime, optional_decimal, to_decimal
from exchange_clients.types import FundingRate, Market


def funding_from_wire(venue: str, market: Market, row: Mapping[str, Any]) -> FundingRate:
    next_ms = row.get("next_funding_ms")
    return FundingRate(
        venue=venue,
        symbol=market.symbol,
        rate=to_decimal(row["rate"]),
        interval_hours=to_decimal(row.get("interval_hours", Decimal(8))),
        next_funding_time=ms_to_datetime(next_ms) if next_ms else None,
        predicted_rate=optional_decimal(row.get("predicted_rate")),
    )
