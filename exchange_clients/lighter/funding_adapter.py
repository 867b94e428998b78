"""Lighter ``market_stats`` -> our :class:`FundingRate` (funding every hour).

``market_stats`` (apidocs "WebSocket reference" -> Market Stats) carries ``funding_rate`` (the
rate of the last hourly payment), ``current_funding_rate`` (the estimate for the coming one),
``funding_timestamp`` (ms) and ``mark_price``. Both rates are percentages per hour
(``wire.FUNDING_RATE_IS_PERCENT``); positive means longs pay shorts, as in our convention.
The next payment is the next full hour (funding is settled on the hour).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from exchange_clients.lighter.wire import (
    FUNDING_INTERVAL_HOURS,
    FUNDING_RATE_IS_PERCENT,
)
from exchange_clients.native.wire import ms_to_datetime, to_decimal
from exchange_clients.types import FundingRate

_PERCENT = Decimal(100)


def _fraction(value: object) -> Decimal:
    rate = to_decimal(value)
    return rate / _PERCENT if FUNDING_RATE_IS_PERCENT else rate


def next_hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def funding_rate(symbol: str, stats: dict[str, Any], *, venue: str, now: datetime) -> FundingRate:
    """The current hour's funding (the estimate being accrued) for ``symbol``."""
    current = stats.get("current_funding_rate")
    last = stats.get("funding_rate")
    rate = _fraction(current if current is not None else last or "0")
    next_time = next_hour(now)
    stamp = stats.get("funding_timestamp")
    if stamp:
        announced = ms_to_datetime(stamp)
        if announced > now:
            next_time = announced
    mark = stats.get("mark_price")
    return FundingRate(
        venue=venue,
        symbol=symbol,
        rate=rate,
        interval_hours=FUNDING_INTERVAL_HOURS,
        next_funding_time=next_time,
        predicted_rate=rate,
        mark_price=to_decimal(mark) if mark is not None else None,
        ts=datetime.now(UTC),
    )
