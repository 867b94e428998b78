"""STOP_MARKET on the paper venue: rests without a price, fires when the mark crosses its
trigger, executes as a market order through the book, follows the position, survives a
restart (SQLite and PostgreSQL).

The helpers' book: bids 99.5/99.0/98.5 (1/2/3), asks 100.0/100.5/101.0 (1/2/3), mid 99.75.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.clock import ManualClock
from core.errors import InvalidOrder, ReduceOnlyRejected
from exchange_clients.paper.client import PaperExchangeClient
from exchange_clients.streams import Subscription
from exchange_clients.types import Order, OrderRequest, OrderStatus, OrderType, Side
from tests.exchange_clients.paper.clients import paper_client
from tests.exchange_clients.paper.feeds import ScriptedFeed
from tests.exchange_clients.paper.helpers import SYMBOL, D


def stop(side: Side, size: str, trigger: str, client_id: str = "stop") -> OrderRequest:
    return OrderRequest(
        symbol=SYMBOL,
        side=side,
        size=D(size),
        order_type=OrderType.STOP_MARKET,
        client_order_id=client_id,
        reduce_only=True,
        trigger_price=D(trigger),
    )


async def long_two(client: PaperExchangeClient) -> None:
    """Long 2 BTC: 1 @ 100.0 and 1 @ 100.5."""
    await client.place_market_order(SYMBOL, "buy", D(2), client_order_id="open")


def drop_mid_to_98_95(feed: ScriptedFeed) -> None:
    """Best bid 98.5 (3), best ask 99.4: mid 98.95."""
    feed.move(bids=((D("99.5"), D(0)), (D("99.0"), D(0))), asks=((D("99.4"), D(2)),))


async def test_a_sell_stop_rests_and_fires_when_the_mark_falls_through_it(
    client: PaperExchangeClient, feed: ScriptedFeed
) -> None:
    await long_two(client)
    margin_before = (await client.balance()).margin_used
    placed = await client.place_order(stop("sell", "2", "99.0"))
    assert (placed.status, placed.price, placed.trigger_price) == (
        OrderStatus.OPEN,
        None,
        D("99.0"),
    )
    assert await client.open_orders(SYMBOL) == [placed]
    assert (await client.balance()).margin_used == margin_before  # reduce-only: no margin

    fills, updates = client.fills(), client.order_updates()
    feed.trade("98.0", "5", "sell")  # a trade below the trigger is not the mark
    feed.move(bids=((D("99.5"), D(0)),), asks=((D("100.0"), D(0)),))  # 99.0 / 100.5: mid 99.75
    feed.move(asks=((D("100.5"), D(0)), (D("99.6"), D(1))))  # 99.0 / 99.6: mid 99.3
    await feed.settled()
    assert fills.pending() == 0
    assert (await client.order_status(SYMBOL, client_order_id="stop")).status is OrderStatus.OPEN

    drop_mid_to_98_95(feed)
    await feed.settled()
    fill = await anext(fills)
    assert (fill.client_order_id, fill.side, fill.price, fill.size, fill.liquidity) == (
        "stop",
        "sell",
        D("98.5"),
        D(2),
        "taker",
    )
    assert fill.fee == D(2) * D("98.5") * D("0.0005")
    final: Order = await anext(updates)
    assert (final.status, final.filled_size, final.order_type) == (
        OrderStatus.FILLED,
        D(2),
        OrderType.STOP_MARKET,
    )
    assert await client.positions() == []
    assert await client.open_orders() == []


async def test_a_buy_stop_protects_a_short_when_the_mark_rises(
    client: PaperExchangeClient, feed: ScriptedFeed
) -> None:
    await client.place_market_order(SYMBOL, "sell", D(1), client_order_id="short")  # @ 99.5
    await client.place_order(stop("buy", "1", "100.5"))
    fills = client.fills()
    feed.move(bids=((D("99.5"), D(0)), (D("100.4"), D(1))), asks=((D("100.0"), D(0)),))
    await feed.settled()  # bid 100.4, ask 100.5: mid 100.45, below the trigger
    assert fills.pending() == 0
    feed.move(bids=((D("100.6"), D(1)),), asks=((D("100.5"), D(0)), (D("100.8"), D(2))))
    await feed.settled()  # bid 100.6, ask 100.8: mid 100.7
    fill = await anext(fills)
    assert (fill.client_order_id, fill.side, fill.price, fill.size) == (
        "stop",
        "buy",
        D("100.8"),
        D(1),
    )
    assert await client.positions() == []


async def test_a_stop_that_would_fire_at_once_or_off_the_grid_is_refused(
    client: PaperExchangeClient,
) -> None:
    await long_two(client)
    with pytest.raises(InvalidOrder, match="would trigger immediately"):
        await client.place_order(stop("sell", "2", "99.8"))  # the mark is 99.75
    with pytest.raises(InvalidOrder, match=r"trigger price 99\.05 is not a multiple"):
        await client.place_order(stop("sell", "2", "99.05"))
    assert await client.open_orders() == []


async def test_a_stop_needs_a_position_to_reduce(client: PaperExchangeClient) -> None:
    with pytest.raises(ReduceOnlyRejected):
        await client.place_order(stop("sell", "1", "90.0"))
    await long_two(client)
    with pytest.raises(ReduceOnlyRejected):  # a buy stop would add to the long
        await client.place_order(stop("buy", "1", "110.0"))


async def test_a_stop_follows_the_position_down_and_goes_with_it(
    client: PaperExchangeClient,
) -> None:
    await long_two(client)
    bigger = await client.place_order(stop("sell", "5", "95.0"))
    assert bigger.size == D(2)  # sized down to the position, like any reduce-only order
    updates = client.order_updates()
    await client.place_market_order(SYMBOL, "sell", D(1), client_order_id="half")
    assert [o.size for o in await client.open_orders()] == [D(1)]
    await client.place_market_order(SYMBOL, "sell", D(1), client_order_id="rest")
    assert await client.open_orders() == []
    states = [(o.client_order_id, o.status) async for o in _drain(updates)]
    assert ("stop", OrderStatus.CANCELLED) in states


async def _drain(subscription: Subscription[Order]) -> AsyncIterator[Order]:
    while subscription.pending():
        yield await anext(subscription)


async def test_a_resting_stop_survives_a_restart_and_fires_after_it(
    migrated_db_url: str, clock: ManualClock
) -> None:
    feed = ScriptedFeed(clock)
    first = paper_client(feed, database_url=migrated_db_url, account="stops")
    await first.connect()
    await feed.settled()
    await long_two(first)
    placed = await first.place_order(stop("sell", "2", "99.0"))
    await first.disconnect()  # the bot's host dies; the venue keeps the stop

    feed = ScriptedFeed(clock)
    second = paper_client(feed, database_url=migrated_db_url, account="stops")
    await second.connect()
    await feed.settled()
    try:
        assert await second.open_orders() == [placed]
        fills = second.fills()
        drop_mid_to_98_95(feed)
        await feed.settled()
        fill = await anext(fills)
        assert (fill.client_order_id, fill.size) == ("stop", D(2))
        assert await second.positions() == []
        done = await second.order_status(SYMBOL, client_order_id="stop")
        assert (done.status, done.trigger_price) == (OrderStatus.FILLED, D("99.0"))
    finally:
        await second.disconnect()


async def test_playing_a_venue_without_triggers_it_refuses_a_stop(
    client: PaperExchangeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PaperExchangeClient, "supports_trigger_orders", False)
    await long_two(client)
    with pytest.raises(InvalidOrder, match="no trigger orders"):
        await client.place_order(stop("sell", "2", "99.0"))
    assert await client.open_orders() == []
