"""The WebSocket side: local books (snapshot + deltas, gap -> resync), public trades and mark
prices, private order/position updates, reconnection (re-subscribed, re-signed) with fills
missed meanwhile recovered exactly once, duplicate and out-of-order events published once."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from exchange_clients.backpack.client import BackpackClient
from exchange_clients.types import Fill, Order, OrderStatus
from testing.fakes.backpack import FakeBackpack
from tests.exchange_clients.backpack.helpers import D, connected, next_event, running, settle, until

BTC = "BTC_USDC_PERP"
BIDS = [("60000.0", "2"), ("59999.9", "3")]
ASKS = [("60000.1", "2"), ("60000.2", "3")]


async def _book_is(client: BackpackClient, bid: Decimal, ask: Decimal) -> None:
    """Wait (guarded) until the client's book shows ``bid``/``ask`` at the touch."""
    for _ in range(500):
        book = await client.order_book("BTC", depth=5)
        if (book.best_bid, book.best_ask) == (bid, ask):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"book never reached {bid}/{ask}")


async def test_book_is_a_rest_snapshot_plus_sequential_deltas() -> None:
    async with running() as (fake, _), connected(fake) as client:
        first = await client.order_book("BTC", depth=10)
        assert (first.best_bid, first.best_ask) == (D("60000.0"), D("60000.1"))
        assert client.stream is not None
        assert client.stream.snapshots == 1
        await fake.set_book(BTC, [("60000.5", "1"), *BIDS], ASKS)
        await _book_is(client, D("60000.5"), D("60000.1"))
        await fake.set_book(BTC, BIDS, [("60000.3", "7")])
        await _book_is(client, D("60000.0"), D("60000.3"))
        book = await client.order_book("BTC", depth=10)
        assert book.asks == ((D("60000.3"), D(7)),)
        assert book.sequence == fake.update_ids[BTC]
        assert client.stream.snapshots == 1  # deltas only, no resync
        assert client.stream.gaps == 0


async def test_a_sequence_gap_triggers_a_resync_from_rest() -> None:
    async with running() as (fake, _), connected(fake) as client:
        await client.order_book("BTC")
        assert client.stream is not None
        fake.sequence_gap(BTC)
        await fake.set_book(BTC, [("60000.4", "1"), *BIDS], ASKS)
        await until(lambda: client.stream is not None and client.stream.gaps == 1)
        await _book_is(client, D("60000.4"), D("60000.1"))
        assert client.stream.snapshots == 2
        await fake.set_book(BTC, BIDS, ASKS)  # deltas apply again after the resync
        await _book_is(client, D("60000.0"), D("60000.1"))


async def test_duplicate_depth_events_are_dropped_as_stale() -> None:
    async with running() as (fake, _), connected(fake) as client:
        await client.order_book("BTC")
        fake.duplicate_market_events = True
        await fake.set_book(BTC, [("59000.0", "1")], [("61000.0", "1")])
        await _book_is(client, D("59000.0"), D("61000.0"))
        assert client.stream is not None
        assert client.stream.gaps == 0


async def test_public_trades_and_mark_price() -> None:
    async with running() as (fake, _), connected(fake) as client:
        await client.watch_market("BTC")
        trades = client.trades()
        await settle()
        await client.place_market_order("BTC", "buy", D("0.001"), client_order_id="pub-1")
        trade = await next_event(trades)
        assert (trade.symbol, trade.price, trade.size) == ("BTC", D("60000.1"), D("0.001"))
        await fake.push_mark_price(BTC)
        await until(lambda: "BTC" in client.mark_prices)
        mark = client.mark_prices["BTC"]
        assert mark.funding_rate == D("0.0000125")
        assert mark.next_funding_time is not None


async def test_private_order_and_position_updates() -> None:
    async with running() as (fake, _), connected(fake) as client:
        fills, updates = client.fills(), client.order_updates()
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.002"), D("59999.0"), client_order_id="priv-1"
        )
        accepted = await next_event(updates)
        assert (accepted.client_order_id, accepted.status) == ("priv-1", OrderStatus.OPEN)
        await fake.set_book(BTC, [("59998.0", "1")], [("59998.5", "0.001"), ("60001.0", "1")])
        fill = await next_event(fills)
        assert (fill.client_order_id, fill.liquidity, fill.size) == ("priv-1", "maker", D("0.001"))
        assert fill.venue_order_id == placed.venue_order_id
        partial = await next_event(updates, lambda o: o.filled_size > 0)
        assert partial.status is OrderStatus.PARTIALLY_FILLED
        await until(lambda: "BTC" in client.streamed_positions)
        assert client.streamed_positions["BTC"]["q"] == "0.001"


async def _resting_buy(client: BackpackClient, client_id: str) -> Order:
    return await client.place_limit_order(
        "BTC", "buy", D("0.001"), D("59999.0"), client_order_id=client_id
    )


async def _fill_resting(fake: FakeBackpack) -> None:
    await fake.set_book(BTC, [("59998.0", "1")], [("59998.5", "5")])


async def test_reconnect_resubscribes_resigns_and_recovers_missed_fills_once() -> None:
    async with running() as (fake, account), connected(fake) as client:
        assert client.stream is not None
        await client.order_book("BTC")
        fills = client.fills()
        updates = client.order_updates()
        placed = await _resting_buy(client, "missed-1")
        await until(lambda: fake.private_connections(account) == 1)
        signatures_before = client.stream.private_subscribe_message()["signature"]

        await fake.drop_connections(refuse_for=0.5)
        await until(lambda: not client.stream.connected)  # type: ignore[union-attr]
        await _fill_resting(fake)  # fills while nobody listens
        assert len(account.fills) == 1

        received: Fill = await next_event(fills)  # recovered from the fill history
        assert (received.client_order_id, received.venue_order_id) == (
            "missed-1",
            placed.venue_order_id,
        )
        assert received.size == D("0.001")
        assert received.liquidity == "maker"
        filled = await next_event(updates, lambda o: o.status is OrderStatus.FILLED)
        assert filled.client_order_id == "missed-1"
        assert ("GET", "/wapi/v1/history/fills") in fake.requests
        assert client.stream.websocket.connections == 2
        assert fake.private_connections(account) == 1  # private streams re-subscribed
        assert client.stream.private_subscribe_message()["signature"] != signatures_before

        # the stream works again, and the recovered fill is not published twice
        await client.place_market_order("BTC", "sell", D("0.001"), client_order_id="after-1")
        later = await next_event(fills)
        assert later.client_order_id == "after-1"
        await settle()
        assert fills.pending() == 0
        book = await client.order_book("BTC")  # re-snapshotted after the reconnect
        assert book.best_bid == D("59998.0")


async def test_duplicate_user_events_are_published_once() -> None:
    async with running(wallet=D(100_000)) as (fake, _), connected(fake) as client:
        fake.duplicate_user_events = True
        fills, updates = client.fills(), client.order_updates()
        await client.place_market_order("BTC", "buy", D("3"), client_order_id="dupev-1")
        got: list[Fill] = []
        while sum(f.size for f in got) < D(3):
            got.append(await next_event(fills))
        final = await next_event(updates, lambda o: o.status.is_final)
        assert final.status is OrderStatus.FILLED
        await settle()
        assert fills.pending() == 0
        seen: list[Order] = []
        while updates.pending():
            seen.append(await next_event(updates))
        assert len({f.fill_id for f in got}) == len(got) == 2  # two book levels, one fill each


async def test_out_of_order_user_events_never_regress_an_order() -> None:
    async with running(wallet=D(100_000)) as (fake, _), connected(fake) as client:
        fake.reorder_user_events = True
        fills, updates = client.fills(), client.order_updates()
        await client.place_market_order("BTC", "buy", D("3"), client_order_id="ooo-1")
        statuses: list[Order] = []
        got: list[Fill] = []
        while sum(f.size for f in got) < D(3):
            got.append(await next_event(fills))
        await settle()
        while updates.pending():
            statuses.append(await next_event(updates))
        filled = [o.filled_size for o in statuses]
        assert filled == sorted(filled)  # never goes backwards
        assert statuses[-1].status is OrderStatus.FILLED
        assert len({f.fill_id for f in got}) == len(got)
