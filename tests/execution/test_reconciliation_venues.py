"""Reconciliation against real venue clients on their fakes (Hyperliquid, Binance natively and
through ccxt), journaled
on SQLite and PostgreSQL: an order placed by hand on the venue and a position changed while
the bot was away, under each policy, and the same check after a reconnect of the streams.

"By hand" is a second client on the same account (the venue's web page, another program):
the fake sees a real signed order the bot's journal never recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.models import Account, Bot
from database.models import Order as OrderRow
from exchange_clients.base import BaseExchangeClient, Reconnected
from exchange_clients.factory import create_client
from exchange_clients.types import ClientSettings, OrderStatus
from execution.client_ids import ClientOrderIds
from execution.journal import OrderJournal, reconcile
from execution.order_executor import ExecutionMode, ExecutionRequest, OrderExecutor
from execution.order_tracker import OrderTracker
from execution.reconciliation import ADOPTED, FLATTEN, VenueReconciler
from testing.fakes.binance import FakeBinance
from testing.fakes.hyperliquid import FakeHyperliquid
from tests.exchange_clients.binance_style.helpers import API_KEY, API_SECRET, hmac_settings
from tests.exchange_clients.contract import ccxt_harness
from tests.exchange_clients.hyperliquid.helpers import OWNER, settings
from tests.exchange_clients.waiting import GUARD_SECONDS
from trading_config.schema import ReconciliationPolicy

D = Decimal
SIZE = D("0.002")
BOT = "recon-venue"


@dataclass
class Venue:
    name: str
    bot: BaseExchangeClient
    hand: BaseExchangeClient
    drop_connections: Callable[[float], Awaitable[None]]


@asynccontextmanager
async def hyperliquid() -> AsyncIterator[Venue]:
    async with FakeHyperliquid(accounts={OWNER: D(100_000)}) as fake, AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(_connected(settings(fake))) for _ in "ab"]
        yield Venue("hyperliquid", clients[0], clients[1], fake.drop_connections)


@asynccontextmanager
async def binance() -> AsyncIterator[Venue]:
    async with FakeBinance() as fake, AsyncExitStack() as stack:
        fake.add_account(api_key=API_KEY, api_secret=API_SECRET)
        clients = [
            await stack.enter_async_context(_connected(hmac_settings("binance", fake)))
            for _ in "ab"
        ]
        yield Venue("binance", clients[0], clients[1], fake.drop_connections)


@asynccontextmanager
async def _connected(client_settings: ClientSettings) -> AsyncIterator[BaseExchangeClient]:
    client = create_client(client_settings)
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()


@asynccontextmanager
async def ccxt_binanceusdm() -> AsyncIterator[Venue]:
    """The generic ccxt client (ccxt's real binanceusdm class) on the same fake."""
    async with FakeBinance() as fake, AsyncExitStack() as stack:
        fake.add_account(api_key=ccxt_harness.API_KEY, api_secret=ccxt_harness.API_SECRET)
        clients = [
            await stack.enter_async_context(_connected(ccxt_harness.ccxt_settings(fake)))
            for _ in "ab"
        ]
        yield Venue("ccxt_binanceusdm", clients[0], clients[1], fake.drop_connections)


VENUES: dict[str, Callable[[], AbstractAsyncContextManager[Venue]]] = {
    "hyperliquid": hyperliquid,
    "binance": binance,
    "ccxt_binanceusdm": ccxt_binanceusdm,
}


@dataclass
class Rig:
    venue: Venue
    journal: OrderJournal
    tracker: OrderTracker
    executor: OrderExecutor
    sessions: async_sessionmaker[AsyncSession]

    def reconciler(self, policy: ReconciliationPolicy) -> VenueReconciler:
        name = self.venue.name
        return VenueReconciler(
            self.sessions,
            self.journal,
            {name: self.venue.bot},
            trackers={name: self.tracker},
            executors={name: self.executor},
            policies={name: policy},
            bot_name=BOT,
            settle_seconds=0.2,
        )

    async def passive_price(self) -> Decimal:
        bid, _ = await self.venue.bot.best_bid_ask("BTC")
        _, price = await self.venue.bot.prepare_limit("BTC", "buy", SIZE, bid * D("0.95"))
        return price

    async def by_hand_limit(self) -> str:
        order = await self.venue.hand.place_limit_order(
            "BTC", "buy", SIZE, await self.passive_price(), client_order_id="manual-1"
        )
        assert order.venue_order_id is not None
        return order.venue_order_id

    async def bot_trades(self) -> None:
        """A journaled position and a journaled resting order."""
        result = await self.executor.execute(
            ExecutionRequest("BTC", "buy", SIZE * 2, ExecutionMode.MARKET)
        )
        assert result.filled_size == SIZE * 2
        await self.executor.submit("BTC", "buy", SIZE, price=await self.passive_price())
        await self.tracker.flush()

    async def venue_position(self) -> Decimal:
        position = await self.venue.bot.position("BTC")
        return position.size if position is not None else D(0)

    async def rows(self, purpose: str) -> list[OrderRow]:
        async with self.sessions() as session:
            return list(await session.scalars(select(OrderRow).where(OrderRow.purpose == purpose)))


@asynccontextmanager
async def build_rig(
    venue_name: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Rig]:
    async with sessions.begin() as session:
        bot, account = Bot(name=BOT, config={}), Account(name="main")
        session.add_all([bot, account])
    async with VENUES[venue_name]() as venue:
        journal = OrderJournal(sessions, bot_id=bot.id, accounts={venue.name: account.id})
        tracker = OrderTracker(venue.bot, journal)
        await tracker.start()
        executor = OrderExecutor(venue.bot, journal, tracker, ClientOrderIds(BOT))
        try:
            yield Rig(venue, journal, tracker, executor, sessions)
        finally:
            await tracker.stop()


@pytest.fixture(params=["binance", "hyperliquid"])
async def rig(
    request: pytest.FixtureRequest, db_sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Rig]:
    """The policies, on the native clients (ccxt shares the code path: the reconnect test)."""
    async with build_rig(request.param, db_sessions) as built:
        yield built


@pytest.fixture(params=sorted(VENUES))
async def any_rig(
    request: pytest.FixtureRequest, db_sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Rig]:
    async with build_rig(request.param, db_sessions) as built:
        yield built


async def test_refuse_names_the_hand_order_and_the_changed_position(rig: Rig) -> None:
    await rig.bot_trades()
    assert (await rig.reconciler("refuse").run()).clean
    venue_id = await rig.by_hand_limit()
    await rig.venue.hand.place_market_order("BTC", "buy", SIZE, client_order_id="manual-mkt")

    outcome = await rig.reconciler("refuse").run()

    name = rig.venue.name
    [order_line, position_line] = outcome.refused
    assert order_line.startswith(f"{name}:BTC: open order ")
    assert f"(venue id {venue_id}) buy 0.002 @ " in order_line
    assert order_line.endswith("not placed by this bot (by hand or by another program)")
    assert position_line == (
        f"{name}:BTC: position 0.006 on the venue, the journal explains 0.004 (difference 0.002)"
    )
    assert venue_id in {o.venue_order_id for o in await rig.venue.bot.open_orders()}
    assert await rig.venue_position() == D("0.006")


async def test_adopt_takes_the_venue_state_into_the_journal(rig: Rig) -> None:
    await rig.bot_trades()
    venue_id = await rig.by_hand_limit()
    await rig.venue.hand.place_market_order("BTC", "buy", SIZE, client_order_id="manual-mkt")

    outcome = await rig.reconciler("adopt").run()

    assert len(outcome.adopted) == 2
    assert outcome.failed == []
    [adopted] = await rig.rows(ADOPTED)
    assert (adopted.venue_order_id, adopted.size, adopted.status) == (venue_id, SIZE, "open")
    assert (await rig.reconciler("refuse").run()).clean
    assert await rig.venue_position() == D("0.006")  # nothing traded


async def test_an_adopted_order_is_found_again_by_its_venue_id(rig: Rig) -> None:
    """An adopted order's client id is whatever the venue client made of it (Hyperliquid: the
    other program's cloid, or ``hl-<oid>`` without one), which the venue may not look up as a
    client id: the start-up reconcile, the tracker's poll and a cancel find it by its venue
    id instead of marking it failed or lost."""
    venue_id = await rig.by_hand_limit()
    await rig.reconciler("adopt").run()
    [adopted] = await rig.rows(ADOPTED)
    client_id = adopted.client_order_id
    name = rig.venue.name

    # A restart: the journal's reconcile (grace 0: an unknown order is failed at once).
    report = await reconcile(
        rig.journal, {name: rig.venue.bot}, keep_resting=lambda _: True, grace=timedelta(0)
    )
    assert (report.adopted, report.failed, report.lost) == ([client_id], [], [])
    # The tracker asks about it once it has been silent (lost after one "not found").
    poller = OrderTracker(rig.venue.bot, rig.journal, silence_seconds=0, lost_after=1)
    poller.track((await rig.journal.get(client_id)).as_order())
    await poller.poll_once()
    assert poller.get(client_id).status is OrderStatus.OPEN
    await poller.poll_once()  # asked by its venue id at once now: still there
    assert poller.get(client_id).status is OrderStatus.OPEN
    cancelled = await rig.executor.cancel("BTC", client_id)
    assert (cancelled.client_order_id, cancelled.venue_order_id) == (client_id, venue_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert venue_id not in {o.venue_order_id for o in await rig.venue.bot.open_orders()}
    await rig.tracker.flush()
    assert (await rig.journal.get(client_id)).status is OrderStatus.CANCELLED


async def test_cancel_cancels_the_hand_order_and_closes_the_unexplained_part(rig: Rig) -> None:
    await rig.bot_trades()
    venue_id = await rig.by_hand_limit()
    await rig.venue.hand.place_market_order("BTC", "buy", SIZE, client_order_id="manual-mkt")

    outcome = await rig.reconciler("cancel").run()

    assert outcome.failed == []
    assert len(outcome.cancelled) == 1
    assert len(outcome.flattened) == 1
    assert venue_id not in {o.venue_order_id for o in await rig.venue.bot.open_orders()}
    assert await rig.venue_position() == SIZE * 2
    [flatten] = await rig.rows(FLATTEN)
    assert (flatten.side, flatten.size, flatten.reduce_only) == ("sell", SIZE, True)
    await rig.tracker.flush()
    assert (await rig.reconciler("refuse").run()).clean


async def test_after_a_reconnect_the_same_check_finds_what_happened_meanwhile(
    any_rig: Rig,
) -> None:
    rig = any_rig
    await rig.bot_trades()
    reconnects = rig.venue.bot.reconnects()
    await rig.venue.drop_connections(0.3)  # the bot's streams are down for a moment ...
    venue_id = await rig.by_hand_limit()  # ... while someone trades on the account
    await rig.venue.hand.place_market_order("BTC", "buy", SIZE, client_order_id="manual-mkt")

    event: Reconnected = await asyncio.wait_for(anext(reconnects), GUARD_SECONDS)
    assert event.venue == rig.venue.name

    outcome = await rig.reconciler("refuse").run(settle=True)
    assert len(outcome.refused) == 2
    assert venue_id in outcome.refused[0]
    assert "difference 0.002" in outcome.refused[1]
