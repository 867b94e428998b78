"""The paper client over a scripted feed and a manual clock: registration, options, streams,
funding on the clock, and two paper venues side by side."""

from __future__ import annotations

import asyncio

import pytest

from core.clock import ManualClock
from core.errors import ConfigError, VenueUnavailable
from exchange_clients.factory import client_class, create_client
from exchange_clients.market_data.events import BookDeltaEvent, TradeEvent
from exchange_clients.paper import FaultPlan, PaperExchangeClient
from exchange_clients.types import ClientSettings, OrderStatus
from tests.exchange_clients.paper.clients import paper_client
from tests.exchange_clients.paper.feeds import ScriptedFeed
from tests.exchange_clients.paper.helpers import START, SYMBOL, D


def test_the_factory_serves_every_paper_venue() -> None:
    for venue in ("paper", "paper_a", "paper_b"):
        assert client_class(venue) is PaperExchangeClient


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"colour": "red"}, r"unknown paper option\(s\) colour"),
        ({"initial_balance": 100.5}, "never a float"),
        ({"initial_balance": "-1"}, "must be >= 0"),
        ({"store": "sqlite"}, "store only takes None"),
        ({"seed": True}, "seed must be an integer"),
        ({"faults": {"latency": 1}}, "faults must be a FaultPlan"),
        ({"clock": "now"}, "clock must be a Clock"),
        ({"feed": "BTC"}, "feed must be a MarketFeed"),
        ({"database_url": 5}, "database_url must be a string"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        create_client(ClientSettings(venue="paper", options=options))


def test_fault_plans_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="reject_probability"):
        FaultPlan(reject_probability=1.5)
    with pytest.raises(ValueError, match="fill_ratio"):
        FaultPlan(fill_ratio=D("1.1"))
    with pytest.raises(ValueError, match="latency"):
        FaultPlan(latency=-1)


async def test_default_feed_is_the_seeded_synthetic_market(clock: ManualClock) -> None:
    client = create_client(ClientSettings(venue="paper_a", options={"clock": clock, "store": None}))
    await client.connect()
    try:
        assert "BTC" in await client.markets()
        book = await client.order_book("BTC", depth=5)
        assert len(book.bids) == len(book.asks) == 5
        rate = await client.funding_rate("BTC")
        assert (rate.venue, rate.interval_hours) == ("paper_a", D(1))
        assert (await client.balance()).wallet == D(10_000)
        await clock.advance(1)
        order = await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="x")
        assert order.status is OrderStatus.FILLED
    finally:
        await client.disconnect()


async def test_requests_need_a_connection(feed: ScriptedFeed) -> None:
    with pytest.raises(VenueUnavailable, match="not connected"):
        await paper_client(feed).balance()


async def test_account_name_and_initial_balance(feed: ScriptedFeed) -> None:
    client = paper_client(feed, account="arb-1", initial_balance=D(500))
    await client.connect()
    try:
        assert client.account == "arb-1"
        assert (await client.balance()).wallet == D(500)
        order = await client.place_limit_order(
            SYMBOL, "buy", D("1"), D("99.0"), client_order_id="a"
        )
        assert order.venue_order_id == "arb-1:1"
    finally:
        await client.disconnect()


async def test_fills_and_order_updates_are_streamed(
    client: PaperExchangeClient, feed: ScriptedFeed
) -> None:
    fills, updates = client.fills(), client.order_updates()
    placed = await client.place_limit_order(SYMBOL, "buy", D("1"), D("99.5"), client_order_id="r")
    assert placed.status is OrderStatus.OPEN

    feed.trade("99.0", "1", "sell")  # through our price
    await feed.settled()
    fill = await anext(fills)
    assert (fill.client_order_id, fill.price, fill.size, fill.fee, fill.liquidity) == (
        "r",
        D("99.5"),
        D("1"),
        D("0.0199"),
        "maker",
    )
    assert [(await anext(updates)).status for _ in range(2)] == [
        OrderStatus.OPEN,
        OrderStatus.FILLED,
    ]
    status = await client.order_status(SYMBOL, client_order_id="r")
    assert status.status is OrderStatus.FILLED
    position = await client.position(SYMBOL)
    assert position is not None
    assert position.size == D("1")
    assert await client.positions() == [position]  # the same lookup, one coroutine less
    assert await client.position("ETH") is None  # nothing held there


async def test_book_moves_fill_resting_orders_and_show_in_the_book(
    client: PaperExchangeClient, feed: ScriptedFeed
) -> None:
    await client.place_limit_order(SYMBOL, "sell", D("1"), D("100.5"), client_order_id="s")
    feed.move(bids=((D("100.6"), D("2")),))
    await feed.settled()
    assert (await client.order_status(SYMBOL, client_order_id="s")).status is OrderStatus.FILLED
    book = await client.order_book(SYMBOL, depth=1)
    assert book.bids == ((D("100.6"), D("2")),)


async def test_funding_is_settled_on_the_clock_at_the_rate_of_that_moment(
    client: PaperExchangeClient, feed: ScriptedFeed, clock: ManualClock
) -> None:
    await client.place_market_order(SYMBOL, "buy", D("1"), client_order_id="long")
    before = (await client.balance()).wallet
    rate = await client.funding_rate(SYMBOL)
    assert (rate.venue, rate.rate, rate.next_funding_time) == (
        "paper",
        D("0.0001"),
        START.replace(hour=13),
    )

    await clock.advance(3599)
    assert (await client.balance()).wallet == before
    feed.set_funding("0.0002")
    await feed.settled()
    await clock.advance(1)  # 13:00
    paid = D("99.75") * D("0.0002")
    assert (await client.balance()).wallet == before - paid
    position = await client.position(SYMBOL)
    assert position is not None
    assert position.accrued_funding == -paid


async def test_paper_a_and_paper_b_run_side_by_side_with_their_own_profiles(
    clock: ManualClock,
) -> None:
    feed_a = ScriptedFeed(clock, "paper_a", rate="0.0001", hours=1)
    feed_b = ScriptedFeed(clock, "paper_b", rate="0.0008", hours=8)
    venue_a = paper_client(feed_a, venue="paper_a")
    venue_b = paper_client(feed_b, venue="paper_b")
    await venue_a.connect()
    await venue_b.connect()
    try:
        long = await venue_a.place_market_order(SYMBOL, "buy", D("1"), client_order_id="a")
        short = await venue_b.place_market_order(SYMBOL, "sell", D("1"), client_order_id="b")
        assert (long.fee_paid, short.fee_paid) == (D("0.045"), D("99.5") * D("0.0005"))
        rate_a, rate_b = await venue_a.funding_rate(SYMBOL), await venue_b.funding_rate(SYMBOL)
        assert (rate_a.interval_hours, rate_b.interval_hours) == (D(1), D(8))
        assert rate_a.hourly_rate == rate_b.hourly_rate == D("0.0001")
        wallet_a, wallet_b = (await venue_a.balance()).wallet, (await venue_b.balance()).wallet

        await clock.advance(3600)  # 13:00: hourly paper_a pays, paper_b waits for 16:00
        assert (await venue_a.balance()).wallet == wallet_a - D("0.009975")
        assert (await venue_b.balance()).wallet == wallet_b

        await clock.advance(3 * 3600)  # 16:00
        assert (await venue_a.balance()).wallet == wallet_a - 4 * D("0.009975")
        assert (await venue_b.balance()).wallet == wallet_b + D("0.0798")
    finally:
        await venue_a.disconnect()
        await venue_b.disconnect()


async def test_an_in_memory_account_survives_disconnect_and_connect(
    client: PaperExchangeClient, feed: ScriptedFeed
) -> None:
    await client.place_limit_order(SYMBOL, "buy", D("1"), D("99.0"), client_order_id="keep")
    await client.disconnect()
    await client.connect()
    await feed.settled()
    assert [o.client_order_id for o in await client.open_orders()] == ["keep"]


async def test_forced_liquidation_is_published_on_the_streams(feed: ScriptedFeed) -> None:
    client = paper_client(feed, initial_balance=D(100))
    await client.connect()
    try:
        await client.place_market_order(SYMBOL, "buy", D("6"), client_order_id="long")
        fills, updates = client.fills(), client.order_updates()
        feed.move(
            bids=((D("99.5"), D(0)), (D("99.0"), D(0)), (D("98.5"), D(0)), (D("85.0"), D(10))),
            asks=((D("100.0"), D(0)), (D("100.5"), D(0)), (D("101.0"), D(0)), (D("85.5"), D(10))),
        )
        await feed.settled()
        update = await anext(updates)
        assert (update.client_order_id, update.status, update.reduce_only) == (
            "liq-2",
            OrderStatus.FILLED,
            True,
        )
        fill = await anext(fills)
        assert (fill.side, fill.price, fill.size) == ("sell", D("85.0"), D("6"))
        assert await client.positions() == []
    finally:
        await client.disconnect()


async def test_a_sequence_gap_resyncs_the_book_from_the_feed(
    client: PaperExchangeClient, feed: ScriptedFeed, clock: ManualClock
) -> None:
    feed.move(bids=((D("99.6"), D("4")),))  # the client sees this one ...
    await feed.settled()
    gap = BookDeltaEvent(
        venue="paper",
        symbol=SYMBOL,
        ts=clock.now(),
        bids=((D("99.7"), D("1")),),
        asks=(),
        first_sequence=10,  # ... but not numbers 3 to 9
        last_sequence=10,
    )
    feed.push(gap)
    await feed.settled()
    book = await client.order_book(SYMBOL, depth=1)
    assert book.bids == ((D("99.6"), D("4")),)  # the feed's own book, fetched afresh


async def test_requests_fail_once_the_feed_failed(
    client: PaperExchangeClient, feed: ScriptedFeed, clock: ManualClock
) -> None:
    feed.push(
        TradeEvent(
            venue="paper",
            symbol="DOGE",  # a symbol the venue does not list: the engine cannot follow
            ts=clock.now(),
            price=D("1"),
            size=D("1"),
            taker_side="buy",
            trade_id="x",
        )
    )
    await feed.settled()
    with pytest.raises(VenueUnavailable, match="market data feed failed"):
        await client.balance()


async def test_book_changes_are_counted_once_each_update_is_applied(
    client: PaperExchangeClient, feed: ScriptedFeed
) -> None:
    changes = client.book_changes()
    seen = changes.version([SYMBOL])
    waiter = changes.next_change([SYMBOL], seen)
    feed.move(bids=((D("100.3"), D("7")),))
    await asyncio.wait_for(waiter, 5)
    # Counted after it was applied: whoever wakes reads the moved book.
    book = await client.order_book(SYMBOL, depth=1)
    assert book.bids[0] == (D("100.3"), D("7"))
    assert changes.version([SYMBOL]) == seen + 1
    assert changes.version(["ETH"]) == 0
    feed.push(
        TradeEvent(
            venue="paper",
            symbol=SYMBOL,
            ts=feed.clock.now(),
            price=D("100.1"),
            size=D("1"),
            taker_side="buy",
            trade_id="t-1",
        )
    )
    await feed.settled()
    assert changes.version([SYMBOL]) == seen + 1  # a trade is not a book change
