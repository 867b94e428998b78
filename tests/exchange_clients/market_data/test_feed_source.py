"""A feed served as a public source pushes exactly the feed's stream, and restarts it fresh."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.clock import ManualClock
from exchange_clients.market_data.events import BookSnapshotEvent, MarketEvent, TradeEvent
from exchange_clients.market_data.feed_source import FeedSource
from exchange_clients.market_data.synthetic import SyntheticFeed, SyntheticMarket
from tests.exchange_clients.market_data.helpers import START, collect, settle


async def test_the_sink_receives_the_feeds_own_stream_in_order() -> None:
    clock = ManualClock(START)
    market = SyntheticMarket(5, "paper")
    source = FeedSource(SyntheticFeed(market, clock))
    pushed: list[MarketEvent] = []
    markets = await source.start(pushed.append)
    assert markets == market.markets()
    assert source.venue == "paper"
    await settle()
    for _ in range(40):
        await clock.advance(0.25)
    await source.stop()
    # The same 10 s read straight from a stream of the same market: identical events.
    other = ManualClock(START)
    expected = [event for _, event in await collect(SyntheticFeed(market, other), other, 10)]
    assert pushed == expected
    assert any(isinstance(event, TradeEvent) for event in pushed)
    stamps = [event.ts for event in pushed]
    assert stamps == sorted(stamps)
    count = len(pushed)
    await clock.advance(5)
    assert len(pushed) == count  # stopped: nothing more


async def test_a_restart_opens_a_fresh_stream_from_the_clocks_present() -> None:
    clock = ManualClock(START)
    market = SyntheticMarket(5, "paper")
    source = FeedSource(SyntheticFeed(market, clock))
    first: list[MarketEvent] = []
    await source.start(first.append)
    await settle()
    await clock.advance(3)
    await source.stop()
    again: list[MarketEvent] = []
    await source.start(again.append)
    await settle()
    await source.stop()
    assert isinstance(again[0], BookSnapshotEvent)
    assert again[0].ts == clock.now()


async def test_a_failing_feed_is_raised_at_stop() -> None:
    class Broken(SyntheticFeed):
        async def events(self) -> AsyncIterator[MarketEvent]:
            yield self.snapshot("BTC")
            raise OSError("the recording is truncated")

    source = FeedSource(Broken(SyntheticMarket(5, "paper"), ManualClock(START)))
    pushed: list[MarketEvent] = []
    await source.start(pushed.append)
    await settle()
    assert len(pushed) == 1
    with pytest.raises(OSError, match="truncated"):
        await source.stop()


async def test_starting_twice_is_refused() -> None:
    source = FeedSource(SyntheticFeed(SyntheticMarket(5, "paper"), ManualClock(START)))
    await source.start(lambda event: None)
    with pytest.raises(RuntimeError, match="started already"):
        await source.start(lambda event: None)
    await source.stop()
