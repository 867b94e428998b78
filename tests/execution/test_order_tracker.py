"""The order tracker against the real paper venue, on a manual clock, journaled on both DBs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from database.models import Account, Bot
from database.types import utcnow
from exchange_clients.factory import create_client
from exchange_clients.market_data.synthetic import SyntheticFeed, SyntheticMarket
from exchange_clients.paper import PaperExchangeClient
from exchange_clients.rounding import round_price
from exchange_clients.types import (
    ClientSettings,
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
)
from execution.client_ids import ClientOrderIds
from execution.journal import OrderIntent, OrderJournal
from execution.order_tracker import OrderTracker

D = Decimal
SIZE = D("0.002")
ids = ClientOrderIds("tracker-test")


@pytest.fixture
async def paper() -> AsyncIterator[tuple[PaperExchangeClient, ManualClock]]:
    clock = ManualClock(datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC))
    feed = SyntheticFeed(SyntheticMarket(seed=5, venue="paper"), clock)
    client = create_client(
        ClientSettings(venue="paper", options={"feed": feed, "clock": clock, "store": None})
    )
    assert isinstance(client, PaperExchangeClient)
    await client.connect()
    await clock.advance(1)
    yield client, clock
    await client.disconnect()


@pytest.fixture
async def journal(db_sessions: async_sessionmaker[AsyncSession]) -> OrderJournal:
    async with db_sessions.begin() as session:
        bot, account = Bot(name="tracker-test", config={}), Account(name="paper-main")
        session.add_all([bot, account])
    return OrderJournal(db_sessions, bot_id=bot.id, accounts={"paper": account.id})


async def place_passive(client: PaperExchangeClient, journal: OrderJournal | None) -> Order:
    bid, _ = await client.best_bid_ask("BTC")
    price = round_price(await client.market("BTC"), bid * D("0.9"), "buy")
    client_id = ids.next()
    if journal is not None:
        await journal.record_intent(
            OrderIntent(client_id, "paper", "BTC", "buy", OrderType.LIMIT, SIZE, price)
        )
    return await client.place_limit_order("BTC", "buy", SIZE, price, client_order_id=client_id)


def pending(client_order_id: str) -> Order:
    return Order(
        client_order_id=client_order_id,
        venue_order_id=None,
        symbol="BTC",
        side="buy",
        order_type=OrderType.LIMIT,
        size=SIZE,
        price=D(1000),
        status=OrderStatus.PENDING,
    )


async def test_stream_delivers_the_cancel_and_the_journal_records_it(
    paper: tuple[PaperExchangeClient, ManualClock], journal: OrderJournal
) -> None:
    client, clock = paper
    tracker = OrderTracker(client, journal, clock=clock, poll_interval=60, silence_seconds=60)
    await tracker.start()
    try:
        order = await place_passive(client, journal)
        tracker.track(order)
        await tracker.mark_cancel_requested(order.client_order_id)
        assert tracker.get(order.client_order_id).status is OrderStatus.PENDING_CANCEL
        await client.cancel_by_client_id("BTC", order.client_order_id)
        final = await asyncio.wait_for(tracker.wait_final(order.client_order_id), 10)
        assert final.status is OrderStatus.CANCELLED
        await tracker.flush()
        assert (await journal.get(order.client_order_id)).status is OrderStatus.CANCELLED
    finally:
        await tracker.stop()


async def test_silent_stream_is_covered_by_polling(
    paper: tuple[PaperExchangeClient, ManualClock],
) -> None:
    client, clock = paper
    tracker = OrderTracker(
        client, clock=clock, use_streams=False, poll_interval=1, silence_seconds=2
    )
    await tracker.start()
    try:
        order = await place_passive(client, None)
        tracker.track(order)
        await client.cancel_by_client_id("BTC", order.client_order_id)
        await clock.advance(1)
        assert tracker.get(order.client_order_id).status is OrderStatus.OPEN  # not silent yet
        await clock.advance(2)
        assert tracker.get(order.client_order_id).status is OrderStatus.CANCELLED
    finally:
        await tracker.stop()


async def test_not_found_repeatedly_becomes_lost_and_is_still_polled(
    paper: tuple[PaperExchangeClient, ManualClock],
) -> None:
    client, clock = paper
    tracker = OrderTracker(client, clock=clock, use_streams=False, silence_seconds=0, lost_after=3)
    client_id = ids.next()
    tracked = tracker.track(pending(client_id))
    for expected in (1, 2):
        await tracker.poll_once()
        assert (tracked.not_found, tracked.status) == (expected, OrderStatus.PENDING)
    await tracker.poll_once()
    assert tracked.status is OrderStatus.LOST
    # It shows up after all (say the venue indexed it late): the next poll adopts it.
    bid, _ = await client.best_bid_ask("BTC")
    price = round_price(await client.market("BTC"), bid * D("0.9"), "buy")
    await client.place_limit_order("BTC", "buy", SIZE, price, client_order_id=client_id)
    await tracker.poll_once()
    assert (tracked.status, tracked.not_found) == (OrderStatus.OPEN, 0)
    assert tracked.order.venue_order_id


async def test_fills_after_a_cancel_are_applied_once_and_never_reopen_the_order(
    paper: tuple[PaperExchangeClient, ManualClock], journal: OrderJournal
) -> None:
    client, clock = paper
    tracker = OrderTracker(client, journal, clock=clock)
    order = await place_passive(client, journal)
    tracker.track(order)
    cancelled = await client.cancel_by_client_id("BTC", order.client_order_id)
    await tracker.apply_order(cancelled)
    assert order.price is not None
    late = Fill(
        venue="paper",
        fill_id="late-1",
        client_order_id=order.client_order_id,
        venue_order_id=order.venue_order_id,
        symbol="BTC",
        side="buy",
        price=order.price,
        size=D("0.001"),
        fee=D("0.01"),
        liquidity="maker",
        ts=utcnow(),
    )
    await tracker.apply_fill(late)
    await tracker.apply_fill(late)  # delivered twice by a reconnecting stream
    tracked = tracker.get(order.client_order_id)
    assert (tracked.status, tracked.order.filled_size) == (OrderStatus.CANCELLED, D("0.001"))
    assert tracked.order.avg_fill_price == order.price
    await tracker.flush()  # the journal is written behind the published state
    journaled = await journal.get(order.client_order_id)
    assert (journaled.status, journaled.filled_size) == (OrderStatus.CANCELLED, D("0.001"))
    # A stale "open, nothing filled" report cannot undo either.
    await tracker.apply_order(order)
    assert (tracked.status, tracked.order.filled_size) == (OrderStatus.CANCELLED, D("0.001"))


async def test_a_journal_write_that_fails_is_retried_until_it_lands(
    paper: tuple[PaperExchangeClient, ManualClock], journal: OrderJournal
) -> None:
    client, clock = paper
    tracker = OrderTracker(client, journal, clock=clock, poll_interval=60, silence_seconds=60)
    order = await place_passive(client, None)  # on the venue, not (yet) in the journal
    tracker.track(order)
    await tracker.apply_order(replace(order, status=OrderStatus.CANCELLED))
    await asyncio.sleep(0.3)  # the write has failed (unknown order) and is being retried
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(tracker.flush(), 0.05)
    await journal.record_intent(
        OrderIntent(
            order.client_order_id, "paper", "BTC", "buy", OrderType.LIMIT, SIZE, order.price
        )
    )
    await asyncio.wait_for(tracker.flush(), 10)
    assert (await journal.get(order.client_order_id)).status is OrderStatus.CANCELLED
    await tracker.stop()


async def test_an_update_that_cannot_be_applied_does_not_stop_the_stream(
    paper: tuple[PaperExchangeClient, ManualClock],
    journal: OrderJournal,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug on one event used to end the consumer task silently: every later update of every
    order was lost. Now the event is logged and the stream goes on."""
    client, clock = paper
    tracker = OrderTracker(client, journal, clock=clock, poll_interval=60, silence_seconds=60)
    await tracker.start()
    real_apply = tracker.apply_order
    failed: list[str] = []

    async def apply_with_one_bug(order: Order) -> None:
        if not failed:
            failed.append(order.client_order_id)
            raise KeyError("a bug while applying")
        await real_apply(order)

    monkeypatch.setattr(tracker, "apply_order", apply_with_one_bug)
    try:
        first = await place_passive(client, journal)
        second = await place_passive(client, journal)
        tracker.track(first)
        tracker.track(second)
        await client.cancel_by_client_id("BTC", first.client_order_id)
        await client.cancel_by_client_id("BTC", second.client_order_id)
        final = await asyncio.wait_for(tracker.wait_final(second.client_order_id), 10)
        assert final.status is OrderStatus.CANCELLED
        assert failed  # the first update hit the bug, and the stream carried on
    finally:
        await tracker.stop()


async def test_a_finished_order_stays_readable_for_a_while_then_is_dropped(
    paper: tuple[PaperExchangeClient, ManualClock],
) -> None:
    """A long-running bot used to keep every order it ever placed, and walk them all on each
    poll; now a final order is kept ``keep_final_seconds`` (read after a wait, late fills),
    then forgotten, while an unfinished one is kept however long it rests."""
    client, clock = paper
    tracker = OrderTracker(
        client, clock=clock, use_streams=False, silence_seconds=0, keep_final_seconds=60
    )
    resting = tracker.track(await place_passive(client, None))
    done = await place_passive(client, None)
    tracker.track(done)
    await tracker.apply_order(await client.cancel_by_client_id("BTC", done.client_order_id))
    assert (await tracker.wait_final(done.client_order_id)).status is OrderStatus.CANCELLED
    await clock.advance(59)
    await tracker.poll_once()
    assert tracker.get(done.client_order_id).status is OrderStatus.CANCELLED  # still kept
    assert done.price is not None
    late = Fill(
        venue="paper",
        fill_id="late-after-cancel",
        client_order_id=done.client_order_id,
        venue_order_id=done.venue_order_id,
        symbol="BTC",
        side="buy",
        price=done.price,
        size=D("0.001"),
        fee=D("0.01"),
        liquidity="maker",
        ts=utcnow(),
    )
    await tracker.apply_fill(late)  # a late fill within the window still counts
    assert tracker.get(done.client_order_id).order.filled_size == D("0.001")
    await clock.advance(2)
    await tracker.poll_once()
    assert not tracker.is_tracked(done.client_order_id)
    assert set(tracker.orders()) == {resting.order.client_order_id}
    await clock.advance(3600)
    await tracker.poll_once()  # silent and old, but not final: still tracked and polled
    assert tracker.get(resting.order.client_order_id).status is OrderStatus.OPEN


async def test_unfinished_lists_pending_and_resting_orders_only(
    paper: tuple[PaperExchangeClient, ManualClock],
) -> None:
    """What cancel-all, the kill switch and the status line walk: the orders not final,
    without the finished ones the tracker still keeps for a while."""
    client, clock = paper
    tracker = OrderTracker(client, clock=clock, use_streams=False, keep_final_seconds=60)
    resting = await place_passive(client, None)
    tracker.track(resting)
    done = await place_passive(client, None)
    tracker.track(done)
    await tracker.apply_order(await client.cancel_by_client_id("BTC", done.client_order_id))
    pending = tracker.track(
        Order.pending(
            OrderRequest(
                symbol="BTC",
                side="buy",
                size=D("0.001"),
                order_type=OrderType.MARKET,
                client_order_id="about-to-send",
            )
        )
    )
    assert set(tracker.orders()) == {resting.client_order_id, done.client_order_id, "about-to-send"}
    unfinished = tracker.unfinished()
    assert set(unfinished) == {resting.client_order_id, "about-to-send"}
    assert unfinished["about-to-send"] is pending
    await tracker.mark_cancel_requested(resting.client_order_id)
    assert tracker.unfinished()[resting.client_order_id].status is OrderStatus.PENDING_CANCEL
    unfinished.clear()  # a copy: the tracker's own list is untouched
    await tracker.apply_order(await client.cancel_by_client_id("BTC", resting.client_order_id))
    assert set(tracker.unfinished()) == {"about-to-send"}


async def test_an_order_tracked_already_final_is_dropped_on_the_same_schedule(
    paper: tuple[PaperExchangeClient, ManualClock],
) -> None:
    """An order re-tracked in its final state (a restart adopting a filled entry) is kept for
    the owner's next look, then dropped; one forgotten by its owner is gone at once."""
    client, clock = paper
    tracker = OrderTracker(client, clock=clock, use_streams=False, keep_final_seconds=10)
    placed = await place_passive(client, None)
    cancelled = await client.cancel_by_client_id("BTC", placed.client_order_id)
    tracker.track(cancelled)
    forgotten = tracker.track(await place_passive(client, None)).order.client_order_id
    tracker.forget(forgotten)
    await tracker.poll_once()
    assert set(tracker.orders()) == {placed.client_order_id}
    await clock.advance(11)
    await tracker.poll_once()
    assert tracker.orders() == {}
