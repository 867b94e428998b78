"""GRVT funding -> :class:`FundingRate`.

``/full/v1/ticker`` gives ``funding_rate_8h_curr``: the current funding rate *for eight hours*,
in percentage points ("0.01" = 0.01 %). GRVT settles at the instrument's
``funding_interval_hours`` (8 where the instrument does not say), on the UTC hour grid, so the
rate per interval is the 8 h rate scaled to the interval, and the next funding time the next
multiple of the interval since the epoch. The figure is re-estimated until it settles: it is
both ``rate`` and ``predicted_rate``. ``/full/v1/funding`` lists settled rates, newest first
(:func:`settled_rates`).

Sign: positive means longs pay shorts, as :class:`FundingRate.rate`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from exchange_clients.native.wire import optional_decimal, to_decimal
from exchange_clients.types import FundingRate, Market

DEFAULT_INTERVAL_HOURS = Decimal(8)
RATE_HOURS = Decimal(8)
PERCENT = Decimal(100)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def next_funding_time(now: datetime, interval_hours: Decimal) -> datetime:
    """The next multiple of the interval since the epoch, strictly after ``now``."""
    step = timedelta(hours=float(interval_hours))
    periods = (now - EPOCH) // step
    return EPOCH + step * (periods + 1)


def funding_from_ticker(
    venue: str,
    market: Market,
    ticker: Mapping[str, Any],
    interval_hours: Decimal = DEFAULT_INTERVAL_HOURS,
    *,
    now: datetime | None = None,
) -> FundingRate:
    """One ticker as a :class:`FundingRate` for ``interval_hours``."""
    at = now or datetime.now(UTC)
    per_8h = to_decimal(ticker.get("funding_rate_8h_curr") or "0") / PERCENT
    rate = per_8h * interval_hours / RATE_HOURS
    mark = optional_decimal(ticker.get("mark_price"))
    return FundingRate(
        venue=venue,
        symbol=market.symbol,
        rate=rate,
        interval_hours=interval_hours,
        next_funding_time=next_funding_time(at, interval_hours),
        predicted_rate=rate,
        mark_price=market.from_venue_price(mark) if mark is not None else None,
        ts=at,
    )


def settled_rates(rows: Sequence[Mapping[str, Any]]) -> list[tuple[datetime, Decimal]]:
    """``/full/v1/funding`` rows as ``(funding time, rate as a fraction)``, oldest first."""
    settled = [
        (
            datetime.fromtimestamp(int(str(r["funding_time"])) / 1e9, tz=UTC),
            to_decimal(r["funding_rate"]) / PERCENT,
        )
        for r in rows
    ]
    return sorted(settled)
