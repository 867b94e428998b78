"""What a market-data feed emits, and the feed contract the paper venue and backtests consume.

Every event is immutable, carries ``Decimal`` prices and sizes (internal units, see
:mod:`exchange_clients.types`) and an aware-UTC ``ts``. Book levels are ``(price, size)``
tuples, best first. A :class:`BookDeltaEvent` lists changed levels only, size 0 meaning
"remove"; applied with ``OrderBook.apply_update(bids, asks, first_sequence=...,
last_sequence=...)`` to the book as of the previous event it gives the next book exactly.
Sequence numbers chain: a delta's ``first_sequence`` is the previous book's sequence + 1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from exchange_clients.types import FundingRate, Market, Side

Level = tuple[Decimal, Decimal]
Levels = tuple[Level, ...]


def _require_aware(ts: datetime | None, what: str) -> datetime:
    if ts is None or ts.tzinfo is None:
        raise ValueError(f"{what} needs a timezone-aware ts, got {ts!r}")
    return ts


@dataclass(frozen=True, slots=True)
class BookSnapshotEvent:
    """The whole visible book at ``ts``; ``sequence`` numbers it for the deltas that follow."""

    venue: str
    symbol: str
    ts: datetime
    bids: Levels
    asks: Levels
    sequence: int

    def __post_init__(self) -> None:
        _require_aware(self.ts, "a book snapshot")


@dataclass(frozen=True, slots=True)
class BookDeltaEvent:
    """Level changes since the book numbered ``first_sequence - 1``; size 0 removes a level."""

    venue: str
    symbol: str
    ts: datetime
    bids: Levels
    asks: Levels
    first_sequence: int
    last_sequence: int

    def __post_init__(self) -> None:
        _require_aware(self.ts, "a book delta")
        if self.first_sequence > self.last_sequence:
            raise ValueError(
                f"first_sequence {self.first_sequence} is after last_sequence {self.last_sequence}"
            )


@dataclass(frozen=True, slots=True)
class TradeEvent:
    """A public trade; ``taker_side`` is the side of the order that took liquidity."""

    venue: str
    symbol: str
    ts: datetime
    price: Decimal
    size: Decimal
    taker_side: Side
    trade_id: str

    def __post_init__(self) -> None:
        _require_aware(self.ts, "a trade")
        if self.taker_side not in ("buy", "sell"):
            raise ValueError(f"taker_side must be 'buy' or 'sell', not {self.taker_side!r}")
        if self.price <= 0 or self.size <= 0:
            raise ValueError(
                f"a trade needs a positive price and size, not {self.price}, {self.size}"
            )


@dataclass(frozen=True, slots=True)
class FundingEvent:
    """The venue's current funding for one symbol; ``rate.ts`` is required and is the event's."""

    rate: FundingRate

    def __post_init__(self) -> None:
        _require_aware(self.rate.ts, "a funding event")

    @property
    def venue(self) -> str:
        return self.rate.venue

    @property
    def symbol(self) -> str:
        return self.rate.symbol

    @property
    def ts(self) -> datetime:
        # Checked once in __post_init__; both dataclasses are frozen, so it cannot change.
        ts = self.rate.ts
        assert ts is not None
        return ts


MarketEvent = BookSnapshotEvent | BookDeltaEvent | TradeEvent | FundingEvent


class MarketFeed(Protocol):
    """A source of one venue's public market data: synthetic, replayed or live.

    ``events()`` starts a fresh stream on every call. It first emits a snapshot and then the
    current funding of every symbol, then deltas, trades and funding updates as time passes,
    with non-decreasing ``ts``. ``snapshot``/``funding`` answer for "now" without a stream.
    """

    @property
    def venue(self) -> str: ...

    def markets(self) -> dict[str, Market]:
        """Every listed symbol with its tick, step, minimums and maximum leverage."""
        ...

    def events(self) -> AsyncIterator[MarketEvent]: ...

    def snapshot(self, symbol: str) -> BookSnapshotEvent:
        """The current book of ``symbol``."""
        ...

    def funding(self, symbol: str) -> FundingRate:
        """The current funding of ``symbol``."""
        ...
