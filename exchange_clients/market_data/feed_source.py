"""A :class:`MarketFeed` served as a :class:`PublicSource`: recorded data pushed like live data.

A consumer written for a venue's live public stream (the candle collector builds candles from
the trades it pushes) can then read a backtest's history unchanged: the feed's events go to the
sink as the feed yields them, on the feed's clock (the backtest's simulated one). The inverse
of :class:`~exchange_clients.market_data.live.LiveFeed`.

Each :meth:`FeedSource.start` opens a fresh stream of the feed (``events()`` starts anew on
every call, from the feed clock's present), so a consumer's reconnect works as against a venue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

from core.logging_setup import get_logger
from exchange_clients.market_data.events import MarketFeed
from exchange_clients.market_data.live import Sink
from exchange_clients.types import Market

log = get_logger(__name__)


class FeedSource:
    """Pushes one feed's events into the sink given to :meth:`start`, until :meth:`stop`."""

    def __init__(self, feed: MarketFeed) -> None:
        self._feed = feed
        self.venue = feed.venue
        self._pump: asyncio.Task[None] | None = None

    async def start(self, sink: Sink) -> dict[str, Market]:
        if self._pump is not None:
            raise RuntimeError(f"the {self.venue} feed source is started already")
        self._pump = asyncio.create_task(self._push(sink), name=f"feed-source-{self.venue}")
        return self._feed.markets()

    async def _push(self, sink: Sink) -> None:
        events = self._feed.events()
        try:
            async for event in events:
                sink(event)
        except Exception as exc:  # said now: the consumer may only notice the silence
            log.error("feed source failed", venue=self.venue, error=repr(exc))
            raise
        finally:
            if isinstance(events, AsyncGenerator):  # the feed may hold a file open
                await events.aclose()

    async def stop(self) -> None:
        pump, self._pump = self._pump, None
        if pump is None:
            return
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
