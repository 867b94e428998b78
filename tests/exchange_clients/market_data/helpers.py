"""Driving feeds on a manual clock, and small statistics for the model tests."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
from collections.abc import Sequence
from datetime import UTC, datetime

from core.clock import ManualClock
from exchange_clients.market_data.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    MarketEvent,
    MarketFeed,
)
from exchange_clients.order_book import OrderBook

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


async def settle() -> None:
    """Let freshly created tasks run up to their first clock sleep."""
    for _ in range(10):
        await asyncio.sleep(0)


async def collect(
    feed: MarketFeed, clock: ManualClock, seconds: float, step: float = 0.25
) -> list[tuple[datetime, MarketEvent]]:
    """Every event one stream emits while the clock moves ``seconds`` on, with the clock
    time at which it was emitted."""
    received: list[tuple[datetime, MarketEvent]] = []

    async def consume() -> None:
        async for event in feed.events():
            received.append((clock.now(), event))

    task = asyncio.create_task(consume())
    await settle()
    for _ in range(round(seconds / step)):
        await clock.advance(step)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return received


def apply_to_books(events: Sequence[MarketEvent], books: dict[str, OrderBook]) -> None:
    """Apply book events the way a venue client does, sequence checks included."""
    for event in events:
        if isinstance(event, BookSnapshotEvent):
            book = books.setdefault(event.symbol, OrderBook(event.symbol))
            book.apply_snapshot(event.bids, event.asks, event.sequence)
        elif isinstance(event, BookDeltaEvent):
            applied = books[event.symbol].apply_update(
                event.bids,
                event.asks,
                first_sequence=event.first_sequence,
                last_sequence=event.last_sequence,
            )
            assert applied, f"stale delta {event}"


def log_returns(prices: Sequence[float]) -> list[float]:
    return [math.log(b / a) for a, b in itertools.pairwise(prices)]


def excess_kurtosis(values: Sequence[float]) -> float:
    n = len(values)
    mean = sum(values) / n
    variance = sum((v - mean) ** 2 for v in values) / n
    return sum((v - mean) ** 4 for v in values) / n / variance**2 - 3.0
