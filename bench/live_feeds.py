"""Live public feeds for paper venues: what one venue depth message costs the source.

Each delta-book source (Binance-style, Backpack, Lighter) keeps the venue's book with the
venue's own code and, after every applied change, publishes the top ``book_depth`` levels
whole (what a paper venue matches against). Per depth message that is: apply the delta to the
kept book, read the top levels, convert them to internal units (the venue's quantity
multiplier) and build the snapshot event. Measured here straight into each source's message
handler, on a 500-level book started from the venue's fake, with ``book_depth`` 100 (default)
and 20; the sink only counts. Medians of many rounds, microseconds per message; the machine is
shared, so compare ratios, not absolute numbers.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from bench.harness import machine, report
from exchange_clients.backpack.public_feed import BackpackPublicSource
from exchange_clients.binance_style.public_feed import BinancePublicSource
from exchange_clients.lighter.public_feed import LighterPublicSource
from exchange_clients.market_data.events import MarketEvent
from exchange_clients.market_data.live import LiveSourceSettings
from testing.fakes.backpack import FakeBackpack
from testing.fakes.binance import FakeBinance
from testing.fakes.lighter import FakeLighter

D = Decimal
LEVELS = 500
MESSAGES = 2_000
ROUNDS = 5


def ladder(mid: Decimal, tick: Decimal, size: str) -> tuple[list[tuple[str, str]], ...]:
    bids = [(str(mid - tick * (i + 1)), size) for i in range(LEVELS)]
    asks = [(str(mid + tick * (i + 1)), size) for i in range(LEVELS)]
    return bids, asks


async def per_message(handle: Callable[[int], Awaitable[None] | None]) -> float:
    """Median seconds per message over ``ROUNDS`` rounds of ``MESSAGES`` messages."""
    counter = itertools.count()
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(MESSAGES):
            outcome = handle(next(counter))
            if outcome is not None:
                await outcome
        samples.append((time.perf_counter() - start) / MESSAGES)
    samples.sort()
    return samples[len(samples) // 2]


def size_of(n: int) -> str:
    return str(1 + n % 7)


async def binance(depth: int) -> float:
    async with FakeBinance() as fake:
        bids, asks = ladder(D("60000.0"), D("0.1"), "2")
        await fake.set_book("BTCUSDT", bids, asks)
        source = BinancePublicSource(
            LiveSourceSettings(
                symbols=("BTC",),
                base_url=fake.base_url,
                ws_url=fake.ws_url,
                extra={"book_depth": depth},
            )
        )
        published = await started(source)
        state = source.depth_stream.books.states["BTCUSDT"]
        last = state.book.sequence or 0

        def handle(n: int) -> None:
            first, final = last + 2 * n + 1, last + 2 * n + 2
            source.depth_stream._on_message(
                {
                    "e": "depthUpdate",
                    "s": "BTCUSDT",
                    "U": first,
                    "u": final,
                    "pu": first - 1,
                    "b": [[bids[n % 50][0], size_of(n)]],
                    "a": [],
                }
            )

        try:
            return await checked(handle, published)
        finally:
            await source.stop()


async def backpack(depth: int) -> float:
    async with FakeBackpack() as fake:
        bids, asks = ladder(D("60000.0"), D("0.1"), "2")
        await fake.set_book("BTC_USDC_PERP", bids, asks)
        source = BackpackPublicSource(
            LiveSourceSettings(
                symbols=("BTC",),
                base_url=fake.base_url,
                ws_url=fake.ws_url,
                extra={"book_depth": depth},
            )
        )
        published = await started(source)
        last = source.stream.books.states["BTC_USDC_PERP"].book.sequence or 0

        def handle(n: int) -> None:
            source.stream._on_message(
                {
                    "stream": "depth.BTC_USDC_PERP",
                    "data": {
                        "e": "depth",
                        "s": "BTC_USDC_PERP",
                        "U": last + n + 1,
                        "u": last + n + 1,
                        "b": [[bids[n % 50][0], size_of(n)]],
                        "a": [],
                    },
                }
            )

        try:
            return await checked(handle, published)
        finally:
            await source.stop()


async def lighter(depth: int) -> float:
    async with FakeLighter() as fake:
        bids, asks = ladder(D("60000.0"), D("0.1"), "0.2")
        await fake.set_book("BTC", [(D(p), D(s)) for p, s in bids], [(D(p), D(s)) for p, s in asks])
        source = LighterPublicSource(
            LiveSourceSettings(
                symbols=("BTC",),
                base_url=fake.base_url,
                ws_url=fake.ws_url,
                extra={"book_depth": depth},
            )
        )
        published = await started(source)
        market_id = fake.market("BTC").market_id
        last = fake.book_nonce[market_id]

        async def handle(n: int) -> None:
            await source._on_message(
                {
                    "type": "update/order_book",
                    "channel": f"order_book:{market_id}",
                    "order_book": {
                        "bids": [{"price": bids[n % 50][0], "size": size_of(n)}],
                        "asks": [],
                        "nonce": last + n + 1,
                        "begin_nonce": last + n,
                    },
                }
            )

        try:
            return await checked(handle, published)
        finally:
            await source.stop()


Source = BinancePublicSource | BackpackPublicSource | LighterPublicSource


async def started(source: Source) -> list[int]:
    published = [0]

    def sink(event: MarketEvent) -> None:
        published[0] += 1

    await source.start(sink)
    return published


async def checked(handle: Callable[[int], Any], published: list[int]) -> float:
    """Time ``handle`` and check every message was published (a gap would stop them)."""
    before = published[0]
    seconds = await per_message(handle)
    if published[0] - before < ROUNDS * MESSAGES:
        raise RuntimeError("messages were not all published: the bench's sequences are wrong")
    return seconds


async def run() -> None:
    for depth in (100, 20):
        for name, bench in (
            ("binance/aster", binance),
            ("backpack", backpack),
            ("lighter", lighter),
        ):
            seconds = await bench(depth)
            report(
                f"{name}: depth message -> top-{depth} snapshot",
                seconds,
                f"({1 / seconds:,.0f} msg/s, {LEVELS}-level book)",
            )


def main() -> None:
    sys.stdout.write(f"live_feeds ({machine()})\n")
    asyncio.run(run())


if __name__ == "__main__":
    main()
