"""Paradex funding -> :class:`FundingRate`.

Paradex perpetuals fund continuously: every position accrues funding all the time, at a rate
quoted per funding period (``funding_period_hours`` of ``GET /v1/markets``, 8 h on every perp
today; "Funding mechanism" in the docs). ``GET /v1/markets/summary`` gives each market's
current ``funding_rate`` for that period (a fraction; positive: longs pay shorts) and its
``mark_price``. That rate is reported as both ``rate`` and ``predicted_rate`` for an
``interval_hours`` of the period, so ``hourly_rate`` compares with hourly venues.

There is no settlement instant, so ``next_funding_time`` is the end of the current period
counted from 00:00 UTC (when a rate quoted per period would have been paid in full), a
reference the funding-arbitrage scan can compare; payments themselves arrive continuously.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from exchange_clients.native.wire import ms_to_datetime, optional_decimal, to_decimal
from exchange_clients.types import FundingRate, Market

DEFAULT_PERIOD_HOURS = Decimal(8)


def period_end_ms(now_ms: int, period_hours: Decimal) -> int:
    """The end of the funding period containing ``now_ms`` (periods start at 00:00 UTC)."""
    period = int(period_hours * 3_600_000)
    return (now_ms // period + 1) * period


def funding_from_summary(
    venue: str,
    market: Market,
    row: Mapping[str, Any],
    period_hours: Decimal,
    now_ms: int,
) -> FundingRate:
    """One ``markets/summary`` row as a :class:`FundingRate`."""
    rate = to_decimal(row.get("funding_rate") or "0")
    mark = optional_decimal(row.get("mark_price"))
    return FundingRate(
        venue=venue,
        symbol=market.symbol,
        rate=rate,
        interval_hours=period_hours,
        next_funding_time=ms_to_datetime(period_end_ms(now_ms, period_hours)),
        predicted_rate=rate,
        mark_price=market.from_venue_price(mark) if mark is not None else None,
        ts=datetime.now(UTC),
    )
