"""Backpack funding -> :class:`FundingRate`.

Backpack perps fund every hour (``fundingInterval`` of "Get markets", 3,600,000 ms; the
venue catalogue says 1 h too). ``GET /api/v1/markPrices`` ("Markets > Get all mark prices")
gives, per symbol, the mark and index price, ``fundingRate`` for the interval in progress
(re-estimated until it settles) and ``nextFundingTimestamp`` (ms). That estimate is reported
as both ``rate`` and ``predicted_rate``. ``GET /api/v1/fundingRates?symbol=`` ("Get funding
interval rates") lists settled rates, newest first, used by :func:`settled_rates`.

Sign: a positive rate means longs pay shorts (the usual perp convention, which Backpack's
funding payments follow), the same meaning as :class:`FundingRate.rate`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from exchange_clients.backpack.wire import iso_time
from exchange_clients.native.funding import estimated_funding
from exchange_clients.native.wire import to_decimal
from exchange_clients.types import FundingRate, Market

DEFAULT_INTERVAL_HOURS = Decimal(1)


def funding_from_mark_price(
    venue: str,
    market: Market,
    row: Mapping[str, Any],
    interval_hours: Decimal = DEFAULT_INTERVAL_HOURS,
) -> FundingRate:
    """One ``markPrices`` row as a :class:`FundingRate`."""
    next_ms = row.get("nextFundingTimestamp")
    return estimated_funding(
        venue,
        market,
        row,
        rate=to_decimal(row.get("fundingRate", "0")),
        interval_hours=interval_hours,
        next_ms=int(next_ms) if next_ms else None,
        ts=datetime.now(UTC),
    )


def settled_rates(rows: Sequence[Mapping[str, Any]]) -> list[tuple[datetime, Decimal]]:
    """``fundingRates`` rows as ``(interval end, rate)``, oldest first."""
    settled = [
        (iso_time(str(r["intervalEndTimestamp"])), to_decimal(r["fundingRate"])) for r in rows
    ]
    return sorted(settled)
