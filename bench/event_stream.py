"""Fill to stream subscriber: a fill on the paper venue -> the control API's WebSocket client.

The real runtime (:class:`bot_runtime.runtime.BotRuntime`, started in this process with its
control API on loopback and the live-stream feed) on a paper venue over the synthetic market;
a real WebSocket client (``websockets``) subscribed to ``/api/v1/stream`` with the token. Per
sample, a small market order goes through the bot's own executor (journaled); the moment the
paper venue hands out the fill (a subscriber on the venue client's fill stream, the same
fan-out the feed reads) is stamped, and so is the moment the client holds the ``fill`` message
with that fill id. Client, server and bot share one event loop (one core), as they would
share a small machine. Target: p99 <= 50 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import websockets

from bench.databases import on_each_database
from bench.harness import machine, percentiles
from core.logging_setup import configure_logging

SAMPLES = 200
WARMUP = 10
TOKEN = "bench-stream-token-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105 (a local bench)
CONFIG = """\
name: bench-stream
strategy:
  type: l2_imbalance
  params:
    exchange: paper
    tickers: [BTC]
    order_notional_usd: 100
    daily_loss_limit_usd: 1000
    max_drawdown_usd: 1000
exchanges:
  paper: {}
"""


async def bench(url: str) -> None:
    from bot_runtime.runtime import BotRuntime, RuntimeOptions
    from exchange_clients.types import Fill, Side
    from execution.order_executor import ExecutionMode, ExecutionRequest
    from trading_config.loader import load_config

    os.environ["DATABASE_URL"] = url
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yml"
        path.write_text(CONFIG)
        runtime = BotRuntime(
            load_config(path),
            RuntimeOptions(str(path), control_api=True, control_token=TOKEN),
        )
        await runtime.start()  # the control API and the stream's feed; no strategy loop
        assert runtime.stack is not None
        client = runtime.clients["paper"]
        executor = runtime.stack.executors["paper"]
        emitted: dict[str, float] = {}
        received: dict[str, float] = {}

        async def stamp_fills() -> None:
            async with client.fills() as fills:
                async for fill in fills:
                    stamp(fill)

        measuring = False

        def stamp(fill: Fill) -> None:
            if measuring:
                emitted.setdefault(fill.fill_id, time.perf_counter())

        stamper = asyncio.create_task(stamp_fills())
        ws_url = f"ws://127.0.0.1:{runtime.control_server.port}/api/v1/stream"
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with websockets.connect(ws_url, additional_headers=headers) as ws:

            async def read() -> None:
                async for raw in ws:
                    at = time.perf_counter()
                    message = json.loads(raw)
                    if message["type"] == "fill":
                        received[message["data"]["fill_id"]] = at

            reader = asyncio.create_task(read())
            await asyncio.sleep(0.2)
            try:
                for sample in range(WARMUP + SAMPLES):
                    measuring = sample >= WARMUP
                    side: Side = "buy" if sample % 2 == 0 else "sell"
                    await executor.execute(
                        ExecutionRequest("BTC", side, Decimal("0.001"), ExecutionMode.MARKET)
                    )
                deadline = time.monotonic() + 10
                while any(i not in received for i in emitted) and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)  # the last frames in flight
            finally:
                reader.cancel()
                stamper.cancel()
        await runtime.shutdown()
    latencies = [received[i] - at for i, at in emitted.items() if i in received]
    if len(latencies) < SAMPLES:
        raise SystemExit(f"only {len(latencies)} of {SAMPLES} fills reached the subscriber")
    p50, p99 = percentiles(latencies)
    sys.stdout.write(
        f"  {'fill on the paper venue -> stream subscriber':<52} "
        f"p50 {p50 * 1e3:6.2f} ms  p99 {p99 * 1e3:6.2f} ms  ({len(latencies)} fills)\n"
    )


def main() -> None:
    sys.stdout.write(f"event stream: fill to subscriber ({machine()}; target p99 <= 50 ms)\n")
    configure_logging(level="WARNING", stream=sys.stderr)
    on_each_database(bench)


if __name__ == "__main__":
    main()
