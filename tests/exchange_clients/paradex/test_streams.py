"""The JSON-RPC stream: fills and order states once each, books from snapshot + deltas with a
gap resubscribed, funding notifications, and a resync after the connection drops."""

from __future__ import annotations

from decimal import Decimal

from exchange_clients.paradex.client import ParadexClient
from exchange_clients.types import Fill, Order, OrderStatus
from testing.fakes.paradex import FakeParadex
from tests.exchange_clients.paradex.helpers import connected, next_event, until

D = Decimal


async def test_fills_and_order_states_arrive_once_even_when_duplicated() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        await until(lambda: fake.private_subscriptions() == {"orders.ALL", "fills.ALL"})
        fake.duplicate_user_events = True
        fills, updates = client.fills(), client.order_updates()
        await client.place_market_order("BTC", "buy", D("3"), client_order_id="dup")
        got: list[Fill] = []
        while sum(f.size for f in got) < 3:
            got.append(await next_event(fills, lambda f: f.client_order_id == "dup"))
        assert [f.size for f in got] == [D(2), D(1)]
        assert all(f.liquidity == "taker" and f.fee > 0 for f in got)
        final: Order = await next_event(updates, lambda o: o.status.is_final)
        assert final.status is OrderStatus.FILLED
        await client.place_limit_order("BTC", "buy", D("0.001"), D(50_000), client_order_id="x")
        later: Order = await next_event(updates, lambda o: o.client_order_id == "x")
        assert later.status is OrderStatus.OPEN  # no second copy of "dup"'s states in between
        assert fills.pending() == 0
        fills.close()
        updates.close()


def top(client: ParadexClient) -> tuple[object, object] | None:
    book = client._live_book("BTC-USD-PERP")
    return None if book is None else (book.best_bid(), book.best_ask())


async def test_the_streamed_book_follows_deltas_and_resnapshots_after_a_gap() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        await client.order_book("BTC")  # subscribes the deltas channel
        await until(lambda: top(client) is not None)
        await fake.set_book("BTC-USD-PERP", [("59990.0", "1")], [("60020.0", "4")])
        await until(lambda: top(client) == ((D("59990.0"), D(1)), (D("60020.0"), D(4))))
        snapshot = await client.order_book("BTC", depth=5)
        assert (snapshot.bids, snapshot.asks) == (((D("59990.0"), D(1)),), ((D("60020.0"), D(4)),))
        fake.sequence_gap("BTC-USD-PERP")
        await fake.set_book("BTC-USD-PERP", [("59991.0", "2")], [("60021.0", "3")])
        # the gap is seen, the channel resubscribed, a new snapshot rebuilds the book
        await until(lambda: top(client) == ((D("59991.0"), D(2)), (D("60021.0"), D(3))))
        book = client.book("BTC")
        assert book is not None
        assert book.sequence == fake.book_seq["BTC-USD-PERP"]


async def test_funding_notifications_are_kept_per_symbol() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        await client.watch_funding("ETH")
        await until(
            lambda: (
                "funding_data.ETH-USD-PERP"
                in {c for conn in fake._connections for c in conn.channels}
            )
        )
        fake.markets["ETH-USD-PERP"].funding_rate = D("0.00021")
        await fake.push_funding("ETH-USD-PERP")
        await until(lambda: "ETH" in client.streamed_funding)
        assert D(client.streamed_funding["ETH"]["funding_rate"]) == D("0.00021")


async def test_fills_missed_while_disconnected_are_recovered_on_reconnect() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        await until(lambda: fake.private_subscriptions() == {"orders.ALL", "fills.ALL"})
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.5"), D(59_000), client_order_id="rest"
        )
        fills, updates = client.fills(), client.order_updates()
        await fake.drop_connections(refuse_for=0.3)
        await until(lambda: not client.stream.connected)
        # while we are away, the book comes down through our bid: it fills as a maker
        account = next(iter(fake.accounts.values()))
        order = account.orders[placed.venue_order_id or ""]
        await fake._fill(account, order, D(59_000), D("0.5"), maker=True)
        fill: Fill = await next_event(fills, lambda f: f.client_order_id == "rest")
        assert (fill.size, fill.liquidity) == (D("0.5"), "maker")
        done: Order = await next_event(updates, lambda o: o.client_order_id == "rest")
        assert done.status is OrderStatus.FILLED
        fills.close()
        updates.close()
