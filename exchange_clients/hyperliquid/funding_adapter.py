"""Hyperliquid funding -> ``FundingRate``.

Hyperliquid pays funding every hour, on the hour (docs: trading/funding); positive = longs pay
shorts, the same sign convention as ours. ``metaAndAssetCtxs`` carries each asset's current
hourly rate (``funding``) and mark; ``predictedFundings`` carries, per coin, one entry per venue,
of which ``HlPerp`` is Hyperliquid's own prediction for the next settlement (info-endpoint/
perpetuals, "Retrieve predicted funding rates for different venues").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from exchange_clients.hyperliquid.wire import VENUE
from exchange_clients.native.wire import ms_to_datetime, to_decimal
from exchange_clients.types import FundingRate

INTERVAL_HOURS = Decimal(1)
HL_PERP = "HlPerp"


def next_funding_time(now: datetime) -> datetime:
    """The next whole hour (UTC) strictly after ``now``."""
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def predicted_by_coin(response: list[Any]) -> dict[str, tuple[Decimal, datetime | None]]:
    """``predictedFundings`` -> coin -> (predicted hourly rate, next funding time)."""
    result: dict[str, tuple[Decimal, datetime | None]] = {}
    for coin, venues in response:
        for venue, data in venues:
            if venue != HL_PERP or not data:
                continue
            next_ms = data.get("nextFundingTime")
            result[str(coin)] = (
                to_decimal(data["fundingRate"]),
                ms_to_datetime(int(next_ms)) if next_ms is not None else None,
            )
    return result


def funding_rate(
    symbol: str,
    ctx: Mapping[str, Any],
    *,
    now: datetime,
    predicted: tuple[Decimal, datetime | None] | None = None,
    venue: str = VENUE,
    mark_divisor: Decimal = Decimal(1),
) -> FundingRate:
    """One asset context (+ its HlPerp prediction) as a ``FundingRate`` (interval 1 h)."""
    next_time = next_funding_time(now)
    if predicted is not None and predicted[1] is not None and predicted[1] > now:
        next_time = predicted[1]
    mark = ctx.get("markPx")
    return FundingRate(
        venue=venue,
        symbol=symbol,
        rate=to_decimal(ctx["funding"]),
        interval_hours=INTERVAL_HOURS,
        next_funding_time=next_time,
        predicted_rate=predicted[0] if predicted is not None else None,
        mark_price=to_decimal(mark) / mark_divisor if mark is not None else None,
        ts=now,
    )
