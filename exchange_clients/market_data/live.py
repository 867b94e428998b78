"""A real venue's public market data as a :class:`MarketFeed`, so paper accounts trade live books.

``market_data: {source: <venue>}`` in a paper venue's config (binance, aster, backpack,
lighter or hyperliquid) builds a :class:`LiveFeed` over that venue's :class:`PublicSource`
(public endpoints only: no account, no keys), imported only when a config names it. The
source pushes events as the venue sends them; the feed keeps the latest book and funding of
every symbol (what ``snapshot``/``funding`` answer) and fans events out to every
``events()`` stream, each of which starts with a snapshot and the funding of every symbol,
as the feed contract says.

A live feed must be started before use (it has to connect and learn the markets): the paper
client awaits :meth:`LiveFeed.start` when it connects and :meth:`LiveFeed.stop` when it
disconnects.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from core.errors import ConfigError, UnknownSymbol, VenueUnavailable
from exchange_clients.market_data.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    FundingEvent,
    MarketEvent,
)
from exchange_clients.types import FundingRate, Market

Sink = Callable[[MarketEvent], None]

# source name -> "module:Class" of its PublicSource (imported on use).
LIVE_SOURCES: dict[str, str] = {
    "aster": "exchange_clients.binance_style.public_feed:AsterPublicSource",
    "backpack": "exchange_clients.backpack.public_feed:BackpackPublicSource",
    "binance": "exchange_clients.binance_style.public_feed:BinancePublicSource",
    "hyperliquid": "exchange_clients.hyperliquid.public_feed:HyperliquidPublicSource",
    "lighter": "exchange_clients.lighter.public_feed:LighterPublicSource",
}


@dataclass(frozen=True)
class LiveSourceSettings:
    """Where a public source connects and what it streams."""

    testnet: bool = False
    symbols: tuple[str, ...] = ()
    """Symbols to stream; empty = the source's default set (it must stay small: each is a
    book subscription)."""
    base_url: str | None = None
    ws_url: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


class PublicSource(Protocol):
    """One venue's public data: markets, then a push of book/trade/funding events."""

    venue: str

    async def start(self, sink: Sink) -> dict[str, Market]:
        """Connect, learn the markets, subscribe; push every event (starting with a snapshot
        and the funding of every streamed symbol) into ``sink``. Returns the streamed markets."""
        ...

    async def stop(self) -> None: ...


def public_source(name: str, settings: LiveSourceSettings) -> PublicSource:
    """The public source called ``name``; unknown names are a ``ConfigError`` listing the known."""
    try:
        target = LIVE_SOURCES[name]
    except KeyError:
        raise ConfigError(
            f"market_data source {name!r} has no live feed: expected one of "
            f"{', '.join(sorted(LIVE_SOURCES))} (or leave market_data out for the synthetic market)"
        ) from None
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    source: PublicSource = cls(settings)
    return source


class LiveFeed:
    """A :class:`MarketFeed` over a started :class:`PublicSource`."""

    def __init__(self, source: PublicSource) -> None:
        self._source = source
        self._markets: dict[str, Market] = {}
        self._books: dict[str, BookSnapshotEvent] = {}
        self._funding: dict[str, FundingRate] = {}
        self._streams: set[asyncio.Queue[MarketEvent]] = set()
        self._started = False

    @property
    def venue(self) -> str:
        return self._source.venue

    async def start(self) -> None:
        """Connect the source and wait until every market has a book and a funding rate."""
        if self._started:
            return
        markets = await self._source.start(self._receive)
        self._markets = dict(markets)
        missing = [s for s in self._markets if s not in self._books or s not in self._funding]
        if missing:
            await self._source.stop()
            raise VenueUnavailable(
                f"live market data: no book or funding yet for {', '.join(sorted(missing))}",
                venue=self.venue,
            )
        self._started = True

    async def stop(self) -> None:
        if self._started:
            self._started = False
            await self._source.stop()

    def _receive(self, event: MarketEvent) -> None:
        if isinstance(event, BookSnapshotEvent):
            self._books[event.symbol] = event
        elif isinstance(event, FundingEvent):
            self._funding[event.symbol] = event.rate
        elif isinstance(event, BookDeltaEvent):
            raise TypeError("live sources send whole books; deltas need an OrderBook here")
        for queue in self._streams:
            queue.put_nowait(event)

    # --- MarketFeed ------------------------------------------------------------------------

    def markets(self) -> dict[str, Market]:
        self._require_started()
        return dict(self._markets)

    def snapshot(self, symbol: str) -> BookSnapshotEvent:
        self._require_started()
        try:
            return self._books[symbol]
        except KeyError:
            raise UnknownSymbol(f"live feed has no {symbol!r}", venue=self.venue) from None

    def funding(self, symbol: str) -> FundingRate:
        self._require_started()
        try:
            return self._funding[symbol]
        except KeyError:
            raise UnknownSymbol(f"live feed has no {symbol!r}", venue=self.venue) from None

    async def events(self) -> AsyncIterator[MarketEvent]:
        self._require_started()
        queue: asyncio.Queue[MarketEvent] = asyncio.Queue()
        self._streams.add(queue)
        try:
            for symbol in sorted(self._markets):
                yield self._books[symbol]
            for symbol in sorted(self._markets):
                rate = self._funding[symbol]
                yield FundingEvent(rate)
            while True:
                yield await queue.get()
        finally:
            self._streams.discard(queue)

    def _require_started(self) -> None:
        if not self._started:
            raise VenueUnavailable("live market data is not started", venue=self.venue)


__all__ = [
    "LIVE_SOURCES",
    "LiveFeed",
    "LiveSourceSettings",
    "PublicSource",
    "public_source",
]
