"""How many order operations per second the paper venue's matching engine handles.

A seeded workload on the synthetic BTC book (20 levels a side): each cycle places a passive
limit order 1-10 ticks behind the touch, cancels one of the ~50 resting orders, and sends a
market order sized to walk 1-3 levels; then a feed delta puts the levels it took back, as the
venue's next depth message would (timed, but not counted as an order operation). Events are
drained after every cycle, as the client does.

Two figures: the engine alone (events drained as the engine records them), and with every
order update and fill built as the public ``Order``/``Fill`` objects a client with
subscribers publishes - that construction costs about as much as the matching.

Every figure is the median of several full runs on fresh engines; compare ratios.
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from bench.harness import machine, report
from exchange_clients.market_data.events import BookSnapshotEvent
from exchange_clients.market_data.synthetic import SyntheticMarket
from exchange_clients.paper.engine import PaperEngine
from exchange_clients.paper.profiles import PROFILES
from exchange_clients.rounding import round_size
from exchange_clients.types import Market, OrderRequest, OrderType, Side, TimeInForce

SEED = 7
SYMBOL = "BTC"
CYCLES = 20_000
ROUNDS = 7
RESTING = 50
AT = datetime(2026, 3, 2, 12, tzinfo=UTC)


@dataclass
class Workload:
    """Pre-built requests, so the timing covers the engine and not request construction."""

    market: Market
    book: BookSnapshotEvent
    limits: list[OrderRequest] = field(default_factory=list)
    cancels: list[int] = field(default_factory=list)  # which resting order to cancel
    markets: list[OrderRequest] = field(default_factory=list)


def build_workload() -> Workload:
    synthetic = SyntheticMarket(SEED)
    market = synthetic.markets()[SYMBOL]
    book = synthetic.book(SYMBOL, AT)
    rng = random.Random(SEED)  # noqa: S311 - a reproducible workload, not secrets
    work = Workload(market=market, book=book)
    tick = market.tick_size
    best_bid, best_ask = book.bids[0][0], book.asks[0][0]
    touch = book.asks[0][1]
    for n in range(CYCLES + RESTING):
        side: Side = rng.choice(("buy", "sell"))
        behind = rng.randint(1, 10) * tick
        price = best_bid - behind if side == "buy" else best_ask + behind
        size = round_size(market, Decimal(rng.uniform(0.01, 0.2)))
        work.limits.append(OrderRequest(SYMBOL, side, size, OrderType.LIMIT, f"l{n}", price=price))
        work.cancels.append(rng.randrange(RESTING))
        walk = round_size(market, touch * Decimal(rng.uniform(1.0, 2.5)))
        work.markets.append(
            OrderRequest(
                SYMBOL,
                rng.choice(("buy", "sell")),
                walk,
                OrderType.MARKET,
                f"m{n}",
                time_in_force=TimeInForce.IOC,
            )
        )
    return work


@dataclass
class Timings:
    place: float = 0.0
    cancel: float = 0.0
    market: float = 0.0
    publish: float = 0.0
    refill: float = 0.0
    levels: int = 0


def run(work: Workload, materialise: bool) -> Timings:
    engine = PaperEngine(
        venue="paper",
        account="bench",
        profile=PROFILES["paper"],
        markets={SYMBOL: work.market},
        wallet=Decimal(10) ** 12,  # margin never binds: this measures matching
        now=lambda: AT,
    )
    book = work.book
    engine.apply_book_snapshot(SYMBOL, book.bids, book.asks, book.sequence)
    resting = [engine.place(request) for request in work.limits[:RESTING]]
    engine.drain()
    timings = Timings()
    clock = time.perf_counter
    for n in range(CYCLES):
        start = clock()
        placed = engine.place(work.limits[RESTING + n])
        placed_at = clock()
        victim = resting[work.cancels[n]]
        engine.cancel(SYMBOL, venue_order_id=victim.venue_order_id)
        cancelled_at = clock()
        resting[work.cancels[n]] = placed
        taker = engine.place(work.markets[n])
        market_at = clock()
        changes = engine.drain()
        if materialise:
            changes.order_updates()
            changes.fills()
        drained_at = clock()
        # The feed reports the touched levels again; count them to report the walk depth.
        levels = len(changes.fill_events)
        engine.apply_book_delta(
            SYMBOL,
            book.bids[:levels] if taker.side == "sell" else (),
            book.asks[:levels] if taker.side == "buy" else (),
        )
        timings.refill += clock() - drained_at
        timings.place += placed_at - start
        timings.cancel += cancelled_at - placed_at
        timings.market += market_at - cancelled_at
        timings.publish += drained_at - market_at
        timings.levels += levels
    return timings


def median(runs: list[Timings], pick: Callable[[Timings], float]) -> float:
    return statistics.median(pick(t) for t in runs)


def main() -> None:
    sys.stdout.write(f"paper venue matching engine ({machine()})\n")
    work = build_workload()
    run(work, materialise=False)  # warm-up
    for materialise, label in ((False, "engine"), (True, "engine + public Order/Fill objects")):
        gc.collect()
        runs = [run(work, materialise) for _ in range(ROUNDS)]
        place = median(runs, lambda t: t.place) / CYCLES
        cancel = median(runs, lambda t: t.cancel) / CYCLES
        market = median(runs, lambda t: t.market) / CYCLES
        publish = median(runs, lambda t: t.publish) / CYCLES
        levels = runs[0].levels / CYCLES
        per_op = (place + cancel + market + publish) / 3
        sys.stdout.write(f" {label}:\n")
        report("place passive limit", place)
        report("cancel", cancel)
        report(f"market order ({levels:.1f} levels walked on average)", market)
        report(
            "drain events of one cycle" + (", built as Order/Fill" if materialise else ""), publish
        )
        report(
            "feed delta refilling the levels taken (not counted)",
            median(runs, lambda t: t.refill) / CYCLES,
        )
        report(
            "per order operation (place, cancel, market + drain)",
            per_op,
            f"{1 / per_op:,.0f} ops/s (target 100,000)",
        )


if __name__ == "__main__":
    main()
