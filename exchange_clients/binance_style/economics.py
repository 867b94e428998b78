"""What trading costs and how liquid each market is, on a Binance-style venue.

* **Fees**: ``GET commissionRate`` (USER_DATA, weight 20, one symbol) answers the account's own
  tier: ``{"symbol", "makerCommissionRate", "takerCommissionRate"}`` as decimal strings.
  Tiers move at most daily (30-day volume), so an answer is kept ``FEES_TTL_SECONDS``.
* **24 h volume**: ``GET ticker/24hr`` without a symbol (weight 40, every market):
  ``quoteVolume`` is already in the quote asset (USDT), bundled contracts included.
* **Open interest**: ``GET openInterest`` (weight 1) exists per symbol only and answers in
  contracts; USD = contracts x the mark price of ``premiumIndex`` (one bulk call, weight 10),
  both through the market's multiplier (``1000PEPE``: contracts of 1,000 PEPE at a price per
  1,000). Asking every market on every scan would be hundreds of requests, so each market's
  figure is kept ``OPEN_INTEREST_TTL_SECONDS`` (15 min: a liquidity filter needs the order of
  magnitude, not the tick) and refreshed at most ``OPEN_INTEREST_CONCURRENCY`` at a time,
  through the account's request-weight bucket. Binance USD-M lists ~500 perpetuals: ~500
  weight per 15 min, about 1.4 % of its 2,400/min budget. Volume and marks are kept
  ``STATS_TTL_SECONDS``. A venue without the endpoint (Aster documents none) reports
  ``None``: a filter on it then refuses the market rather than guess.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from exchange_clients.native.wire import optional_decimal, to_decimal
from exchange_clients.types import FeeSchedule, Market

FEES_TTL_SECONDS = 3600.0
STATS_TTL_SECONDS = 60.0
OPEN_INTEREST_TTL_SECONDS = 900.0
OPEN_INTEREST_CONCURRENCY = 8

V = TypeVar("V")


@dataclass
class _Entry(Generic[V]):
    value: V
    at: float


class TtlCache(Generic[V]):
    """Values by key, each good for ``ttl`` seconds (monotonic clock)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, _Entry[V]] = {}

    def get(self, key: str) -> V | None:
        entry = self._entries.get(key)
        if entry is None or self._clock() - entry.at >= self.ttl:
            return None
        return entry.value

    def put(self, key: str, value: V) -> None:
        self._entries[key] = _Entry(value, self._clock())


def fee_schedule(row: Mapping[str, Any]) -> FeeSchedule:
    """A ``commissionRate`` answer: the account's tier on that symbol."""
    return FeeSchedule(
        maker=to_decimal(row["makerCommissionRate"]),
        taker=to_decimal(row["takerCommissionRate"]),
        source="account",
    )


def quote_volumes(rows: Iterable[Mapping[str, Any]]) -> dict[str, Decimal]:
    """``{contract: 24 h quote volume}`` from a bulk ``ticker/24hr`` answer."""
    volumes: dict[str, Decimal] = {}
    for row in rows:
        volume = optional_decimal(row.get("quoteVolume"))
        if volume is not None:
            volumes[str(row["symbol"])] = volume
    return volumes


def mark_prices(rows: Iterable[Mapping[str, Any]]) -> dict[str, Decimal]:
    """``{contract: mark price}`` (venue units) from a bulk ``premiumIndex`` answer."""
    return {
        str(row["symbol"]): to_decimal(row["markPrice"])
        for row in rows
        if optional_decimal(row.get("markPrice")) is not None
    }


def open_interest_usd(contracts: Decimal, mark: Decimal, market: Market) -> Decimal:
    """Open interest in USD: size in base units times the price per base unit."""
    return market.from_venue_size(contracts) * market.from_venue_price(mark)


async def refresh_bounded(
    keys: Iterable[str], fetch: Callable[[str], Awaitable[None]], limit: int
) -> None:
    """``fetch(key)`` for every key, at most ``limit`` at a time."""
    gate = asyncio.Semaphore(limit)

    async def one(key: str) -> None:
        async with gate:
            await fetch(key)

    await asyncio.gather(*(one(key) for key in keys))
