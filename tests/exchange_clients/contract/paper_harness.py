"""The paper venues' contract harness: the synthetic market on a manual clock.

The synthetic market is a pure function of time, so to move the mark a test wraps it in a
:class:`ShiftedFeed`: every price it streams is the synthetic one plus an offset per symbol,
and a new offset is announced with a fresh book snapshot - the venue sees the market jump.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from core.clock import ManualClock
from exchange_clients.factory import create_client
from exchange_clients.market_data.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    FundingEvent,
    Levels,
    MarketEvent,
    TradeEvent,
)
from exchange_clients.market_data.synthetic import SyntheticFeed, SyntheticMarket
from exchange_clients.types import ClientSettings, FundingRate, Market
from tests.exchange_clients.contract.venue_harness import VenueHarness


class ShiftedFeed:
    """A :class:`SyntheticFeed` whose prices a test can move (``move_mark``)."""

    def __init__(self, inner: SyntheticFeed) -> None:
        self._inner = inner
        self._offsets: dict[str, Decimal] = {}
        self._announced: dict[str, Decimal] = {}

    @property
    def venue(self) -> str:
        return self._inner.venue

    def markets(self) -> dict[str, Market]:
        return self._inner.markets()

    def snapshot(self, symbol: str) -> BookSnapshotEvent:
        book = self._inner.snapshot(symbol)
        shift = self._offsets.get(symbol, Decimal(0))
        return replace(book, bids=_shift(book.bids, shift), asks=_shift(book.asks, shift))

    def funding(self, symbol: str) -> FundingRate:
        return self._shift_funding(self._inner.funding(symbol))

    async def move_mark(self, symbol: str, price: Decimal) -> None:
        """From the next feed step on, ``symbol``'s mid is ``price`` (then moves as before)."""
        book = self._inner.snapshot(symbol)
        mid = (book.bids[0][0] + book.asks[0][0]) / 2
        tick = self._inner.markets()[symbol].tick_size
        self._offsets[symbol] = ((price - mid) / tick).to_integral_value() * tick

    async def events(self) -> AsyncIterator[MarketEvent]:
        async for event in self._inner.events():
            for symbol, offset in self._offsets.items():
                if self._announced.get(symbol) != offset:
                    self._announced[symbol] = offset
                    yield self.snapshot(symbol)
            yield self._shift_event(event)

    def _shift_event(self, event: MarketEvent) -> MarketEvent:
        if isinstance(event, FundingEvent):
            return FundingEvent(self._shift_funding(event.rate))
        shift = self._offsets.get(event.symbol, Decimal(0))
        if not shift:
            return event
        if isinstance(event, TradeEvent):
            return replace(event, price=event.price + shift)
        if isinstance(event, BookSnapshotEvent | BookDeltaEvent):
            return replace(event, bids=_shift(event.bids, shift), asks=_shift(event.asks, shift))
        return event

    def _shift_funding(self, rate: FundingRate) -> FundingRate:
        shift = self._offsets.get(rate.symbol, Decimal(0))
        if not shift or rate.mark_price is None:
            return rate
        return replace(rate, mark_price=rate.mark_price + shift)


def _shift(levels: Levels, shift: Decimal) -> Levels:
    return tuple((price + shift, size) for price, size in levels)


@asynccontextmanager
async def paper_harness(venue: str = "paper") -> AsyncIterator[VenueHarness]:
    clock = ManualClock(datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC))
    feed = ShiftedFeed(SyntheticFeed(SyntheticMarket(seed=11, venue=venue), clock))
    client = create_client(
        ClientSettings(venue=venue, options={"feed": feed, "clock": clock, "store": None})
    )
    await client.connect()
    harness = VenueHarness(
        client=client,
        symbol="BTC",
        now=clock.now,
        advance=clock.advance,
        move_mark=feed.move_mark,
    )
    await harness.advance(1)
    try:
        yield harness
    finally:
        await client.disconnect()
