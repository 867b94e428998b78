"""A market feed the test scripts: it emits exactly the events the test pushes.

``settled()`` returns once the client has consumed (and finished handling) everything pushed,
so tests wait on the client's progress instead of on time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

from core.clock import Clock
from exchange_clients.market_data.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    FundingEvent,
    Level,
    MarketEvent,
    TradeEvent,
)
from exchange_clients.order_book import OrderBook
from exchange_clients.types import FundingRate, Market, Side
from tests.exchange_clients.paper.helpers import ASKS, BIDS, MARKET, SYMBOL, D


class ScriptedFeed:
    """One symbol (helpers' BTC book) whose book, trades and funding the test drives."""

    def __init__(
        self, clock: Clock, venue: str = "paper", rate: str = "0.0001", hours: int = 1
    ) -> None:
        self.clock = clock
        self._venue = venue
        self._hours = hours
        self._book = OrderBook(SYMBOL)
        self._sequence = 1
        self._book.apply_snapshot(BIDS, ASKS, self._sequence)
        self._rate = D(rate)
        self._queue: asyncio.Queue[MarketEvent] = asyncio.Queue()
        self._idle = asyncio.Event()
        self._trades = 0

    @property
    def venue(self) -> str:
        return self._venue

    def markets(self) -> dict[str, Market]:
        return {SYMBOL: MARKET}

    def snapshot(self, symbol: str) -> BookSnapshotEvent:
        bids, asks = self._book.depth(100)
        return BookSnapshotEvent(
            venue=self._venue,
            symbol=symbol,
            ts=self.clock.now(),
            bids=tuple(bids),
            asks=tuple(asks),
            sequence=self._sequence,
        )

    def funding(self, symbol: str) -> FundingRate:
        return FundingRate(
            venue=self._venue,
            symbol=symbol,
            rate=self._rate,
            interval_hours=D(self._hours),
            next_funding_time=None,
            ts=self.clock.now(),
        )

    async def events(self) -> AsyncIterator[MarketEvent]:
        yield self.snapshot(SYMBOL)
        yield FundingEvent(self.funding(SYMBOL))
        try:
            while True:
                if self._queue.empty():
                    self._idle.set()
                event = await self._queue.get()
                yield event
        finally:
            self._idle.set()  # the consumer is gone: nothing more will be taken

    # --- what tests call ------------------------------------------------------------------

    def move(self, bids: tuple[Level, ...] = (), asks: tuple[Level, ...] = ()) -> None:
        """Change book levels (size 0 removes one)."""
        self._sequence += 1
        self._book.apply_update(bids, asks, last_sequence=self._sequence)
        self.push(
            BookDeltaEvent(
                venue=self._venue,
                symbol=SYMBOL,
                ts=self.clock.now(),
                bids=bids,
                asks=asks,
                first_sequence=self._sequence,
                last_sequence=self._sequence,
            )
        )

    def trade(self, price: str, size: str, taker_side: Side) -> None:
        self._trades += 1
        self.push(
            TradeEvent(
                venue=self._venue,
                symbol=SYMBOL,
                ts=self.clock.now(),
                price=Decimal(price),
                size=Decimal(size),
                taker_side=taker_side,
                trade_id=str(self._trades),
            )
        )

    def set_funding(self, rate: str) -> None:
        self._rate = D(rate)
        self.push(FundingEvent(self.funding(SYMBOL)))

    async def settled(self) -> None:
        """Wait until the consumer asked for the event after the last one pushed (or quit)."""
        await self._idle.wait()

    def push(self, event: MarketEvent) -> None:
        """Emit any event as it is (the helpers above build the usual ones)."""
        self._idle.clear()
        self._queue.put_nowait(event)
