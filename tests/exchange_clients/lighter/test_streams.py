"""Streams: the order book (snapshot, nonce-chained deltas, resync on a break), fills and order
updates exactly once across reconnects, duplicates and replays."""

from __future__ import annotations

from decimal import Decimal

from exchange_clients.types import Fill, OrderStatus
from testing.fakes.lighter import FakeLighter
from tests.exchange_clients.lighter.helpers import ACCOUNT, connected, new_fake, next_event, until

D = Decimal


def _book_subscriptions(fake: FakeLighter, market_id: int) -> int:
    return sum(1 for m in fake.subscribe_messages if m["channel"] == f"order_book/{market_id}")


async def test_book_follows_snapshot_then_deltas() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.order_book("BTC")  # REST answer, subscribes the stream
        await until(lambda: (book := client.book("BTC")) is not None and book.sequence is not None)
        book = client.book("BTC")
        assert book is not None
        assert book.best_bid() == (D("59995.0"), D("0.20000"))
        snapshot_nonce = book.sequence
        await fake.set_book("BTC", [(D("59990.0"), D("1.5"))], [(D("60010.0"), D("0.7"))])
        await until(lambda: book.sequence != snapshot_nonce)
        assert book.best_bid() == (D("59990.0"), D("1.50000"))
        assert book.best_ask() == (D("60010.0"), D("0.70000"))
        assert book.levels("bid") == 1
        assert book.levels("ask") == 1
        live = await client.order_book("BTC", depth=5)
        assert live.sequence == book.sequence == fake.book_nonce[1]
        assert live.bids == ((D("59990.0"), D("1.50000")),)


async def test_a_broken_nonce_chain_resubscribes_and_resyncs() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.order_book("BTC")
        await until(lambda: (book := client.book("BTC")) is not None and book.sequence is not None)
        fake.skip_book_nonce("BTC")
        await fake.set_book("BTC", [(D("59980.0"), D("2"))], [(D("60020.0"), D("2"))])  # lost
        await fake.set_book("BTC", [(D("59970.0"), D("3"))], [(D("60030.0"), D("3"))])  # gap seen
        await until(lambda: _book_subscriptions(fake, 1) == 2)
        book = client.book("BTC")
        assert book is not None
        await until(lambda: not book.needs_resync and book.sequence == fake.book_nonce[1])
        assert book.best_bid() == (D("59970.0"), D("3.00000"))
        assert book.best_ask() == (D("60030.0"), D("3.00000"))
        assert book.levels("bid") == 1  # the lost delta's 59980 level is not left behind


async def test_fills_missed_while_disconnected_arrive_exactly_once() -> None:
    async with new_fake() as fake, connected(fake) as client:
        fills = client.fills()
        updates = client.order_updates()
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.002"), D(59_000), client_order_id="resting-1"
        )
        assert placed.venue_order_id is not None
        connections = client.stream.ws.connections
        await fake.drop_connections(refuse_for=0.5)
        await fake.fill_resting(int(placed.venue_order_id), D("0.0005"))  # nobody listening
        await until(lambda: client.stream.ws.connections > connections and client.stream.connected)
        first = await next_event(fills, lambda f: f.client_order_id == "resting-1")
        assert (first.size, first.price, first.liquidity, first.side) == (
            D("0.00050"),
            D("59000.0"),
            "maker",
            "buy",
        )
        assert first.fee == D("59000.0") * D("0.00050") * 40 / 1_000_000
        partial = await next_event(updates, lambda o: o.status is OrderStatus.PARTIALLY_FILLED)
        assert partial.filled_size == D("0.00050")
        # The same trade again, twice, out of order: never published twice.
        fake.duplicate_user_events = True
        await fake.replay_trades(ACCOUNT)
        await fake.fill_resting(int(placed.venue_order_id))  # the rest, duplicated on the wire
        second = await next_event(fills, lambda f: f.client_order_id == "resting-1")
        assert second.size == D("0.00150")
        assert second.fill_id != first.fill_id
        done = await next_event(updates, lambda o: o.status is OrderStatus.FILLED)
        assert done.filled_size == D("0.002")
        await client.balance()  # a round trip: anything still in flight has arrived by now
        assert fills.pending() == 0
        received: list[Fill] = [first, second]
        assert sorted(f.fill_id for f in received) == sorted(
            str(t["trade_id"]) for t in fake.trades
        )


async def test_orders_finished_while_disconnected_are_published_after_reconnect() -> None:
    async with new_fake() as fake, connected(fake) as client:
        updates = client.order_updates()
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.002"), D(59_000), client_order_id="finish-offline"
        )
        await next_event(updates, lambda o: o.client_order_id == "finish-offline")
        await fake.drop_connections(refuse_for=0.5)
        assert placed.venue_order_id is not None
        await fake.fill_resting(int(placed.venue_order_id))
        final = await next_event(updates, lambda o: o.status is OrderStatus.FILLED)
        assert (final.client_order_id, final.filled_size) == ("finish-offline", D("0.002"))
        assert final.avg_fill_price == D("59000.0")


async def test_fills_before_connect_are_history() -> None:
    async with new_fake() as fake:
        async with connected(fake) as first:
            await first.place_market_order("BTC", "buy", D("0.001"), client_order_id="old-fill")
        async with connected(fake) as client:
            fills = client.fills()
            await client.place_market_order("BTC", "sell", D("0.001"), client_order_id="new-fill")
            fill = await next_event(fills)
            assert fill.client_order_id == "new-fill"
            assert fill.side == "sell"


async def test_keepalive_both_ways() -> None:
    async with new_fake() as fake, connected(fake, ws_ping_interval=0.05) as client:
        await fake.ping_clients()
        await until(lambda: fake.pongs == 1 and fake.pings >= 1)
        assert client.stream.connected
