"""nautilus_trader's side of the engine comparison: a Python Strategy on OrderBookDelta data.

Run by :mod:`bench.backtest_engines` with the benchmark environment's Python (nautilus_trader
is never a product dependency). The exported CSV rows become ``OrderBookDelta`` objects (not
timed), fed to a ``BacktestEngine`` with an L2 (MBP) simulated venue; the data engine buffers
each update's deltas up to its ``F_LAST`` row and the strategy's ``on_order_book_deltas`` runs
once per update. There it reads the top ``levels`` levels of the engine-maintained book, and
when bid size over ask size is above ``threshold`` (below ``1 / threshold``) buys (sells)
``order_size`` at market - crossing the spread - unless the position already holds
``max_position``. Only ``engine.run()`` is timed.

``--count`` reads the file only (csv, no nautilus_trader): the number of updates (``F_LAST``
rows) and level changes, which the test compares with the other drivers'. Either mode prints
one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from decimal import Decimal
from typing import Any

F_LAST = 128  # what bench/engines/export.py writes; checked against the installed engine
ACTIONS = {"1": "ADD", "2": "UPDATE", "3": "DELETE"}
SIDES = {"1": "BUY", "2": "SELL"}


def count(path: str) -> dict[str, Any]:
    updates = changes = 0
    with open(path, newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            changes += 1
            updates += int(row["flags"]) == F_LAST
    return {"updates": updates, "changes": changes}


def run(
    path: str,
    threshold: float,
    levels: int,
    order_size: str,
    max_position: str,
) -> dict[str, Any]:
    import nautilus_trader  # type: ignore[import-not-found]
    from nautilus_trader.backtest.engine import (  # type: ignore[import-not-found]
        BacktestEngine,
        BacktestEngineConfig,
    )
    from nautilus_trader.config import (  # type: ignore[import-not-found]
        DataEngineConfig,
        LoggingConfig,
        StrategyConfig,
    )
    from nautilus_trader.model.data import (  # type: ignore[import-not-found]
        BookOrder,
        OrderBookDelta,
        OrderBookDeltas,
    )
    from nautilus_trader.model.enums import (  # type: ignore[import-not-found]
        AccountType,
        BookAction,
        BookType,
        OmsType,
        OrderSide,
        RecordFlag,
    )
    from nautilus_trader.model.identifiers import Venue  # type: ignore[import-not-found]
    from nautilus_trader.model.objects import Money  # type: ignore[import-not-found]
    from nautilus_trader.test_kit.providers import (  # type: ignore[import-not-found]
        TestInstrumentProvider,
    )
    from nautilus_trader.trading.strategy import Strategy  # type: ignore[import-not-found]

    if int(RecordFlag.F_LAST) != F_LAST:
        raise SystemExit(
            f"nautilus_trader F_LAST is {int(RecordFlag.F_LAST)}, the export wrote 128"
        )

    instrument = TestInstrumentProvider.btcusdt_perp_binance()
    deltas: list[Any] = []
    with open(path, newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            ts = int(row["ts_ns"])
            deltas.append(
                OrderBookDelta(
                    instrument.id,
                    getattr(BookAction, ACTIONS[row["action"]]),
                    BookOrder(
                        getattr(OrderSide, SIDES[row["side"]]),
                        instrument.make_price(float(row["price"])),
                        instrument.make_qty(float(row["size"])),
                        0,
                    ),
                    int(row["flags"]),
                    int(row["sequence"]),
                    ts,
                    ts,
                )
            )

    class ImbalanceConfig(StrategyConfig, frozen=True):  # type: ignore[misc,call-arg]
        threshold: float
        levels: int
        order_size: str
        max_position: str

    class Imbalance(Strategy):  # type: ignore[misc]
        def __init__(self, config: ImbalanceConfig) -> None:
            super().__init__(config)
            self.updates = 0
            self.orders = 0
            self.size = instrument.make_qty(Decimal(config.order_size))
            self.cap = float(config.max_position)
            self.net = 0.0

        def on_start(self) -> None:
            self.subscribe_order_book_deltas(instrument.id, BookType.L2_MBP)

        def on_order_book_deltas(self, update: OrderBookDeltas) -> None:
            self.updates += 1
            book = self.cache.order_book(instrument.id)
            bids = sum(level.size() for level in book.bids()[: self.config.levels])
            asks = sum(level.size() for level in book.asks()[: self.config.levels])
            if bids <= 0 or asks <= 0:
                return
            ratio = bids / asks
            position = self.portfolio.net_position(instrument.id)
            net = float(position)
            if ratio > self.config.threshold and net < self.cap:
                side = OrderSide.BUY
            elif ratio < 1 / self.config.threshold and net > -self.cap:
                side = OrderSide.SELL
            else:
                return
            if self.cache.orders_inflight(strategy_id=self.id):
                return
            self.orders += 1
            self.submit_order(self.order_factory.market(instrument.id, side, self.size))

    engine = BacktestEngine(
        BacktestEngineConfig(
            logging=LoggingConfig(log_level="ERROR"),
            data_engine=DataEngineConfig(buffer_deltas=True),
        )
    )
    engine.add_venue(
        Venue("BINANCE"),
        OmsType.NETTING,
        AccountType.MARGIN,
        [Money(1_000_000, instrument.quote_currency)],
        book_type=BookType.L2_MBP,
    )
    engine.add_instrument(instrument)
    engine.add_data(deltas)
    strategy = Imbalance(
        ImbalanceConfig(
            threshold=threshold,
            levels=levels,
            order_size=order_size,
            max_position=max_position,
        )
    )
    engine.add_strategy(strategy)
    start = time.perf_counter()
    engine.run()
    seconds = time.perf_counter() - start
    position = float(strategy.portfolio.net_position(instrument.id))
    engine.dispose()
    updates = count(path)["updates"]
    return {
        "engine": "nautilus_trader",
        "version": nautilus_trader.__version__,
        "updates": updates,
        "callbacks": strategy.updates,
        "orders": strategy.orders,
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
    parser.add_argument("--order-size", default="0.008")
    parser.add_argument("--max-position", default="0.008")
    args = parser.parse_args()
    if args.count:
        result = count(args.data)
    else:
        result = run(args.data, args.threshold, args.levels, args.order_size, args.max_position)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
