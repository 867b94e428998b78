"""How long a restarted bot takes to finish an atomic close that a crash interrupted.

Two paper venues on the synthetic market (request latency L1 = 2 ms, L2 = 5 ms), a real
journal (SQLite file, then PostgreSQL) and the real trackers. Each run opens a hedged pair,
starts closing it, and kills the stack in-process once paper_a's close has filled while
paper_b's close is still on its way (the venue never sees it): the executor's task is
cancelled, the trackers are abandoned without journaling what they held, and the process's
database connections are dropped. A fresh stack on the same database and venues then runs
recovery, which looks every order up by client order id, marks paper_b's as never seen and
chases paper_b to flat. Figures, p50/p99:

* **start-up wait** - :func:`start_recovery` returning: what holds up the bot's start (the
  work itself runs in the background, holding only the symbol);
* **recovery** - from the restart to the operation concluded (verified flat, journaled).

The intents' grace is 0 here: after a real restart the dead process's requests are older
than the grace (5 s by default), so the venue's "not found" is final at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import time
from datetime import timedelta
from decimal import Decimal

from bench.databases import on_each_database
from bench.harness import machine, report_percentiles
from bench.paper_pair import L1, L2, paper_pair
from core.clock import SystemClock
from core.logging_setup import configure_logging
from database.engine import create_engine, session_maker
from database.models import Account, Bot
from exchange_clients.paper import PaperExchangeClient
from exchange_clients.types import ClientSettings, Order, OrderRequest
from execution.atomic import (
    AtomicMultiOrderExecutor,
    AtomicStatus,
    AtomicTolerances,
    ImbalancePolicy,
    Leg,
    OperationStore,
    start_recovery,
)
from execution.client_ids import ClientOrderIds
from execution.journal import OrderJournal
from execution.order_executor import ExecutionMode
from execution.order_tracker import OrderTracker

RUNS = 60
WARMUP = 5
SYMBOL = "BTC"
SIZE = Decimal("0.01")
HANG = 3600.0


class HangingPaperClient(PaperExchangeClient):
    """The paper venue; ``hang_next`` makes the next order request never arrive."""

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        self.hang_next = False
        self.hanging = asyncio.Event()  # the hung request is on its way
        self.reduced = asyncio.Event()  # a reduce-only order was answered

    async def place_order(self, request: OrderRequest) -> Order:
        if self.hang_next:
            self.hang_next = False
            self.hanging.set()
            await asyncio.sleep(HANG)
        order = await super().place_order(request)
        if request.reduce_only:
            self.reduced.set()
        return order


class Stack:
    """One bot process's execution stack: its own connections, journal, trackers, executor."""

    def __init__(
        self,
        url: str,
        bot_id: int,
        accounts: dict[str, int],
        clients: dict[str, HangingPaperClient],
    ) -> None:
        self.engine = create_engine(url)
        sessions = session_maker(self.engine)
        self.journal = OrderJournal(sessions, bot_id=bot_id, accounts=accounts)
        clock = SystemClock()
        self.trackers = {
            venue: OrderTracker(client, self.journal, clock=clock)
            for venue, client in clients.items()
        }
        self.executor = AtomicMultiOrderExecutor(
            clients,
            self.trackers,
            self.journal,
            OperationStore(sessions, bot_id),
            ClientOrderIds(f"bench{time.monotonic_ns() % 10_000}"),
            clock=clock,
        )

    async def start(self) -> None:
        for tracker in self.trackers.values():
            await tracker.start()

    async def stop(self) -> None:
        for tracker in self.trackers.values():
            await tracker.stop()
        await self.engine.dispose()

    async def die(self, running: asyncio.Task[object]) -> None:
        running.cancel()
        for tracker in self.trackers.values():
            tracker.abandon()
        with contextlib.suppress(BaseException):
            await running
        del running
        gc.collect()
        await self.engine.dispose()


async def bench(url: str) -> None:
    setup = create_engine(url)
    async with session_maker(setup).begin() as session:
        bot = Bot(name="bench-recovery", config={})
        rows = {venue: Account(name=f"bench-recovery-{venue}") for venue in ("paper_a", "paper_b")}
        session.add_all([bot, *rows.values()])
    await setup.dispose()
    accounts = {venue: row.id for venue, row in rows.items()}
    clock = SystemClock()
    clients = paper_pair(HangingPaperClient, seed=5, clock=clock)
    for client in clients.values():
        await client.connect()
    opening = [Leg("paper_a", SYMBOL, "buy", SIZE), Leg("paper_b", SYMBOL, "sell", SIZE)]
    closing = [
        Leg("paper_a", SYMBOL, "sell", SIZE, reduce_only=True),
        Leg("paper_b", SYMBOL, "buy", SIZE, reduce_only=True),
    ]
    tolerances = AtomicTolerances(imbalance=ImbalancePolicy.ROLLBACK)
    waits, recoveries = [], []
    stack = Stack(url, bot.id, accounts, clients)
    await stack.start()
    try:
        for run in range(WARMUP + RUNS):
            opened = await stack.executor.execute(opening, ExecutionMode.MARKET)
            if opened.status is not AtomicStatus.COMPLETED:
                raise SystemExit(f"bench open ended {opened.status}: {opened.events}")
            a, b = clients["paper_a"], clients["paper_b"]
            a.reduced.clear()
            b.hanging.clear()
            b.hang_next = True
            running = asyncio.ensure_future(
                stack.executor.execute(closing, ExecutionMode.MARKET, tolerances)
            )
            await asyncio.gather(a.reduced.wait(), b.hanging.wait())
            await asyncio.sleep(0.01)  # paper_a's fill reaches the tracker; paper_b hangs
            await stack.die(running)

            restarted = time.perf_counter()
            stack = Stack(url, bot.id, accounts, clients)
            await stack.start()
            recovery = await start_recovery(stack.executor, grace=timedelta(0), clock=clock)
            returned = time.perf_counter()
            [result] = await recovery.wait()
            ended = time.perf_counter()
            if result.status is not AtomicStatus.COMPLETED:
                raise SystemExit(f"bench recovery ended {result.status}: {result.events}")
            if run >= WARMUP:
                waits.append(returned - restarted)
                recoveries.append(ended - restarted)
    finally:
        await stack.stop()
        for client in clients.values():
            await client.disconnect()

    report_percentiles("start-up wait (start_recovery returns)", waits)
    report_percentiles("recovery of a killed close (restart -> concluded)", recoveries, "(grace 0)")


def main() -> None:
    sys.stdout.write(
        f"recovery after a crash ({machine()}; L1 {L1 * 1e3:g} ms, L2 {L2 * 1e3:g} ms, "
        f"{RUNS} runs)\n"
    )
    # Every run recovers a killed operation on purpose: its warnings are the expected path.
    configure_logging(level="ERROR", stream=sys.stderr)
    on_each_database(bench)


if __name__ == "__main__":
    main()
