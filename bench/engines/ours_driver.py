"""perpfleet's side of the engine comparison: ``l2_imbalance``, unchanged, in our backtest engine.

Run by :mod:`bench.backtest_engines` with the product's own Python, like the other engines'
drivers, so each engine is timed in a fresh process. The strategy is the registered
``l2_imbalance`` with the parameters the other drivers mirror: top ``levels`` levels, buy
above ``threshold`` bid/ask size, sell below ``1 / threshold``, entries at market (crossing
the spread), one position of ``order_notional_usd`` at most. It steps every 0.25 s of
simulated time, the recording's update period, so it reads the book after every update.
Its own exits (take-profit, stop-loss, time stop) and hard limits stay on - it runs exactly
as a bot would; the kill-switch limits are set out of reach so a losing day does not end
the run early (the run must cover every update to be compared).

What is timed is :func:`backtest.run.run_backtest` - the paper venue fed with the recorded
events, the execution layer with its journal in a scratch SQLite, the risk gate - not
:func:`load_dataset`'s validating pass over the file (the other engines' loading is not
timed either). That pass keeps the decoded events of a recording of up to
:data:`backtest.sources.recording.KEPT_LEVELS` book levels (the 3 h dataset) for the replay,
as the other engines hold theirs; a longer one (the 24 h dataset) is parsed again as it is
replayed, inside the timing.

``--count`` reads the file only: the number of updates (book snapshots and deltas) and level
changes, which the test compares with the other drivers'. Either mode prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from backtest.sources.recording import load_recording
from exchange_clients.market_data.events import BookDeltaEvent, BookSnapshotEvent


def count(path: Path) -> dict[str, Any]:
    updates = changes = 0
    for event in load_recording(path).events():
        if isinstance(event, BookSnapshotEvent | BookDeltaEvent):
            updates += 1
            changes += len(event.bids) + len(event.asks)
    return {"updates": updates, "changes": changes}


def config_document(
    venue: str, symbol: str, threshold: str, levels: int, notional: str
) -> dict[str, Any]:
    """The bot config the comparison runs: ``l2_imbalance`` trading ``symbol`` on ``venue``."""
    return {
        "name": "bench-l2-imbalance",
        "strategy": {
            "type": "l2_imbalance",
            "params": {
                "exchange": venue,
                "tickers": [symbol],
                "order_notional_usd": notional,
                "depth_levels": levels,
                "buy_ratio": threshold,
                "sell_ratio": str(round(1 / float(threshold), 6)),
                "maker_entry": False,
                "daily_loss_limit_usd": "1000000",
                "max_drawdown_usd": "1000000",
            },
        },
        "exchanges": {venue: {}},
        "risk": {"max_position_notional_usd": "1000000"},
        "control_api": {"enabled": False},
    }


async def _run(path: Path, document: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    import strategies  # noqa: F401 - registers every strategy's parameters
    from backtest.run import run_backtest
    from backtest.settings import BacktestSettings
    from backtest.sources.load import load_dataset
    from trading_config.loader import load_config

    with tempfile.TemporaryDirectory() as folder:
        config_path = Path(folder) / "bench.yml"
        config_path.write_text(yaml.safe_dump(document), encoding="utf-8")
        config = load_config(config_path)
    settings = BacktestSettings(data=(str(path),))
    dataset = await load_dataset(
        settings.data, list(config.exchanges), None, None, None, settings.book
    )
    start = time.perf_counter()
    result = await run_backtest(config, settings, dataset)
    seconds = time.perf_counter() - start
    return seconds, {
        "fills": len(result.fills),
        "steps": result.counters["steps"],
        "stopped_by": result.stopped_by,
    }


def run(path: Path, threshold: str, levels: int, notional: str) -> dict[str, Any]:
    from core.logging_setup import configure_logging

    configure_logging("ERROR")
    data = load_recording(path)
    symbol = next(iter(data.markets))
    seconds, details = asyncio.run(
        _run(path, config_document(data.venue, symbol, threshold, levels, notional))
    )
    updates = count(path)["updates"]
    return {
        "engine": "perpfleet",
        "updates": updates,
        **details,
        "seconds": seconds,
        "events_per_second": updates / seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path)
    parser.add_argument("--count", action="store_true")
    parser.add_argument("--threshold", default="3.0")
    parser.add_argument("--levels", type=int, default=5)
    parser.add_argument("--order-notional-usd", default="500")
    args = parser.parse_args()
    if args.count:
        result = count(args.data)
    else:
        result = run(args.data, args.threshold, args.levels, args.order_notional_usd)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
