"""Fees a funding-arbitrage round trip pays, maker entries against market entries.

A round trip is what the strategy does with one pair: open long paper_a / short paper_b and
close it again, through the atomic executor with the tolerances the strategy builds from the
bot's ``execution`` section (defaults: ``limit_timeout_seconds`` 30, ``aggressive_attempts`` 3).
``market`` sends both legs at market; the maker modes lead with paper_a resting post-only inside
the spread and follow with paper_b sized and capped to what paper_a filled.

Both venues watch one seeded synthetic market on a manual clock that the benchmark moves in
quarter seconds while orders rest - so resting orders fill only when the synthetic trades reach
them, and the figures are fees, not timings (no machine noise: the same seed gives the same
numbers). paper_a charges 0.015 % maker / 0.045 % taker, paper_b 0.02 % / 0.05 %.

Printed per mode: median fees per round trip in USD and in basis points of one leg's notional,
the share of the lead leg's volume filled by limit orders (makers, and the aggressive
mode's crossing limits), and the ratio to market mode.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
from collections.abc import Awaitable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from bench.harness import machine
from bench.paper_pair import paper_pair
from core.clock import ManualClock
from core.logging_setup import configure_logging
from database.engine import create_engine, session_maker
from database.migrate import upgrade
from database.models import Account, Bot
from exchange_clients.paper import PaperExchangeClient
from exchange_clients.types import OrderType
from execution.atomic import (
    AtomicMultiOrderExecutor,
    AtomicResult,
    AtomicStatus,
    AtomicTolerances,
    Leg,
    OperationStore,
)
from execution.client_ids import ClientOrderIds
from execution.journal import OrderJournal
from execution.order_executor import ExecutionMode
from execution.order_tracker import OrderTracker
from execution.pricing import AggressiveLimitParams

ROUND_TRIPS = 12
SYMBOL = "BTC"
SIZE = Decimal("0.05")
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MODES = (ExecutionMode.MARKET, ExecutionMode.LIMIT_WITH_FALLBACK, ExecutionMode.AGGRESSIVE_LIMIT)
T = TypeVar("T")


def tolerances(mode: ExecutionMode) -> AtomicTolerances:
    """What the strategy passes with the default ``execution`` section."""
    return AtomicTolerances(
        entry_timeout_seconds=30.0,
        chase=AggressiveLimitParams(attempts=3),
        sequenced=mode is not ExecutionMode.MARKET,
    )


async def drive(clock: ManualClock, work: Awaitable[T]) -> T:
    """Run ``work`` while venue time moves on in quarter seconds."""
    task = asyncio.ensure_future(work)
    while not task.done():
        await clock.advance(0.25)
        await asyncio.sleep(0.001)  # the journal's I/O runs in real time
    return await task


def maker_volume(result: AtomicResult, venue: str) -> tuple[Decimal, Decimal]:
    """(filled by limit orders, filled in all) on ``venue`` in ``result``."""
    orders = result.leg(venue).orders.values()
    limit = sum((o.filled_size for o in orders if o.order_type is OrderType.LIMIT), Decimal(0))
    return limit, sum((o.filled_size for o in orders), Decimal(0))


async def round_trips(
    url: str, mode: ExecutionMode
) -> tuple[list[Decimal], list[Decimal], Decimal]:
    """Fees (USD) and fees in bps of one leg's notional per round trip; the lead's maker share."""
    engine = create_engine(url)
    sessions = session_maker(engine)
    async with sessions.begin() as session:
        bot = Bot(name=f"bench-fees-{mode.value}", config={})
        accounts = {v: Account(name=f"bench-fees-{mode.value}-{v}") for v in ("paper_a", "paper_b")}
        session.add_all([bot, *accounts.values()])
    clock = ManualClock(START)
    clients = paper_pair(PaperExchangeClient, seed=11, clock=clock)
    for client in clients.values():
        await client.connect()
    journal = OrderJournal(
        sessions, bot_id=bot.id, accounts={venue: a.id for venue, a in accounts.items()}
    )
    trackers = {v: OrderTracker(c, journal, clock=clock) for v, c in clients.items()}
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
    fees: list[Decimal] = []
    bps: list[Decimal] = []
    made = total = Decimal(0)
    try:
        for _ in range(ROUND_TRIPS):
            opening = [Leg("paper_a", SYMBOL, "buy", SIZE), Leg("paper_b", SYMBOL, "sell", SIZE)]
            opened = await drive(clock, executor.execute(opening, mode, tolerances(mode)))
            if opened.status is not AtomicStatus.COMPLETED:
                raise SystemExit(f"bench open ended {opened.status}: {opened.events}")
            closing = [
                Leg("paper_a", SYMBOL, "sell", SIZE, reduce_only=True),
                Leg("paper_b", SYMBOL, "buy", SIZE, reduce_only=True),
            ]
            closed = await drive(clock, executor.execute(closing, mode, tolerances(mode)))
            if closed.status is not AtomicStatus.COMPLETED:
                raise SystemExit(f"bench close ended {closed.status}: {closed.events}")
            paid = opened.fees + closed.fees
            entry = opened.leg("paper_a").entry_price or Decimal(1)
            fees.append(paid)
            bps.append(paid / (SIZE * entry) * 10_000)
            for result in (opened, closed):
                limit, filled = maker_volume(result, "paper_a")
                made += limit
                total += filled
            await clock.advance(10)  # the market moves on between pairs
    finally:
        for tracker in trackers.values():
            await tracker.stop()
        for client in clients.values():
            await client.disconnect()
        await engine.dispose()
    return fees, bps, made / total if total else Decimal(0)


async def bench(url: str) -> None:
    await upgrade(url)
    baseline: Decimal | None = None
    for mode in MODES:
        fees, bps, maker_share = await round_trips(url, mode)
        median = Decimal(statistics.median(fees))
        median_bps = Decimal(statistics.median(bps))
        if baseline is None:
            baseline = median
        ratio = median / baseline
        sys.stdout.write(
            f"  {mode.value:<22} {median:10.6f} USD/round trip  {median_bps:6.2f} bps of a leg  "
            f"lead filled by limits {maker_share * 100:5.1f} %  x{ratio:.3f} of market\n"
        )


def main() -> None:
    sys.stdout.write(
        f"funding arbitrage fees per round trip, {ROUND_TRIPS} pairs of {SIZE} {SYMBOL} per mode "
        f"on paper_a/paper_b (medians; {machine()})\n"
    )
    # Post-only orders the moving book refuses are expected here (and re-priced): not news.
    configure_logging(level="ERROR", stream=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bench(f"sqlite+aiosqlite:///{Path(tmp) / 'fees.db'}"))


if __name__ == "__main__":
    main()
