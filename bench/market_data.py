"""What the synthetic market and recordings cost: per book, per feed step, per recorded event.

A paper venue samples every symbol every 0.25 s, so the feed step must stay far below 250 ms;
replays as fast as possible are bounded by decoding, so events per second is the figure there.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import machine, median_seconds, report
from core.clock import ManualClock
from exchange_clients.market_data import (
    FeedRecorder,
    MarketEvent,
    ReplayFeed,
    SyntheticFeed,
    SyntheticMarket,
)

START = datetime(2026, 3, 2, 12, tzinfo=UTC)
FEED_SECONDS = 60


def _sequential(call: Callable[[datetime], object]) -> float:
    """Median cost of one call at times 0.25 s apart (caches warm, as in a feed)."""
    times = [START + timedelta(seconds=0.25 * k) for k in range(400)]
    return median_seconds(lambda: [call(t) for t in times], rounds=7) / len(times)


def _random_book(market: SyntheticMarket) -> float:
    """A book at unrelated times: no cached knots or levels (a backtest jumping around)."""
    times = [START + timedelta(seconds=7919.123 * k) for k in range(200)]
    return median_seconds(lambda: [market.book("BTC", t) for t in times], rounds=5) / len(times)


async def _stream(seconds: int) -> list[MarketEvent]:
    clock = ManualClock(START)
    events: list[MarketEvent] = []

    async def consume() -> None:
        async for event in SyntheticFeed(SyntheticMarket(1, "paper_a"), clock).events():
            events.append(event)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    for _ in range(seconds * 4):
        await clock.advance(0.25)
    task.cancel()
    return events


async def _replay(path: Path) -> int:
    return sum([1 async for _ in ReplayFeed(path, ManualClock(START), speed=None).events()])


def main() -> None:
    sys.stdout.write(f"market data ({machine()})\n")
    market = SyntheticMarket(1, "paper_a")
    calls: dict[str, Callable[[datetime], object]] = {
        "mid": lambda t: market.mid("BTC", t),
        "book": lambda t: market.book("BTC", t),
        "trades": lambda t: market.trades("BTC", t, t + timedelta(seconds=0.25)),
        "funding": lambda t: market.funding_rate("BTC", t),
    }
    for name, call in calls.items():
        report(f"synthetic {name} (BTC, 0.25 s after the last)", _sequential(call))
    report("synthetic book (BTC, unrelated times)", _random_book(market))

    events = asyncio.run(_stream(FEED_SECONDS))
    feed_step = median_seconds(lambda: asyncio.run(_stream(FEED_SECONDS)), rounds=3)
    report(
        "feed step, 4 symbols (incl. ManualClock)",
        feed_step / (FEED_SECONDS * 4),
        f"{len(events) / FEED_SECONDS:.0f} events/s of market time",
    )

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.jsonl.gz"

        def write() -> None:
            with FeedRecorder(path, "paper_a", market.markets()) as recorder:
                for event in events:
                    recorder.write(event)

        per_event = median_seconds(write, rounds=5) / len(events)
        report("record one event (encode + gzip)", per_event)
        size = path.stat().st_size
        report(
            "replay one event as fast as possible (decode)",
            median_seconds(lambda: asyncio.run(_replay(path)), rounds=5) / len(events),
            f"{size / FEED_SECONDS * 60 / 1024:.0f} KiB on disk per minute of market time",
        )


if __name__ == "__main__":
    main()
