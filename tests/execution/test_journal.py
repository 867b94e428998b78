"""The order journal on SQLite and PostgreSQL, reconciled against the real paper venue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import DuplicateClientOrderId, RequestTimeout
from database.models import Account, Bot
from database.models import Fill as FillRow
from database.models import Order as OrderRow
from database.types import utcnow
from exchange_clients.paper import FaultPlan, PaperExchangeClient
from exchange_clients.rounding import round_price
from exchange_clients.types import Fill, Order, OrderStatus, OrderType
from execution.client_ids import ClientOrderIds
from execution.group_commit import GroupCommitter
from execution.journal import JournalError, OrderIntent, OrderJournal, reconcile
from tests.exchange_clients.contract.paper_harness import paper_harness
from tests.exchange_clients.contract.venue_harness import VenueHarness

D = Decimal
SIZE = D("0.002")


@pytest.fixture
async def journal(db_sessions: async_sessionmaker[AsyncSession]) -> OrderJournal:
    async with db_sessions.begin() as session:
        bot, account = Bot(name="journal-test", config={}), Account(name="paper-main")
        session.add_all([bot, account])
    return OrderJournal(db_sessions, bot_id=bot.id, accounts={"paper": account.id})


@pytest.fixture
async def venue() -> AsyncIterator[VenueHarness]:
    async with paper_harness("paper") as harness:
        yield harness


ids = ClientOrderIds("journal-test")


LIMIT_PRICE = D(1000)


def intent(order_type: OrderType = OrderType.LIMIT, price: Decimal = LIMIT_PRICE) -> OrderIntent:
    return OrderIntent(
        client_order_id=ids.next(),
        venue="paper",
        symbol="BTC",
        side="buy",
        order_type=order_type,
        size=SIZE,
        price=price if order_type is OrderType.LIMIT else None,
        purpose="test",
        operation_id="op-1",
    )


def venue_order(client_order_id: str, status: OrderStatus, filled: str = "0") -> Order:
    return Order(
        client_order_id=client_order_id,
        venue_order_id="v-1",
        symbol="BTC",
        side="buy",
        order_type=OrderType.LIMIT,
        size=SIZE,
        price=D(1000),
        status=status,
        filled_size=D(filled),
        avg_fill_price=D(1000) if D(filled) else None,
    )


async def passive_price(venue: VenueHarness) -> Decimal:
    bid, _ = await venue.client.best_bid_ask("BTC")
    return round_price(await venue.client.market("BTC"), bid * D("0.9"), "buy")


async def test_intent_is_committed_before_anything_is_sent(
    journal: OrderJournal, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    planned = intent()
    await journal.record_intent(planned)
    async with db_sessions() as other_session:  # what a crash right now would leave behind
        row = await other_session.scalar(
            select(OrderRow).where(OrderRow.client_order_id == planned.client_order_id)
        )
    assert row is not None
    assert (row.status, row.size, row.price, row.operation_id) == ("pending", SIZE, D(1000), "op-1")
    with pytest.raises(JournalError, match="is already journaled"):
        await journal.record_intent(planned)


async def test_states_are_monotonic(journal: OrderJournal) -> None:
    planned = intent()
    await journal.record_intent(planned)
    cid = planned.client_order_id
    await journal.record_order(venue_order(cid, OrderStatus.PARTIALLY_FILLED, "0.001"))
    stale = await journal.record_order(venue_order(cid, OrderStatus.OPEN, "0"))
    assert stale.filled_size == D("0.001")  # a stale update cannot undo a fill
    await journal.record_order(venue_order(cid, OrderStatus.FILLED, "0.002"))
    late = await journal.record_order(venue_order(cid, OrderStatus.CANCELLED, "0.002"))
    assert (late.status, late.filled_size, late.venue_order_id) == (
        OrderStatus.FILLED,
        D("0.002"),
        "v-1",
    )
    with pytest.raises(JournalError, match="already filled; cannot mark it failed"):
        await journal.mark(cid, OrderStatus.FAILED, "test")


def count_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every batch the journal's committer writes from now on, in order."""
    batches: list[int] = []
    commit = GroupCommitter._commit

    async def counting(self: GroupCommitter, batch: list[Any]) -> None:
        batches.append(len(batch))
        await commit(self, batch)

    monkeypatch.setattr(GroupCommitter, "_commit", counting)
    return batches


async def test_a_batch_mixing_tracker_writes_and_order_writes_stays_monotonic(
    journal: OrderJournal,
    db_sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A tracker's batch is written with Core statements, beside the ORM writes of the same
    transaction: the row those loaded must not be merged into stale afterwards."""
    planned = intent()
    await journal.record_intent(planned)
    cid = planned.client_order_id
    batches = count_batches(monkeypatch)
    # The session's identity map holds clean ORM objects weakly: keep the loaded rows alive,
    # as any caller holding one would, so the batch's later write finds the same object.
    held: list[OrderRow] = []
    load_row = OrderJournal._row

    async def holding(self: OrderJournal, session: AsyncSession, cid: str, **kw: Any) -> OrderRow:
        row = await load_row(self, session, cid, **kw)
        held.append(row)
        return row

    monkeypatch.setattr(OrderJournal, "_row", holding)
    fill = Fill(
        venue="paper",
        fill_id="f-1",
        client_order_id=cid,
        venue_order_id="v-1",
        symbol="BTC",
        side="buy",
        price=D(1000),
        size=SIZE,
        fee=D("0.001"),
        liquidity="taker",
        ts=utcnow(),
    )
    first, _, last = await asyncio.gather(
        # The ORM loads the row and changes it (flushed before the Core statements read) ...
        journal.record_order(venue_order(cid, OrderStatus.PARTIALLY_FILLED, "0.001")),
        # ... the tracker's batch fills it with a Core UPDATE ...
        journal.record_changes([fill], [venue_order(cid, OrderStatus.FILLED, "0.002")]),
        # ... and a late cancel merged into the ORM row must see it filled, not partial.
        journal.record_order(venue_order(cid, OrderStatus.CANCELLED, "0.002")),
    )
    assert batches == [3]  # one transaction, or this proves nothing
    assert len(held) == 2
    assert held[0] is held[1]  # the same ORM object, before and after
    assert (first.status, first.filled_size) == (OrderStatus.PARTIALLY_FILLED, D("0.001"))
    assert (last.status, last.filled_size) == (OrderStatus.FILLED, D("0.002"))
    stored = await journal.get(cid)
    assert (stored.status, stored.filled_size, stored.avg_fill_price) == (
        OrderStatus.FILLED,
        D("0.002"),
        D(1000),
    )
    assert [f.fill_id for f in await journal.fills_of(cid)] == ["f-1"]
    # The same batch again writes nothing new: the fill is known, the states merge to the same.
    await journal.record_changes([fill], [venue_order(cid, OrderStatus.CANCELLED, "0.002")])
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FillRow)) == 1
    assert (await journal.get(cid)).status is OrderStatus.FILLED


async def test_a_tracker_batch_reads_the_unflushed_orm_writes_of_its_transaction(
    journal: OrderJournal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tracker's Core select sees a fill an earlier write of the same transaction made
    through the unit of work (flushed first): a stale report then cannot undo it."""
    planned = intent()
    await journal.record_intent(planned)
    cid = planned.client_order_id
    batches = count_batches(monkeypatch)
    await asyncio.gather(
        journal.record_order(venue_order(cid, OrderStatus.FILLED, "0.002")),
        journal.record_changes([], [venue_order(cid, OrderStatus.OPEN, "0")]),
    )
    assert batches == [2]  # one transaction, or this proves nothing
    stored = await journal.get(cid)
    assert (stored.status, stored.filled_size) == (OrderStatus.FILLED, D("0.002"))


async def test_fills_are_stored_once(
    journal: OrderJournal, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    planned = intent()
    await journal.record_intent(planned)
    fill = Fill(
        venue="paper",
        fill_id="f-1",
        client_order_id=planned.client_order_id,
        venue_order_id="v-1",
        symbol="BTC",
        side="buy",
        price=D("1000.5"),
        size=SIZE,
        fee=D("0.0010005"),
        liquidity="maker",
        ts=utcnow(),
    )
    assert await journal.record_fill(fill) is True
    assert await journal.record_fill(fill) is False
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FillRow)) == 1
        stored = await session.scalar(select(FillRow))
    assert stored is not None
    assert (stored.price, stored.fee) == (D("1000.5"), D("0.0010005"))


async def test_reconcile_adopts_fails_loses_and_cancels(
    journal: OrderJournal, venue: VenueHarness
) -> None:
    client = venue.client
    price = await passive_price(venue)

    # Sent and acknowledged by the venue, but the process died before recording the ack.
    keep, drop = intent(price=price), intent(price=price)
    filled = intent(OrderType.MARKET)
    for planned in (keep, drop):
        await journal.record_intent(planned)
        await client.place_limit_order(
            "BTC", "buy", SIZE, price, client_order_id=planned.client_order_id
        )
    await journal.record_intent(filled)
    await client.place_market_order("BTC", "buy", SIZE, client_order_id=filled.client_order_id)
    # Recorded, never sent: one long ago, one just now.
    old, fresh = intent(), intent()
    await journal.record_intent(old)
    await journal.record_intent(fresh)

    report = await reconcile(
        journal,
        {"paper": client},
        keep_resting=lambda order: order.client_order_id == keep.client_order_id,
        grace=timedelta(seconds=30),
    )
    assert report.adopted == [keep.client_order_id, drop.client_order_id, filled.client_order_id]
    assert report.cancelled == [drop.client_order_id]
    assert report.failed == []
    assert report.lost == [old.client_order_id, fresh.client_order_id]

    kept = await journal.get(keep.client_order_id)
    assert kept.status is OrderStatus.OPEN
    assert kept.venue_order_id
    assert (await journal.get(drop.client_order_id)).status is OrderStatus.CANCELLED
    assert [o.client_order_id for o in await client.open_orders()] == [keep.client_order_id]
    market = await journal.get(filled.client_order_id)
    assert (market.status, market.filled_size) == (OrderStatus.FILLED, SIZE)

    # A minute later, what is still missing never landed.
    later = await reconcile(
        journal,
        {"paper": client},
        keep_resting=lambda _: True,
        now=lambda: utcnow() + timedelta(minutes=1),
    )
    assert later.failed == [old.client_order_id, fresh.client_order_id]
    assert later.adopted == [keep.client_order_id]
    assert {o.client_order_id for o in await journal.unfinished()} == {keep.client_order_id}


async def test_timeout_after_landing_is_resolved_without_a_duplicate(
    journal: OrderJournal, venue: VenueHarness
) -> None:
    client = venue.client
    assert isinstance(client, PaperExchangeClient)
    price = await passive_price(venue)
    planned = intent(price=price)
    await journal.record_intent(planned)
    client.faults = FaultPlan(timeout_after_landing=1)
    with pytest.raises(RequestTimeout):
        await client.place_limit_order(
            "BTC", "buy", SIZE, price, client_order_id=planned.client_order_id
        )
    # The retry reuses the client order id: the venue refuses to create a second order.
    with pytest.raises(DuplicateClientOrderId):
        await client.place_limit_order(
            "BTC", "buy", SIZE, price, client_order_id=planned.client_order_id
        )
    report = await reconcile(journal, {"paper": client}, keep_resting=lambda _: True)
    assert report.adopted == [planned.client_order_id]
    assert len(await client.open_orders()) == 1
    assert (await journal.get(planned.client_order_id)).status is OrderStatus.OPEN


def test_client_order_ids_are_unique_short_and_tagged() -> None:
    clock = iter([1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_001])
    generator = ClientOrderIds("Grid BTC #1", clock_ms=lambda: next(clock))
    issued = [generator.next() for _ in range(3)]
    assert issued == ["gridbtc1-loyw3v28-0", "gridbtc1-loyw3v28-1", "gridbtc1-loyw3v29-2"]
    with pytest.raises(ValueError, match="has no letters or digits"):
        ClientOrderIds("---")


async def test_reconcile_records_the_fills_it_learns_once_and_trusts_the_venue_quickly(
    journal: OrderJournal, venue: VenueHarness, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    # The process died after sending a market order: it filled, the fill event was never
    # received. Reconcile learns the fill from order_status and must write the ``fills`` row
    # (the venue's fill id from its history), once however often it runs.
    client = venue.client
    filled = intent(OrderType.MARKET)
    await journal.record_intent(filled)
    await client.place_market_order("BTC", "buy", SIZE, client_order_id=filled.client_order_id)
    # Recorded ten seconds ago and never sent: the venue's "not found" is the answer (the
    # default grace covers a request still on the wire, a few seconds, not half a minute).
    never_sent = intent()
    await journal.record_intent(never_sent)

    def ten_seconds_later() -> datetime:
        return utcnow() + timedelta(seconds=10)

    for _ in range(2):
        report = await reconcile(
            journal, {"paper": client}, keep_resting=lambda _: False, now=ten_seconds_later
        )
    assert report.failed == []  # already failed by the first pass
    async with db_sessions() as session:
        fills = list(await session.scalars(select(FillRow)))
    order = await journal.get(filled.client_order_id)
    assert [(f.venue_fill_id, f.size) for f in fills] == [(f"{order.venue_order_id}-1", SIZE)]
    assert (await journal.get(never_sent.client_order_id)).status is OrderStatus.FAILED
