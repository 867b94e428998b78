"""Reconciliation against the venue (execution.reconciliation) on the real paper venue,
journaled on SQLite and PostgreSQL: orders placed by hand, positions changed outside the bot,
and each policy."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.models import Account, Bot
from database.models import Fill as FillRow
from database.models import Order as OrderRow
from exchange_clients.rounding import round_price
from exchange_clients.types import OrderStatus
from execution.client_ids import ClientOrderIds
from execution.journal import OrderJournal
from execution.order_executor import ExecutionMode, ExecutionRequest, OrderExecutor
from execution.order_tracker import OrderTracker
from execution.reconciliation import ADOPTED, EXTERNAL, FLATTEN, VenueReconciler
from tests.exchange_clients.contract.paper_harness import paper_harness
from tests.exchange_clients.contract.venue_harness import VenueHarness
from trading_config.schema import ReconciliationPolicy

D = Decimal
SIZE = D("0.002")
BOT = "recon-test"


@dataclass
class Rig:
    venue: VenueHarness
    journal: OrderJournal
    tracker: OrderTracker
    executor: OrderExecutor
    sessions: async_sessionmaker[AsyncSession]
    account_id: int

    def reconciler(
        self,
        policy: ReconciliationPolicy,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> VenueReconciler:
        return VenueReconciler(
            self.sessions,
            self.journal,
            {"paper": self.venue.client},
            trackers={"paper": self.tracker},
            executors={"paper": self.executor},
            policies={"paper": policy},
            bot_name=BOT,
            sleep=sleep,
        )

    async def by_hand_limit(self, client_order_id: str = "manual-1") -> str:
        """A resting buy placed on the account without the bot (the venue's web page)."""
        bid, _ = await self.venue.client.best_bid_ask("BTC")
        market = await self.venue.client.market("BTC")
        price = round_price(market, bid * D("0.9"), "buy")
        order = await self.venue.client.place_limit_order(
            "BTC", "buy", SIZE, price, client_order_id=client_order_id
        )
        assert order.venue_order_id is not None
        return order.venue_order_id

    async def rows(self, purpose: str) -> list[OrderRow]:
        async with self.sessions() as session:
            return list(await session.scalars(select(OrderRow).where(OrderRow.purpose == purpose)))


@pytest.fixture
async def rig(db_sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Rig]:
    async with db_sessions.begin() as session:
        bot, account = Bot(name=BOT, config={}), Account(name="paper-main")
        session.add_all([bot, account])
    async with paper_harness("paper") as venue:
        journal = OrderJournal(db_sessions, bot_id=bot.id, accounts={"paper": account.id})
        tracker = OrderTracker(venue.client, journal)
        await tracker.start()
        executor = OrderExecutor(venue.client, journal, tracker, ClientOrderIds(BOT))

        async def pump() -> None:  # venue time passes while the test waits on the executor
            while True:
                await venue.advance(0.25)
                await asyncio.sleep(0.002)

        pumping = asyncio.create_task(pump())
        try:
            yield Rig(venue, journal, tracker, executor, db_sessions, account.id)
        finally:
            pumping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pumping
            await tracker.stop()


async def trade_through_the_bot(rig: Rig) -> None:
    """A journaled position and a journaled resting order: both explained."""
    await rig.executor.execute(ExecutionRequest("BTC", "buy", SIZE * 2, ExecutionMode.MARKET))
    bid, _ = await rig.venue.client.best_bid_ask("BTC")
    price = round_price(await rig.venue.client.market("BTC"), bid * D("0.95"), "buy")
    await rig.executor.submit("BTC", "buy", SIZE, price=price)
    await rig.tracker.flush()


async def test_what_the_bot_did_itself_is_explained(rig: Rig) -> None:
    await trade_through_the_bot(rig)
    assert await rig.venue.client.open_orders()
    assert await rig.venue.client.position("BTC") is not None
    outcome = await rig.reconciler("refuse").run()
    assert outcome.clean
    assert outcome.refused == []


async def test_refuse_names_the_hand_placed_order_and_touches_nothing(rig: Rig) -> None:
    await trade_through_the_bot(rig)
    venue_id = await rig.by_hand_limit()
    ours = await rig.by_hand_limit(ClientOrderIds(BOT).next())  # our format, never journaled
    before = await rig.venue.client.open_orders()

    outcome = await rig.reconciler("refuse").run()

    assert outcome.refused == [
        f"paper:BTC: open order manual-1 (venue id {venue_id}) buy 0.002 @ "
        f"{outcome.findings.orders[0].order.price} is not in the journal: not placed by this bot "
        "(by hand or by another program)",
        f"paper:BTC: open order {outcome.findings.orders[1].order.client_order_id} (venue id "
        f"{ours}) buy 0.002 @ {outcome.findings.orders[1].order.price} is not in the journal: it "
        "carries this bot's client id prefix but the journal does not know it",
    ]
    assert await rig.venue.client.open_orders() == before
    assert await rig.rows(ADOPTED) == []


async def test_refuse_names_a_position_changed_outside_the_bot(rig: Rig) -> None:
    await trade_through_the_bot(rig)
    await rig.venue.client.place_market_order("BTC", "buy", SIZE, client_order_id="manual-mkt")
    outcome = await rig.reconciler("refuse").run()
    assert outcome.refused == [
        "paper:BTC: position 0.006 on the venue, the journal explains 0.004 (difference 0.002)"
    ]
    assert (await rig.venue.client.position("BTC")).size == D("0.006")  # type: ignore[union-attr]


async def test_adopt_journals_the_order_and_tracks_its_fills(rig: Rig) -> None:
    venue_id = await rig.by_hand_limit()
    outcome = await rig.reconciler("adopt").run()
    assert len(outcome.adopted) == 1
    [row] = await rig.rows(ADOPTED)
    assert (row.client_order_id, row.venue_order_id, row.status, row.size) == (
        "manual-1",
        venue_id,
        "open",
        SIZE,
    )
    assert (await rig.reconciler("refuse").run()).clean  # explained from now on

    # The adopted order fills: the tracker journals it, so the position is explained too.
    assert rig.venue.move_mark is not None
    await rig.venue.move_mark("BTC", row.price * D("0.98"))  # type: ignore[operator]
    for _ in range(400):
        await rig.tracker.flush()
        if (await rig.journal.get("manual-1")).status is OrderStatus.FILLED:
            break
        await asyncio.sleep(0.01)
    assert (await rig.journal.get("manual-1")).status is OrderStatus.FILLED
    assert (await rig.venue.client.position("BTC")).size == SIZE  # type: ignore[union-attr]
    assert (await rig.reconciler("refuse").run()).clean


async def test_adopt_journals_a_position_difference_as_an_external_fill(rig: Rig) -> None:
    await trade_through_the_bot(rig)
    await rig.venue.client.place_market_order(
        "BTC", "sell", SIZE * 3, client_order_id="manual-flip"
    )  # 0.004 long -> 0.002 short, by hand
    outcome = await rig.reconciler("adopt").run()
    assert outcome.adopted == [
        "paper:BTC: position -0.002 on the venue, the journal explains 0.004 (difference -0.006)"
    ]
    [row] = await rig.rows(EXTERNAL)
    assert (row.side, row.size, row.filled_size, row.status) == (
        "sell",
        D("0.006"),
        D("0.006"),
        "filled",
    )
    async with rig.sessions() as session:
        fill = await session.scalar(select(FillRow).where(FillRow.order_id == row.id))
    assert fill is not None
    assert fill.size == D("0.006")
    assert (await rig.venue.client.position("BTC")).size == -SIZE  # type: ignore[union-attr]
    assert (await rig.reconciler("refuse").run()).clean


async def test_cancel_cancels_the_order_and_closes_the_unexplained_part(rig: Rig) -> None:
    await trade_through_the_bot(rig)
    await rig.by_hand_limit()
    await rig.venue.client.place_market_order("BTC", "buy", SIZE, client_order_id="manual-mkt")

    outcome = await rig.reconciler("cancel").run()

    assert len(outcome.cancelled) == 1
    assert outcome.flattened == [
        "paper:BTC: position 0.006 on the venue, the journal explains 0.004 (difference 0.002): "
        "closed sell 0.002"
    ]
    assert outcome.failed == []
    assert all(o.client_order_id != "manual-1" for o in await rig.venue.client.open_orders())
    assert (await rig.venue.client.position("BTC")).size == SIZE * 2  # type: ignore[union-attr]
    [flatten] = await rig.rows(FLATTEN)
    assert (flatten.side, flatten.reduce_only, flatten.status) == ("sell", True, "filled")
    await rig.tracker.flush()
    assert (await rig.reconciler("refuse").run()).clean


async def test_cancel_adopts_a_position_closed_outside_the_bot(rig: Rig) -> None:
    """A reduce-only order cannot restore exposure someone closed: the journal follows."""
    await trade_through_the_bot(rig)
    await rig.venue.client.place_market_order(
        "BTC", "sell", SIZE, client_order_id="manual-close", reduce_only=True
    )
    outcome = await rig.reconciler("cancel").run()
    assert outcome.flattened == []
    assert outcome.adopted == [
        "paper:BTC: position 0.002 on the venue, the journal explains 0.004 (difference -0.002): "
        "smaller than explained, adopted"
    ]
    assert await rig.rows(FLATTEN) == []
    assert (await rig.venue.client.position("BTC")).size == SIZE  # type: ignore[union-attr]
    assert (await rig.reconciler("refuse").run()).clean


async def test_a_difference_that_settles_meanwhile_is_not_acted_on(rig: Rig) -> None:
    """After a reconnect, a finding must still be there after the settle wait."""
    venue_id = await rig.by_hand_limit()

    async def settle(seconds: float) -> None:  # the order goes while we wait
        await rig.venue.client.cancel_order("BTC", venue_id)

    outcome = await rig.reconciler("cancel", sleep=settle).run(settle=True)
    assert outcome.clean
    assert outcome.cancelled == []


async def test_an_account_shared_with_another_bot_explains_its_orders(
    rig: Rig, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The venue reports the account: another bot's journaled orders on it are explained."""
    async with db_sessions.begin() as session:
        other = Bot(name="recon-other", config={})
        session.add(other)
    other_journal = OrderJournal(db_sessions, bot_id=other.id, accounts={"paper": rig.account_id})
    other_tracker = OrderTracker(rig.venue.client, other_journal)
    await other_tracker.start()
    try:
        other_executor = OrderExecutor(
            rig.venue.client, other_journal, other_tracker, ClientOrderIds("recon-other")
        )
        await other_executor.execute(ExecutionRequest("BTC", "buy", SIZE, ExecutionMode.MARKET))
        bid, _ = await rig.venue.client.best_bid_ask("BTC")
        price = round_price(await rig.venue.client.market("BTC"), bid * D("0.95"), "buy")
        await other_executor.submit("BTC", "buy", SIZE, price=price)
        await other_tracker.flush()
        assert (await rig.reconciler("refuse").run()).clean
    finally:
        await other_tracker.stop()
