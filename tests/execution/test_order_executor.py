"""Executor modes against the real paper venue (manual clock), journaled on both DBs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from database.models import Account, Bot
from database.models import Order as OrderRow
from exchange_clients.factory import create_client
from exchange_clients.market_data.events import MarketFeed
from exchange_clients.market_data.synthetic import SyntheticFeed, SyntheticMarket
from exchange_clients.paper import FaultPlan, PaperExchangeClient
from exchange_clients.rounding import round_price
from exchange_clients.types import ClientSettings, OrderStatus, OrderType
from execution.client_ids import ClientOrderIds
from execution.journal import OrderJournal
from execution.order_executor import (
    ExecutionMode,
    ExecutionRequest,
    ExecutionResult,
    OrderExecutor,
)
from execution.order_tracker import OrderTracker
from tests.exchange_clients.paper.feeds import ScriptedFeed

D = Decimal
SIZE = D("0.004")
START = datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)


@dataclass
class Rig:
    client: PaperExchangeClient
    clock: ManualClock
    executor: OrderExecutor
    sessions: async_sessionmaker[AsyncSession]

    async def run(self, request: ExecutionRequest) -> ExecutionResult:
        return await self.drive(asyncio.create_task(self.executor.execute(request)))

    async def drive(self, task: asyncio.Task[ExecutionResult]) -> ExecutionResult:
        """Advance venue time until the execution finishes (the market moves meanwhile).

        Each step also yields real time: the journal's database I/O must keep up, or venue
        time would run past every deadline before the executor even sets them.
        """
        for _ in range(2000):
            if task.done():
                break
            await self.clock.advance(0.25)
            await asyncio.sleep(0.002)
        return await asyncio.wait_for(task, 10)

    async def journaled(self) -> dict[str, tuple[str, Decimal]]:
        async with self.sessions() as session:
            rows = await session.scalars(select(OrderRow).order_by(OrderRow.id))
            return {row.client_order_id: (row.status, row.filled_size) for row in rows}

    async def passive_price(self) -> Decimal:
        bid, _ = await self.client.best_bid_ask("BTC")
        return round_price(await self.client.market("BTC"), bid * D("0.9"), "buy")


@asynccontextmanager
async def build_rig(
    sessions: async_sessionmaker[AsyncSession], feed: MarketFeed, clock: ManualClock
) -> AsyncIterator[Rig]:
    async with sessions.begin() as session:
        bot, account = Bot(name="executor-test", config={}), Account(name="paper-main")
        session.add_all([bot, account])
    options = {"feed": feed, "clock": clock, "store": None, "initial_balance": D(1_000_000)}
    client = create_client(ClientSettings(venue="paper", options=options))
    assert isinstance(client, PaperExchangeClient)
    await client.connect()
    await clock.advance(1)
    journal = OrderJournal(sessions, bot_id=bot.id, accounts={"paper": account.id})
    tracker = OrderTracker(client, journal, clock=clock, poll_interval=1, silence_seconds=2)
    await tracker.start()
    executor = OrderExecutor(client, journal, tracker, ClientOrderIds("executor"), clock=clock)
    try:
        yield Rig(client, clock, executor, sessions)
    finally:
        await tracker.stop()
        await client.disconnect()


@pytest.fixture
async def rig(db_sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Rig]:
    clock = ManualClock(START)
    async with build_rig(
        db_sessions, SyntheticFeed(SyntheticMarket(seed=3, venue="paper"), clock), clock
    ) as built:
        yield built


def assert_journal_matches(
    result: ExecutionResult, journaled: dict[str, tuple[str, Decimal]]
) -> None:
    for order in result.orders:
        assert journaled[order.client_order_id] == (order.status.value, order.filled_size)
    assert all(OrderStatus(status).is_final for status, _ in journaled.values())


async def test_market(rig: Rig) -> None:
    result = await rig.run(ExecutionRequest("BTC", "buy", SIZE, ExecutionMode.MARKET))
    assert result.complete
    assert [o.status for o in result.orders] == [OrderStatus.FILLED]
    position = await rig.client.position("BTC")
    assert position is not None
    assert position.size == SIZE
    assert_journal_matches(result, await rig.journaled())


async def test_limit_that_never_fills_is_cancelled_after_its_timeout(rig: Rig) -> None:
    price = await rig.passive_price()
    request = ExecutionRequest(
        "BTC", "buy", SIZE, ExecutionMode.LIMIT, price=price, post_only=True, timeout_seconds=5
    )
    started = rig.clock.now()
    result = await rig.run(request)
    assert (rig.clock.now() - started).total_seconds() >= 5
    assert [(o.status, o.filled_size) for o in result.orders] == [(OrderStatus.CANCELLED, 0)]
    assert await rig.client.open_orders() == []
    assert_journal_matches(result, await rig.journaled())


async def test_limit_with_fallback_sends_only_the_remainder_to_market(rig: Rig) -> None:
    price = await rig.passive_price()
    request = ExecutionRequest(
        "BTC", "buy", SIZE, ExecutionMode.LIMIT_WITH_FALLBACK, price=price, timeout_seconds=3
    )
    result = await rig.run(request)
    assert result.complete
    assert [(o.order_type, o.status) for o in result.orders] == [
        (OrderType.LIMIT, OrderStatus.CANCELLED),
        (OrderType.MARKET, OrderStatus.FILLED),
    ]
    assert result.orders[1].size == SIZE - result.orders[0].filled_size
    assert_journal_matches(result, await rig.journaled())


async def test_aggressive_limit_escalates_until_filled(rig: Rig) -> None:
    request = ExecutionRequest(
        "BTC", "sell", SIZE, ExecutionMode.AGGRESSIVE_LIMIT, attempt_timeout_seconds=2
    )
    result = await rig.run(request)
    assert result.complete
    assert result.orders
    assert result.orders[-1].status is OrderStatus.FILLED
    position = await rig.client.position("BTC")
    assert position is not None
    assert position.size == -SIZE
    journaled = await rig.journaled()
    assert_journal_matches(result, journaled)
    # Attempts the venue refused (post-only that would cross) are journaled as rejected.
    sent = {o.client_order_id for o in result.orders}
    assert all(status == "rejected" for cid, (status, _) in journaled.items() if cid not in sent)


async def test_a_send_that_times_out_after_landing_is_found_not_duplicated(rig: Rig) -> None:
    rig.client.faults = FaultPlan(timeout_after_landing=1)
    result = await rig.run(ExecutionRequest("BTC", "buy", SIZE, ExecutionMode.MARKET))
    assert result.complete
    assert len(result.orders) == 1
    position = await rig.client.position("BTC")
    assert position is not None
    assert position.size == SIZE  # one order on the venue, not two
    assert_journal_matches(result, await rig.journaled())


async def test_post_only_that_would_cross_sends_nothing_and_is_journaled(rig: Rig) -> None:
    _, ask = await rig.client.best_bid_ask("BTC")
    crossing = round_price(await rig.client.market("BTC"), ask * D("1.01"), "buy")
    request = ExecutionRequest(
        "BTC", "buy", SIZE, ExecutionMode.LIMIT, price=crossing, post_only=True
    )
    result = await rig.run(request)
    assert result.orders == []
    assert result.filled_size == 0
    assert [status for status, _ in (await rig.journaled()).values()] == ["rejected"]
    assert await rig.client.position("BTC") is None


async def test_fallback_takes_the_market_when_post_only_is_refused_for_crossing(rig: Rig) -> None:
    """A post-only limit the book has already moved through cannot rest: with fallback the
    size is bought at market instead of the execution ending with nothing."""
    _, ask = await rig.client.best_bid_ask("BTC")
    crossing = round_price(await rig.client.market("BTC"), ask * D("1.01"), "buy")
    request = ExecutionRequest(
        "BTC",
        "buy",
        SIZE,
        ExecutionMode.LIMIT_WITH_FALLBACK,
        price=crossing,
        post_only=True,
        timeout_seconds=3,
    )
    result = await rig.run(request)
    assert result.crossed
    assert result.complete
    assert [(o.order_type, o.status) for o in result.orders] == [
        (OrderType.MARKET, OrderStatus.FILLED)
    ]
    statuses = sorted(status for status, _ in (await rig.journaled()).values())
    assert statuses == ["filled", "rejected"]
    position = await rig.client.position("BTC")
    assert position is not None
    assert position.size == SIZE


async def test_fallback_after_a_partial_fill_sends_exactly_the_remainder(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = ManualClock(START)
    # Book: asks 100.0 x 1, 100.5 x 2, 101.0 x 3; it only moves when the test says so.
    async with build_rig(db_sessions, ScriptedFeed(clock), clock) as scripted:
        request = ExecutionRequest(
            "BTC", "buy", D(3), ExecutionMode.LIMIT_WITH_FALLBACK, price=D(100), timeout_seconds=1
        )
        result = await scripted.run(request)
        assert result.complete
        limit, market = result.orders
        assert (limit.status, limit.filled_size, limit.avg_fill_price) == (
            OrderStatus.CANCELLED,
            D(1),
            D(100),
        )
        assert (market.order_type, market.size, market.status, market.avg_fill_price) == (
            OrderType.MARKET,
            D(2),
            OrderStatus.FILLED,
            D("100.5"),
        )
        assert result.average_price == (D(100) + 2 * D("100.5")) / 3
        position = await scripted.client.position("BTC")
        assert position is not None
        assert position.size == D(3)
        assert_journal_matches(result, await scripted.journaled())


async def test_an_interrupt_cancels_what_rests_and_sends_nothing_more(rig: Rig) -> None:
    price = await rig.passive_price()
    request = ExecutionRequest(
        "BTC", "buy", SIZE, ExecutionMode.LIMIT_WITH_FALLBACK, price=price, timeout_seconds=600
    )
    interrupt = asyncio.Event()
    task = asyncio.create_task(rig.executor.execute(request, interrupt=interrupt))
    for _ in range(1000):
        if await rig.client.open_orders():
            break
        await asyncio.sleep(0.005)
    started = rig.clock.now()
    interrupt.set()
    result = await rig.drive(task)
    assert (rig.clock.now() - started).total_seconds() < 600
    assert result.interrupted
    assert [(o.status, o.order_type) for o in result.orders] == [
        (OrderStatus.CANCELLED, OrderType.LIMIT)  # and no market fallback after it
    ]
    assert await rig.client.open_orders() == []
    assert_journal_matches(result, await rig.journaled())


async def test_a_cancelled_execution_stays_cancelled_wherever_it_was(rig: Rig) -> None:
    # A crash (or a shutdown) cancels the task running an execution at whatever await it is.
    # Cancelled while tidying up its wait for a fill, it once swallowed the cancellation and
    # went on trading - an executor nobody owns any more, sending the next order (issue 23,
    # found by the randomized crash test). Cancel it at every step until it finishes by itself.
    request = ExecutionRequest(
        "BTC", "buy", SIZE, ExecutionMode.AGGRESSIVE_LIMIT, attempt_timeout_seconds=0
    )
    swallowed = []
    for steps in range(400):
        task = asyncio.create_task(rig.executor.execute(request))
        for _ in range(steps):
            await asyncio.sleep(0)
        if not task.cancel():
            break  # it finished before this step: every earlier await point was covered
        with contextlib.suppress(BaseException):
            await task
        if not task.cancelled():
            swallowed.append(steps)
    assert swallowed == []
