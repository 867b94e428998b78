"""The synthetic feed streams the market on a time grid, driven by a manual clock."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from core.clock import ManualClock
from exchange_clients.market_data.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    FundingEvent,
    MarketEvent,
    TradeEvent,
)
from exchange_clients.market_data.synthetic import SyntheticFeed, SyntheticMarket
from exchange_clients.order_book import OrderBook
from tests.exchange_clients.market_data.helpers import START, apply_to_books, collect

STEP = timedelta(seconds=0.25)


def _feed(
    seed: int = 17, venue: str = "paper_a", start: datetime = START
) -> tuple[SyntheticFeed, ManualClock]:
    clock = ManualClock(start)
    return SyntheticFeed(SyntheticMarket(seed, venue), clock), clock


async def test_a_stream_opens_with_a_snapshot_then_funding_per_symbol() -> None:
    feed, clock = _feed(start=START + timedelta(seconds=0.1))  # between two grid points
    market = feed.market
    events = [event for _, event in await collect(feed, clock, 0)]
    symbols = market.symbols
    assert events[: len(symbols)] == [market.book(s, START) for s in symbols]
    assert events[len(symbols) :] == [FundingEvent(market.funding_rate(s, START)) for s in symbols]


async def test_deltas_rebuild_every_sampled_book_exactly() -> None:
    feed, clock = _feed()
    received = await collect(feed, clock, 120)
    books: dict[str, OrderBook] = {}
    deltas = 0
    for _, event in received:
        apply_to_books([event], books)
        if isinstance(event, BookDeltaEvent):
            deltas += 1
            expected = feed.market.book(event.symbol, event.ts)
            bids, asks = books[event.symbol].depth(100)
            assert (tuple(bids), tuple(asks)) == (expected.bids, expected.asks)
            assert event.last_sequence == expected.sequence
    assert deltas > 120 * 4 * 2  # BTC and ETH change at nearly every step


async def test_events_are_emitted_on_the_grid_in_time_order() -> None:
    feed, clock = _feed()
    received = await collect(feed, clock, 30)
    stamps = [event.ts for _, event in received]
    assert stamps == sorted(stamps)
    btc_deltas = []
    for emitted_at, event in received:
        if isinstance(event, TradeEvent):
            assert emitted_at - STEP <= event.ts < emitted_at
        else:
            assert emitted_at == event.ts
            assert (event.ts - START) % STEP == timedelta(0)
        if isinstance(event, BookDeltaEvent) and event.symbol == "BTC":
            btc_deltas.append(event.ts)
    assert len(btc_deltas) > 100


async def test_the_streams_trades_are_the_markets_trades() -> None:
    feed, clock = _feed()
    received = await collect(feed, clock, 60)
    for symbol in feed.market.symbols:
        streamed = [e for _, e in received if isinstance(e, TradeEvent) and e.symbol == symbol]
        assert streamed == feed.market.trades(symbol, START, START + timedelta(seconds=60))


async def test_funding_is_republished_every_minute() -> None:
    feed, clock = _feed(venue="paper_b")
    received = await collect(feed, clock, 180)
    funding = [e for _, e in received if isinstance(e, FundingEvent)]
    minutes = [START + timedelta(minutes=m) for m in range(4)]
    symbols = feed.market.symbols
    assert [(e.ts, e.symbol) for e in funding] == [(t, s) for t in minutes for s in symbols]
    for event in funding:
        assert event.rate == feed.market.funding_rate(event.symbol, event.ts)


async def test_two_feeds_on_one_seed_stream_identical_events() -> None:
    feeds = [_feed(seed=5), _feed(seed=5), _feed(seed=6)]
    events = [[e for _, e in await collect(feed, clock, 20)] for feed, clock in feeds]
    assert events[0] == events[1]
    assert len(events[0]) > 100
    assert events[2] != events[0]


async def test_snapshot_and_funding_answer_for_now() -> None:
    feed, clock = _feed()
    await clock.advance(7.3)
    now = START + timedelta(seconds=7.25)
    assert feed.snapshot("SOL") == feed.market.book("SOL", now)
    assert feed.funding("SOL") == feed.market.funding_rate("SOL", now)
    assert feed.markets() == feed.market.markets()
    assert feed.venue == "paper_a"


class _LaggingClock:
    """Oversleeps every sleep by 0.6 s, like a loop stuck behind slow work."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds + 0.6)
        await asyncio.sleep(0)


async def test_a_stream_that_falls_behind_misses_no_trade_and_no_change() -> None:
    clock = _LaggingClock(START)
    feed = SyntheticFeed(SyntheticMarket(17, "paper_a"), clock)
    events: list[MarketEvent] = []
    async for event in feed.events():
        events.append(event)
        if clock.now() > START + timedelta(seconds=60):
            break
    books: dict[str, OrderBook] = {}
    apply_to_books(events, books)
    last = max(e.ts for e in events if isinstance(e, BookDeltaEvent))
    assert last > START + timedelta(seconds=59)
    for symbol, book in books.items():
        expected = feed.market.book(symbol, last)
        assert book.depth(100) == (list(expected.bids), list(expected.asks))
        # (The loop stopped part-way through the step after ``last``.)
        streamed = [
            e for e in events if isinstance(e, TradeEvent) and e.symbol == symbol and e.ts < last
        ]
        assert streamed == feed.market.trades(symbol, START, last)
    snapshots = [e for e in events if isinstance(e, BookSnapshotEvent)]
    assert len(snapshots) == len(books)  # no resync was needed


def test_step_must_be_whole_milliseconds() -> None:
    market = SyntheticMarket(1)
    for step in (0.0005, 0.0015, 0):
        with pytest.raises(ValueError, match="whole number of milliseconds"):
            SyntheticFeed(market, ManualClock(START), step_seconds=step)
