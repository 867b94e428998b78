"""What the atomic executor adds on top of the venues' own latency.

Two paper venues on the synthetic market, with injected request latencies L1 < L2, a real
journal (SQLite file, or PostgreSQL when ``PERPFLEET_BENCH_POSTGRES_URL`` is set) and the
real trackers. Each figure is p50/p99 over many operations:

(a) **open overhead**: from the first entry order leaving to the executor starting its
    verification (both legs final, journaled, tracked), minus max(L1, L2) - the executor's
    own cost of an atomic open. Target p99 <= 2 ms. The whole ``execute()`` (preflight,
    entries and verification are one venue round trip each) is reported too, minus 3 x L2.
(b) **partial fill -> hedge**: paper_b fills half of its entry (thin book); from that fill
    being published by the venue to the chase order for the rest leaving for the venue.
    Target p99 <= 5 ms.

The venues are instrumented subclasses of the real paper client that only record
``perf_counter`` stamps; nothing else is replaced.
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal

from bench.databases import on_each_database
from bench.harness import machine, report_percentiles
from bench.paper_pair import L1, L2, paper_pair
from core.clock import SystemClock
from core.logging_setup import configure_logging
from database.engine import create_engine, session_maker
from database.models import Account, Bot
from exchange_clients.paper import PaperExchangeClient
from exchange_clients.types import ClientSettings, Fill, Order, OrderRequest, Position, Side
from execution.atomic import (
    AtomicMultiOrderExecutor,
    AtomicStatus,
    AtomicTolerances,
    Leg,
    OperationStore,
)
from execution.client_ids import ClientOrderIds
from execution.journal import OrderJournal
from execution.order_executor import ExecutionMode
from execution.order_tracker import OrderTracker

RUNS = 300
WARMUP = 10
SYMBOL = "BTC"
SIZE = Decimal("0.01")
HALF = Decimal("0.5")


class StampedPaperClient(PaperExchangeClient):
    """The paper venue, recording when orders leave, fills are published, positions read."""

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        self.placed: list[float] = []
        self.fills_published: list[float] = []
        self.position_reads: list[float] = []
        self.thin_first_order = False  # the first order fills half; the book refills after

    async def place_order(self, request: OrderRequest) -> Order:
        self.placed.append(time.perf_counter())
        self.faults.fill_ratio = HALF if self.thin_first_order and len(self.placed) == 1 else None
        return await super().place_order(request)

    def _publish_fill(self, fill: Fill) -> None:
        self.fills_published.append(time.perf_counter())
        super()._publish_fill(fill)

    async def position(self, symbol: str) -> Position | None:
        self.position_reads.append(time.perf_counter())
        return await super().position(symbol)

    def clear(self) -> None:
        self.placed.clear()
        self.fills_published.clear()
        self.position_reads.clear()


async def bench(url: str) -> None:
    engine = create_engine(url)
    sessions = session_maker(engine)
    async with sessions.begin() as session:
        bot = Bot(name="bench-atomic", config={})
        accounts = {venue: Account(name=f"bench-{venue}") for venue in ("paper_a", "paper_b")}
        session.add_all([bot, *accounts.values()])
    clock = SystemClock()
    clients = paper_pair(StampedPaperClient, seed=3, clock=clock)
    for client in clients.values():
        await client.connect()
    journal = OrderJournal(
        sessions, bot_id=bot.id, accounts={venue: a.id for venue, a in accounts.items()}
    )
    trackers = {
        venue: OrderTracker(client, journal, clock=clock) for venue, client in clients.items()
    }
    for tracker in trackers.values():
        await tracker.start()
    executor = AtomicMultiOrderExecutor(
        clients,
        trackers,
        journal,
        OperationStore(sessions, bot.id),
        ClientOrderIds("bench"),
        clock=clock,
    )
    a, b = clients["paper_a"], clients["paper_b"]
    try:
        opens, totals = [], []
        for run in range(WARMUP + RUNS):
            side: Side = "buy" if run % 2 == 0 else "sell"  # alternate, so positions stay small
            legs = [Leg("paper_a", SYMBOL, side, SIZE), Leg("paper_b", SYMBOL, _other(side), SIZE)]
            a.clear()
            b.clear()
            started = time.perf_counter()
            result = await executor.execute(legs, ExecutionMode.MARKET)
            ended = time.perf_counter()
            if result.status is not AtomicStatus.COMPLETED:
                raise SystemExit(f"bench operation ended {result.status}: {result.events}")
            if run < WARMUP:
                continue
            first_send = min(a.placed[0], b.placed[0])
            verification = max(a.position_reads[-1], b.position_reads[-1])
            opens.append(verification - first_send - max(L1, L2))
            totals.append(ended - started - 3 * max(L1, L2))

        tolerances = AtomicTolerances(chase_mode=ExecutionMode.MARKET)
        reactions = []
        b.thin_first_order = True
        for run in range(WARMUP + RUNS):
            side = "buy" if run % 2 == 0 else "sell"
            legs = [Leg("paper_a", SYMBOL, side, SIZE), Leg("paper_b", SYMBOL, _other(side), SIZE)]
            a.clear()
            b.clear()
            result = await executor.execute(legs, ExecutionMode.MARKET, tolerances)
            if result.status is not AtomicStatus.COMPLETED or len(b.placed) != 2:
                raise SystemExit(f"bench hedge ended {result.status}: {result.events}")
            if run >= WARMUP:
                reactions.append(b.placed[1] - b.fills_published[0])
    finally:
        for tracker in trackers.values():
            await tracker.stop()
        for client in clients.values():
            await client.disconnect()
        await engine.dispose()

    report_percentiles("(a) atomic open - max(L1, L2)", opens, "target p99 <= 2 ms")
    report_percentiles(
        "    whole execute() - 3 x max(L1, L2)", totals, "(preflight + open + verify)"
    )
    report_percentiles(
        "(b) partial fill published -> hedge order sent", reactions, "target p99 <= 5 ms"
    )


def _other(side: Side) -> Side:
    return "sell" if side == "buy" else "buy"


def main() -> None:
    sys.stdout.write(f"atomic executor ({machine()}; L1 {L1 * 1e3:g} ms, L2 {L2 * 1e3:g} ms)\n")
    # As a bot runs in production: no per-order log lines on the hot path.
    configure_logging(level="WARNING", stream=sys.stderr)
    on_each_database(bench)


if __name__ == "__main__":
    main()
