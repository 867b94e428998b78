"""A history feed over events held in memory reads a book out of them only when it is served:
at every moment of a replay (and after a restart) it serves what the feed that applies every
delta as it passes serves, for every symbol."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from backtest.clock import SimulatedClock
from backtest.sources.feed import HistoryFeed, VenueData
from backtest.sources.recording import load_recording
from exchange_clients.market_data.events import BookDeltaEvent, BookSnapshotEvent, MarketEvent
from exchange_clients.types import Market
from tests.backtest.helpers import record_session

D = Decimal


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> VenueData:
    path = tmp_path_factory.mktemp("data") / "paper.jsonl.gz"
    return load_recording(record_session(path, minutes=2, symbols="BTC,ETH"))


async def _served_along(data: VenueData, step: float) -> list[object]:
    """Every symbol's book served every ``step`` seconds of a replay, twice over."""
    symbols = sorted(data.markets)
    served: list[object] = []
    for _ in range(2):  # a second stream starts again from the first event
        clock = SimulatedClock(data.first_ts)
        feed = HistoryFeed(data, clock)
        served.append([feed.snapshot(s) for s in symbols])
        counted: list[MarketEvent] = []

        async def consume(feed: HistoryFeed = feed, counted: list[MarketEvent] = counted) -> None:
            async for event in feed.events():
                counted.append(event)

        task = asyncio.ensure_future(consume())
        while clock.now() < data.last_ts:
            await clock.advance_to(clock.now() + timedelta(seconds=step))
            served.append((len(counted), [feed.snapshot(s) for s in symbols]))
        await clock.settle()
        assert task.done()
        served.append(len(counted))
    return served


@pytest.mark.parametrize("step", [0.25, 1.0, 7.5])
def test_the_books_served_are_those_of_the_feed_applying_every_delta(
    data: VenueData, step: float
) -> None:
    assert data.kept is not None
    streamed = replace(data, kept=None)
    kept: list[MarketEvent] = list(data.events())
    assert list(streamed.events()) == kept
    ours = asyncio.run(_served_along(data, step))
    theirs = asyncio.run(_served_along(streamed, step))
    assert ours == theirs
    assert len(ours) > 20


def test_a_feed_started_later_serves_the_books_of_then(data: VenueData) -> None:
    streamed = replace(data, kept=None)
    for seconds in (0, 1, 30, 75, 119):
        at = data.first_ts + timedelta(seconds=seconds)
        ours = HistoryFeed(data, SimulatedClock(at))
        theirs = HistoryFeed(streamed, SimulatedClock(at))
        for symbol in sorted(data.markets):
            assert ours.snapshot(symbol) == theirs.snapshot(symbol)
            assert ours.snapshot(symbol) == theirs.snapshot(symbol)  # served twice: the same


def test_a_snapshot_in_the_middle_replaces_the_deltas_before_it() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    market = Market("BTC", "BTC", D("0.5"), D("0.01"), D("0.01"), D(0), D(20))

    def at(seconds: int) -> datetime:
        return start + timedelta(seconds=seconds)

    def delta(seconds: int, price: str, sequence: int) -> BookDeltaEvent:
        return BookDeltaEvent(
            "v", "BTC", at(seconds), ((D(price), D("4")),), (), sequence, sequence
        )

    events: tuple[MarketEvent, ...] = (
        BookSnapshotEvent("v", "BTC", at(0), ((D("99"), D("1")),), ((D("101"), D("1")),), 10),
        delta(1, "98", 11),
        BookSnapshotEvent("v", "BTC", at(2), ((D("90"), D("1")),), ((D("91"), D("1")),), 20),
        delta(3, "89", 21),
    )
    kept = VenueData("v", {"BTC": market}, lambda: iter(events), at(0), at(3), kept=events)
    streamed = replace(kept, kept=None)
    for seconds in range(4):
        ours = HistoryFeed(kept, SimulatedClock(at(seconds))).snapshot("BTC")
        assert ours == HistoryFeed(streamed, SimulatedClock(at(seconds))).snapshot("BTC")
    assert ours.bids == ((D("90"), D("1")), (D("89"), D("4")))
