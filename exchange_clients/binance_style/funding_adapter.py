"""Funding from ``premiumIndex`` + ``fundingInfo`` (Binance USD-M, and Aster's copy of it).

``GET premiumIndex`` ("Mark Price and Funding Rate") gives ``lastFundingRate`` - on Binance the
rate of the *current* interval, re-estimated continuously and charged at ``nextFundingTime``
- so it is both our ``rate`` and our ``predicted_rate`` (there is no separate prediction).
``GET fundingInfo`` ("Get Funding Rate Info") lists only the symbols whose funding was
adjusted, with ``fundingIntervalHours``; every other symbol uses the venue default (8 h).
Positive rate = longs pay shorts, as on the venue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from exchange_clients.native.funding import estimated_funding
from exchange_clients.native.wire import ms_to_datetime, to_decimal
from exchange_clients.types import FundingRate, Market


def intervals_from_funding_info(rows: Iterable[Mapping[str, Any]]) -> dict[str, Decimal]:
    """``{contract_id: interval hours}`` for the symbols ``fundingInfo`` lists."""
    return {
        str(row["symbol"]): Decimal(int(row["fundingIntervalHours"]))
        for row in rows
        if row.get("fundingIntervalHours")
    }


def funding_from_premium_index(
    venue: str, market: Market, row: Mapping[str, Any], interval_hours: Decimal
) -> FundingRate:
    """One ``premiumIndex`` row as our :class:`FundingRate`."""
    next_time = int(row.get("nextFundingTime") or 0)
    stamp = row.get("time")
    return estimated_funding(
        venue,
        market,
        row,
        rate=to_decimal(row["lastFundingRate"]),
        interval_hours=interval_hours,
        next_ms=next_time if next_time > 0 else None,
        ts=ms_to_datetime(int(stamp)) if isinstance(stamp, int) else None,
    )
