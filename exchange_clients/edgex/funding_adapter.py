"""EdgeX funding -> :class:`FundingRate`.

``GET /api/v2/public/funding/getLatestFundingRate?contractId=`` (comma-separated ids; none for
every contract) answers one row per contract: ``fundingRate`` for the interval in progress
(re-estimated until it settles; ``forecastFundingRate`` when present is the venue's forecast),
``fundingTimestamp`` (ms) of the settlement it applies at, ``fundingRateIntervalMin`` and the
``oraclePrice``. The interval comes from the row, else the contract's metadata (EdgeX settles
every 4 hours, 240 minutes, on its perpetuals).

Sign: a positive rate means longs pay shorts, the meaning of :class:`FundingRate.rate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from exchange_clients.native.wire import ms_to_datetime, optional_decimal, to_decimal
from exchange_clients.types import FundingRate, Market

MINUTES_PER_HOUR = Decimal(60)


def funding_from_wire(
    venue: str, market: Market, row: Mapping[str, Any], default_interval_minutes: int
) -> FundingRate:
    """One ``getLatestFundingRate`` row."""
    minutes = int(str(row.get("fundingRateIntervalMin") or default_interval_minutes))
    rate = to_decimal(row.get("fundingRate") or "0")
    forecast = optional_decimal(row.get("forecastFundingRate"))
    next_ms = row.get("fundingTimestamp")
    oracle = optional_decimal(row.get("oraclePrice"))
    return FundingRate(
        venue=venue,
        symbol=market.symbol,
        rate=rate,
        interval_hours=Decimal(minutes) / MINUTES_PER_HOUR,
        next_funding_time=ms_to_datetime(str(next_ms)) if next_ms else None,
        predicted_rate=forecast if forecast is not None else rate,
        mark_price=market.from_venue_price(oracle) if oracle is not None else None,
        ts=datetime.now(UTC),
    )
