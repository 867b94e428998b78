"""hftbacktest's side of the engine comparison: its compiled loop on our exported L2 updates.

Run by :mod:`bench.backtest_engines` with the benchmark environment's Python (hftbacktest is
never a product dependency), as hftbacktest is meant to be used: the strategy is a numba
``njit`` function driving ``HashMapMarketDepthBacktest``. On each update (``wait_next_feed``)
it reads the top ``levels`` levels of each side, and when bid size over ask size is above
``threshold`` (below ``1 / threshold``) buys (sells) ``order_size`` with an IOC limit order at
the far touch - crossing the spread - unless the position already holds ``max_position``.

``--count`` reads the file only (numpy, no hftbacktest): the number of updates and level
changes, which the test compares with the other drivers'. Either mode prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np

# What bench/engines/export.py writes; checked against the installed engine before a run.
EXPECTED_FLAGS = {
    "DEPTH_EVENT": 1,
    "EXCH_EVENT": 1 << 31,
    "LOCAL_EVENT": 1 << 30,
    "BUY_EVENT": 1 << 29,
    "SELL_EVENT": 1 << 28,
}


def count(path: str) -> dict[str, Any]:
    data = np.load(path)["data"]
    return {"updates": len(np.unique(data["ival"])), "changes": len(data)}


def run(
    path: str,
    threshold: float,
    levels: int,
    order_size: float,
    max_position: float,
    tick: float,
    lot: float,
) -> dict[str, Any]:
    import hftbacktest  # type: ignore[import-not-found]
    from hftbacktest import (
        BacktestAsset,
        HashMapMarketDepthBacktest,
    )
    from numba import njit  # type: ignore[import-not-found]

    for name, value in EXPECTED_FLAGS.items():
        if getattr(hftbacktest, name) != value:
            raise SystemExit(
                f"hftbacktest {name} is {getattr(hftbacktest, name)}, the export wrote {value}"
            )
    from hftbacktest.order import IOC, LIMIT  # type: ignore[import-not-found]

    data = np.load(path)["data"]

    def backtest_of(rows: Any) -> Any:
        asset = (
            BacktestAsset()
            .data([rows])
            .linear_asset(1.0)
            .constant_order_latency(0, 0)
            .risk_adverse_queue_model()
            .no_partial_fill_exchange()
            .trading_value_fee_model(0.0002, 0.0005)
            .tick_size(tick)
            .lot_size(lot)
        )
        return HashMapMarketDepthBacktest([asset])

    @njit  # type: ignore[untyped-decorator]
    def strategy(
        hbt: Any, threshold: float, levels: int, size: float, cap: float
    ) -> tuple[int, int]:
        max_scan = 1_000  # ticks walked from the touch for ``levels`` levels (ours span ~30)
        updates = 0
        orders = 0
        order_id = 0
        while hbt.wait_next_feed(False, 1_000_000_000_000) != 1:
            updates += 1
            depth = hbt.depth(0)
            best_bid = depth.best_bid_tick
            best_ask = depth.best_ask_tick
            bids = 0.0
            asks = 0.0
            found = 0
            tick_ = best_bid
            while found < levels and tick_ > best_bid - max_scan:
                qty = depth.bid_qty_at_tick(tick_)
                if qty > 0:
                    bids += qty
                    found += 1
                tick_ -= 1
            found = 0
            tick_ = best_ask
            while found < levels and tick_ < best_ask + max_scan:
                qty = depth.ask_qty_at_tick(tick_)
                if qty > 0:
                    asks += qty
                    found += 1
                tick_ += 1
            if bids <= 0 or asks <= 0:
                continue
            position = hbt.position(0)
            ratio = bids / asks
            if ratio > threshold and position < cap:
                order_id += 1
                orders += 1
                hbt.submit_buy_order(0, order_id, depth.best_ask, size, IOC, LIMIT, False)
            elif ratio < 1.0 / threshold and position > -cap:
                order_id += 1
                orders += 1
                hbt.submit_sell_order(0, order_id, depth.best_bid, size, IOC, LIMIT, False)
            hbt.clear_inactive_orders(0)
        return updates, orders

    warm_up = backtest_of(data[:1000].copy())  # numba compiles on the first call: not timed
    strategy(warm_up, threshold, levels, order_size, max_position)
    warm_up.close()
    backtest = backtest_of(data)
    start = time.perf_counter()
    callbacks, orders = strategy(backtest, threshold, levels, order_size, max_position)
    seconds = time.perf_counter() - start
    updates = count(path)["updates"]
    position = float(backtest.position(0))
    backtest.close()
    return {
        "engine": "hftbacktest",
        "version": hftbacktest.__version__ if hasattr(hftbacktest, "__version__") else "",
        "updates": updates,
        "callbacks": callbacks,  # the first update is applied before the first wait returns
        "orders": orders,
        "position": position,
        "seconds": seconds,
        "events_per_second": updates / seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data")
    parser.add_argument("--count", action="store_true")
    parser.add_argument("--threshold", type=float, default=3.0)
    parser.add_argument("--levels", type=int, default=5)
    parser.add_argument("--order-size", type=float, default=0.008)
    parser.add_argument("--max-position", type=float, default=0.008)
    parser.add_argument("--tick-size", type=float, default=1.0)
    parser.add_argument("--lot-size", type=float, default=0.001)
    args = parser.parse_args()
    if args.count:
        result = count(args.data)
    else:
        result = run(
            args.data,
            args.threshold,
            args.levels,
            args.order_size,
            args.max_position,
            args.tick_size,
            args.lot_size,
        )
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
