"""The Binance client's WebSockets against the fake: the local depth book (stream + snapshot,
gaps, reconnects) and the user-data stream (listenKey keepalive/expiry, missed fills,
duplicate and out-of-order events)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from exchange_clients.binance_style.client import BinanceStyleClient
from exchange_clients.binance_style.websocket import DepthStream, UserStream
from exchange_clients.types import Fill, Order, OrderStatus
from testing.fakes.binance import FakeBinance
from tests.exchange_clients.binance_style.helpers import (
    API_KEY,
    API_SECRET,
    connected,
    drain,
    eventually,
    hmac_settings,
    next_matching,
)

BOOK_B = (
    [("64100.00", "2"), ("64099.00", "3")],
    [("64100.10", "1.5"), ("64105.00", "4")],
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    async with FakeBinance() as venue:
        venue.add_account(api_key=API_KEY, api_secret=API_SECRET)
        yield venue


@pytest.fixture
async def client(fake: FakeBinance) -> AsyncIterator[BinanceStyleClient]:
    async with connected(hmac_settings("binance", fake)) as connected_client:
        yield connected_client


def depth(client: BinanceStyleClient) -> DepthStream:
    assert client.depth_stream is not None
    return client.depth_stream


def user(client: BinanceStyleClient) -> UserStream:
    assert client.user_stream is not None
    return client.user_stream


async def book_equals_fake(client: BinanceStyleClient, fake: FakeBinance) -> bool:
    book = await client.order_book("BTC", depth=50)
    bids, asks = fake.book("BTCUSDT")
    return (list(book.bids), list(book.asks)) == (bids, asks)


async def wait_for_book(client: BinanceStyleClient, fake: FakeBinance) -> None:
    for _ in range(1000):
        if await book_equals_fake(client, fake):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the client's book never matched the venue's")


async def test_book_follows_the_diff_stream(client: BinanceStyleClient, fake: FakeBinance) -> None:
    assert await book_equals_fake(client, fake)  # first call: subscribe + snapshot
    snapshots = depth(client).snapshots
    await fake.set_book("BTCUSDT", *BOOK_B)
    await wait_for_book(client, fake)
    assert depth(client).snapshots == snapshots  # applied from the stream, no new snapshot
    assert (await client.best_bid_ask("BTC")) == (Decimal("64100.00"), Decimal("64100.10"))


async def test_duplicated_depth_events_are_dropped_as_stale(
    client: BinanceStyleClient, fake: FakeBinance
) -> None:
    await client.order_book("BTC")
    fake.duplicate_market_events = True
    await fake.set_book("BTCUSDT", *BOOK_B)
    await fake.set_book("BTCUSDT", [("64200.00", "1")], [("64201.00", "1")])
    await wait_for_book(client, fake)
    assert depth(client).gaps == 0


async def test_a_sequence_gap_triggers_a_resync_and_a_correct_book(
    client: BinanceStyleClient, fake: FakeBinance
) -> None:
    await client.order_book("BTC")
    snapshots = depth(client).snapshots
    fake.sequence_gap("BTCUSDT")
    await fake.set_book("BTCUSDT", *BOOK_B)
    await eventually(lambda: depth(client).gaps == 1, "the gap to be detected")
    await eventually(lambda: depth(client).snapshots == snapshots + 1, "a new snapshot")
    await wait_for_book(client, fake)
    await fake.set_book("BTCUSDT", [("64300.00", "1")], [("64301.00", "2")])
    await wait_for_book(client, fake)
    assert depth(client).gaps == 1


async def test_book_is_resnapshotted_after_a_reconnect(
    client: BinanceStyleClient, fake: FakeBinance
) -> None:
    await client.order_book("BTC")
    connections = depth(client).websocket.connections
    snapshots = depth(client).snapshots
    await fake.drop_connections(refuse_for=0.3)
    await fake.set_book("BTCUSDT", *BOOK_B)  # changes nobody streams
    await eventually(lambda: depth(client).websocket.connections > connections, "a reconnect")
    await eventually(lambda: depth(client).snapshots > snapshots, "a new snapshot")
    await wait_for_book(client, fake)


async def test_listen_key_is_kept_alive(fake: FakeBinance) -> None:
    fake.listen_key_ttl = 0.3
    settings = hmac_settings("binance", fake, listen_key_keepalive_seconds=0.05)
    async with connected(settings) as client:
        key = user(client).listen_key
        await eventually(lambda: user(client).keepalives >= 10, "ten keepalives")  # > 1.5 TTLs
        assert user(client).renewals == 0
        assert fake.accounts[0].listen_key == key
        assert fake.user_connections(fake.accounts[0]) == 1


async def test_expired_listen_key_is_replaced_and_events_flow_again(
    client: BinanceStyleClient, fake: FakeBinance
) -> None:
    old_key = user(client).listen_key
    await fake.expire_listen_keys()
    await eventually(lambda: user(client).renewals == 1, "a new listen key")
    await eventually(lambda: fake.user_connections(fake.accounts[0]) == 1, "a reconnection")
    assert user(client).listen_key == fake.accounts[0].listen_key != old_key
    fills = client.fills()
    await client.place_market_order("BTC", "buy", Decimal("0.01"), client_order_id="after-exp")
    fill = await next_matching(fills, lambda f: f.client_order_id == "after-exp")
    assert fill.size == Decimal("0.01")


async def test_fills_missed_while_disconnected_are_recovered_exactly_once(
    client: BinanceStyleClient, fake: FakeBinance
) -> None:
    fills = client.fills()
    updates = client.order_updates()
    await client.place_limit_order(
        "BTC", "buy", Decimal("0.02"), Decimal("63500.00"), client_order_id="rest-1"
    )
    await next_matching(updates, lambda o: o.status is OrderStatus.OPEN)
    connections = user(client).websocket.connections
    await fake.drop_connections(refuse_for=0.5)
    await eventually(lambda: fake.user_connections(fake.accounts[0]) == 0, "the drop")
    # While we are away, the book trades through our bid: we are filled as maker.
    await fake.set_book("BTCUSDT", [("63400.00", "1")], [("63450.00", "1"), ("63500.00", "5")])
    assert fake.accounts[0].trades[-1].order.client_id == "rest-1"
    await eventually(lambda: user(client).websocket.connections > connections, "a reconnect")

    fill = await next_matching(fills, lambda f: f.client_order_id == "rest-1")
    final = await next_matching(updates, lambda o: o.client_order_id == "rest-1")
    assert (fill.size, fill.price, fill.liquidity) == (
        Decimal("0.02"),
        Decimal("63500.00"),
        "maker",
    )
    assert fill.fill_id == str(fake.accounts[0].trades[-1].trade_id)
    assert final.status is OrderStatus.FILLED
    # A later trade proves the stream is live again; the recovered fill is not repeated.
    await client.place_market_order("BTC", "buy", Decimal("0.01"), client_order_id="later")
    await next_matching(fills, lambda f: f.client_order_id == "later")
    assert [f for f in drain(fills) if f.client_order_id == "rest-1"] == []


async def test_duplicate_and_reordered_user_events_are_published_once_in_order(
    client: BinanceStyleClient, fake: FakeBinance
) -> None:
    fake.duplicate_user_events = True
    fake.reorder_user_events = True
    fills = client.fills()
    updates = client.order_updates()
    # Two levels: two fills, and NEW / PARTIALLY_FILLED / FILLED events.
    await fake.set_book("BTCUSDT", [("63990.00", "5")], [("64000.10", "0.01"), ("64000.20", "5")])
    await client.place_market_order("BTC", "buy", Decimal("0.03"), client_order_id="dup-1")
    states: list[Order] = []
    while not (states and states[-1].status.is_final):
        states.append(await next_matching(updates, lambda o: o.client_order_id == "dup-1"))
    final = states[-1]
    progress = [(o.filled_size, o.status.is_final) for o in states]
    assert progress == sorted(set(progress))  # each state once, never going backwards
    await eventually(lambda: fills.pending() >= 2, "both fills")
    received: list[Fill] = drain(fills)
    assert sorted(f.size for f in received) == [Decimal("0.01"), Decimal("0.02")]
    assert len({f.fill_id for f in received}) == len(received) == 2
    assert final.status is OrderStatus.FILLED
    assert final.filled_size == Decimal("0.03")
    later: list[Order] = drain(updates)
    assert later == []  # nothing after the final state, not even a stale earlier one
