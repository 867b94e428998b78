"""Tick to order from the WebSocket frame: the venue sends a depth update -> the scalper's order
is handed to the paper venue.

The scalper trades on paper venues; on real markets its paper venue follows a venue's public
data (``market_data: source: binance``). So this is the whole live path: the fake Binance, in
a process of its own, writes a ``depthUpdate`` frame to the WebSocket and stamps the moment
its send returned (``time.perf_counter`` is the system-wide monotonic clock on Linux, the same
in both processes); the bot's Binance public source reads the frame, applies it to the book it
keeps the venue's way, publishes the top ``book_depth`` levels; the paper venue applies them;
the strategy steps on the book change as its bot does (the runtime's equity check, the step)
and its entry is stamped when handed to the venue's ``place_order`` (ids committed ahead, as
the runtime runs it). In a stream: every 10 ms a non-signalling update between the samples.

The child: ``python -m bench.tick_to_order_ws --venue`` prints ``READY <base url> <ws url>``,
then for each line ``<bid size>`` on stdin sets the best bid's size and prints ``SENT <stamp>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from decimal import Decimal
from typing import Any

from bench.tick_to_order import SETTLE_SECONDS, STREAM_INTERVAL, WARMUP, build_rig, hold, l2_config

SYMBOL = "BTCUSDT"
SAMPLES = 300
LEVELS = 20
TICK = Decimal("0.1")
MID = Decimal("60000.0")


def _book(best_bid: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    bids = [(str(MID - TICK * (n + 1)), best_bid if n == 0 else "1") for n in range(LEVELS)]
    asks = [(str(MID + TICK * n), "1") for n in range(LEVELS)]
    return bids, asks


async def venue() -> None:
    """The child: a fake Binance whose depth frames are stamped when sent."""
    from networking.json_codec import dumps
    from testing.fakes.binance import FakeBinance

    async with FakeBinance() as fake:
        await fake.set_book(SYMBOL, *_book("1"))
        sent: list[float] = []

        async def stamped(conn: Any, stream: str, event: Any) -> None:
            # As the fake sends, stamped once the frame's text is made and before it is
            # written: the bot may read it before this process runs again, so a stamp after
            # the write could come after the order (the write's own cost is counted ours).
            payload = {"stream": stream, "data": event} if conn.combined else event
            text = dumps(payload)
            if not conn.ws.closed:
                if stream.endswith("@depth@100ms"):
                    sent.append(time.perf_counter())
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await conn.ws.send_str(text)

        fake._send = stamped  # type: ignore[method-assign]
        print(f"READY {fake.base_url} {fake.ws_url}", flush=True)
        while line := await asyncio.to_thread(sys.stdin.readline):
            sent.clear()
            await fake.set_book(SYMBOL, *_book(line.strip()))
            print(f"SENT {sent[-1] if sent else 0.0!r}", flush=True)


async def ws_bench(url: str, *, stream: bool, depth: int | None = None) -> tuple[list[float], int]:
    """(paths from the frame's send to the order handed to the paper venue, entries taken
    under an id committed ahead); ``depth``: the levels the source publishes (default: its
    own, what a bot gets)."""
    from exchange_clients.market_data.live import LiveFeed, LiveSourceSettings, public_source

    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.tick_to_order_ws",
        "--venue",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    stdin, stdout = child.stdin, child.stdout
    try:
        ready = (await stdout.readline()).decode().split()
        if not ready or ready[0] != "READY":
            raise SystemExit("the fake venue did not start: benchmark setup is wrong")
        settings = LiveSourceSettings(
            symbols=("BTC",),
            base_url=ready[1],
            ws_url=ready[2],
            extra={} if depth is None else {"book_depth": depth},
        )
        feed = LiveFeed(public_source("binance", settings))
        name = "bench-tick-ws-" + ("stream" if stream else "silence")
        # Binance's BTC minimum notional is 100 USD: an entry of 500 stays above it once rounded.
        rig = await build_rig(url, l2_config(name, 500), dedicated=True, feed=feed)
        return await _samples(rig, stdin, stdout, stream)
    finally:
        stdin.close()
        if child.returncode is None:
            child.kill()
        await child.wait()


async def _samples(
    rig: Any, stdin: asyncio.StreamWriter, stdout: asyncio.StreamReader, stream: bool
) -> tuple[list[float], int]:
    from execution.order_executor import ExecutionRequest

    client, journal, strategy, risk = rig.client, rig.journal, rig.strategy, rig.risk
    paths: list[float] = []
    taken = 0

    async def step_on(bid_size: str) -> float:
        """The venue sends the update; the bot steps as its loop does; when it was sent."""
        stdin.write(f"{bid_size}\n".encode())
        await stdin.drain()
        await strategy.wait_next_step(hold)
        risk.update_equity((await client.balance()).equity)
        async with strategy.step_lock:
            if await strategy.should_execute():
                await strategy.execute_strategy()
        return float((await stdout.readline()).split()[1])

    try:
        await strategy.start()
        await strategy.execute_strategy()
        if "BTC" in strategy.trades:
            raise SystemExit("the opening book already signals: benchmark setup is wrong")
        for sample in range(WARMUP + SAMPLES):
            placed_before, taken_before = len(client.placed), journal.taken
            sent = await step_on(str(1000 + sample % 2))  # a wall on the bid
            if len(client.placed) <= placed_before or "BTC" not in strategy.trades:
                raise SystemExit("the scalper did not enter: benchmark setup is wrong")
            if sample >= WARMUP:
                paths.append(client.placed[placed_before] - sent)
                taken += journal.taken - taken_before
            position = await client.position("BTC")
            assert position is not None
            await strategy.close_position("paper", ExecutionRequest.closing(position, "bench"))
            await strategy.save_state()
            await rig.stack.trackers["paper"].flush()
            for update in range(round(SETTLE_SECONDS / STREAM_INTERVAL) if stream else 0):
                await asyncio.sleep(STREAM_INTERVAL)
                await step_on("1" if update % 2 else "1.1")
                if "BTC" in strategy.trades:
                    raise SystemExit("a stream update signalled: benchmark setup is wrong")
            if not stream:
                await asyncio.sleep(SETTLE_SECONDS)
    finally:
        await rig.close()
    return paths, taken


if __name__ == "__main__" and sys.argv[1:] == ["--venue"]:
    asyncio.run(venue())
