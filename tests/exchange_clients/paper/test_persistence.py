"""A paper account survives restarts, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.clock import ManualClock
from core.errors import DuplicateClientOrderId, RequestTimeout
from database.engine import create_engine, session_maker
from database.errors import DatabaseNotInitialised
from database.models.paper import PaperAccount, PaperFundingPayment, PaperOrder
from exchange_clients.factory import create_client
from exchange_clients.paper import FaultPlan, PaperExchangeClient
from exchange_clients.paper.changes import EngineChanges
from exchange_clients.paper.store import PaperStore
from exchange_clients.types import ClientSettings, OrderStatus
from tests.exchange_clients.paper.clients import paper_client
from tests.exchange_clients.paper.feeds import ScriptedFeed
from tests.exchange_clients.paper.helpers import START, SYMBOL, D


async def started(
    clock: ManualClock, url: str, faults: FaultPlan | None = None
) -> tuple[PaperExchangeClient, ScriptedFeed]:
    """A client on ``url`` (account "resume"), connected, with its feed."""
    feed = ScriptedFeed(clock)
    client = paper_client(feed, database_url=url, account="resume", faults=faults or FaultPlan())
    await client.connect()
    await feed.settled()
    return client, feed


async def test_a_restarted_client_resumes_balance_positions_and_resting_orders(
    migrated_db_url: str, clock: ManualClock
) -> None:
    first, feed = await started(clock, migrated_db_url)
    await first.set_leverage(SYMBOL, D(5))
    await first.place_market_order(SYMBOL, "buy", D("2"), client_order_id="open")
    await first.place_limit_order(SYMBOL, "buy", D("1"), D("99.0"), client_order_id="rest")
    feed.trade("99.0", "1.5", "sell")  # 2 ahead of us: 0.5 left
    await feed.settled()
    await first.place_limit_order(SYMBOL, "sell", D("1"), D("110.0"), client_order_id="gone")
    await first.cancel_by_client_id(SYMBOL, "gone")
    before = (await first.balance(), await first.positions(), await first.open_orders())
    await first.disconnect()

    second, feed = await started(clock, migrated_db_url)
    try:
        assert (await second.balance(), await second.positions(), await second.open_orders()) == (
            before
        )
        assert await second.get_leverage(SYMBOL) == D(5)

        fills = second.fills()
        feed.trade("99.0", "0.5", "sell")  # the rest of the queue ahead, kept across restart
        feed.trade("99.0", "1", "sell")
        await feed.settled()
        fill = await anext(fills)
        assert (fill.client_order_id, fill.price, fill.size) == ("rest", D("99.0"), D("1"))
        assert fills.pending() == 0

        with pytest.raises(DuplicateClientOrderId):
            await second.place_market_order(SYMBOL, "buy", D("1"), client_order_id="gone")
        gone = await second.order_status(SYMBOL, client_order_id="gone")  # from the database
        assert gone.status is OrderStatus.CANCELLED
        by_venue_id = await second.order_status(SYMBOL, venue_order_id="resume:1")
        assert (by_venue_id.client_order_id, by_venue_id.filled_size) == ("open", D("2"))
        newest = await second.place_limit_order(
            SYMBOL, "buy", D("1"), D("98.0"), client_order_id="next"
        )
        assert newest.venue_order_id == "resume:4"
    finally:
        await second.disconnect()


async def test_an_order_that_timed_out_is_found_after_a_restart(
    migrated_db_url: str, clock: ManualClock
) -> None:
    client, _ = await started(clock, migrated_db_url, faults=FaultPlan(timeout_after_landing=1))
    with pytest.raises(RequestTimeout):
        await client.place_market_order(SYMBOL, "buy", D("1"), client_order_id="t")
    await client.disconnect()
    client, _ = await started(clock, migrated_db_url)
    try:
        landed = await client.order_status(SYMBOL, client_order_id="t")
        assert (landed.status, landed.filled_size) == (OrderStatus.FILLED, D("1"))
    finally:
        await client.disconnect()


async def test_funding_is_stored_and_charged_once_per_funding_time_across_restarts(
    migrated_db_url: str, clock: ManualClock
) -> None:
    client, _ = await started(clock, migrated_db_url)
    await client.place_market_order(SYMBOL, "buy", D("1"), client_order_id="long")
    await clock.advance(3600)  # 13:00
    await client.disconnect()

    await clock.advance(1800)  # restart at 13:30: nothing new is due
    client, _ = await started(clock, migrated_db_url)
    await client.disconnect()

    await clock.advance(2 * 3600)  # offline over 14:00 and 15:00: settled on connect
    client, _ = await started(clock, migrated_db_url)
    wallet = (await client.balance()).wallet
    await client.disconnect()

    engine = create_engine(migrated_db_url)
    try:
        async with session_maker(engine)() as session:
            payments = list(
                await session.scalars(
                    select(PaperFundingPayment).order_by(PaperFundingPayment.paid_at)
                )
            )
    finally:
        await engine.dispose()
    assert [p.paid_at for p in payments] == [START + timedelta(hours=h) for h in (1, 2, 3)]
    assert all(p.amount == D("-0.009975") for p in payments)  # 1 x 99.75 x 0.0001
    assert wallet == D(10_000) - D("0.05") - 3 * D("0.009975")


async def test_accounts_are_kept_apart_by_venue_and_name(
    migrated_db_url: str, clock: ManualClock
) -> None:
    clients = [
        paper_client(ScriptedFeed(clock, venue), venue=venue, account=account, database_url=url)
        for venue, account, url in (
            ("paper_a", "shared", migrated_db_url),
            ("paper_b", "shared", migrated_db_url),
            ("paper_a", "other", migrated_db_url),
        )
    ]
    for client in clients:
        await client.connect()
    try:
        await clients[0].place_market_order(SYMBOL, "buy", D("1"), client_order_id="same-id")
        await clients[1].place_market_order(SYMBOL, "buy", D("1"), client_order_id="same-id")
        wallets = [(await client.balance()).wallet for client in clients]
        assert wallets == [D(10_000) - D("0.045"), D(10_000) - D("0.05"), D(10_000)]
    finally:
        for client in clients:
            await client.disconnect()
    engine = create_engine(migrated_db_url)
    try:
        async with session_maker(engine)() as session:
            accounts = {(a.venue, a.name) for a in await session.scalars(select(PaperAccount))}
            orders = list(await session.scalars(select(PaperOrder.venue_order_id)))
    finally:
        await engine.dispose()
    assert accounts == {("paper_a", "shared"), ("paper_b", "shared"), ("paper_a", "other")}
    assert sorted(orders) == ["shared:1", "shared:1"]


async def test_an_uninitialised_database_is_one_clear_error(
    db_url: str, clock: ManualClock
) -> None:
    client = paper_client(ScriptedFeed(clock), database_url=db_url)
    with pytest.raises(DatabaseNotInitialised, match=r"run `python -m database init`"):
        await client.connect()


async def test_the_configured_database_is_the_default(clock: ManualClock) -> None:
    feed = ScriptedFeed(clock)
    client = create_client(ClientSettings(venue="paper", options={"feed": feed, "clock": clock}))
    with pytest.raises(DatabaseNotInitialised, match=r"perpfleet\.db is not initialised"):
        await client.connect()


async def test_a_failed_write_is_retried_first_and_its_events_wait_for_it(
    migrated_db_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = await started(clock, migrated_db_url)
    updates = client.order_updates()
    write = PaperStore.save
    failures = [ConnectionError("the database went away")]

    async def flaky(store: PaperStore, changes: EngineChanges) -> None:
        if failures:
            raise failures.pop()
        await write(store, changes)

    monkeypatch.setattr(PaperStore, "save", flaky)
    with pytest.raises(ConnectionError):
        await client.place_limit_order(SYMBOL, "buy", D("1"), D("99.0"), client_order_id="a")
    assert updates.pending() == 0  # not stored, so not announced
    await client.place_limit_order(SYMBOL, "buy", D("1"), D("98.0"), client_order_id="b")
    assert [(await anext(updates)).client_order_id for _ in range(2)] == ["a", "b"]
    await client.disconnect()

    client, _ = await started(clock, migrated_db_url)
    try:
        assert [o.client_order_id for o in await client.open_orders()] == ["a", "b"]
    finally:
        await client.disconnect()
