"""The WebSocket side: the userFills snapshot, reconnects (resubscribe, fresh book, fills missed
while away delivered exactly once), lost messages, duplicate and out-of-order user events."""

from __future__ import annotations

import itertools
from decimal import Decimal

from exchange_clients.hyperliquid.rest import NonceSource
from exchange_clients.types import Fill, Order, OrderStatus
from testing.fakes.hyperliquid import FakeHyperliquid
from tests.exchange_clients.hyperliquid.helpers import (
    connected,
    new_fake,
    next_event,
    settle,
    until,
)

D = Decimal
CROSS_59000 = ([(D(58900), D(1))], [(D(59000), D(1))])


def book_subscriptions(fake: FakeHyperliquid) -> int:
    return sum(1 for s in fake.subscribe_messages if s.get("type") == "l2Book")


def rest_books(fake: FakeHyperliquid) -> int:
    return fake.requests.count(("/info", "l2Book"))


async def test_the_user_fills_snapshot_is_never_published_as_new_fills() -> None:
    async with new_fake() as fake:
        async with connected(fake) as earlier:  # history: fills from before our connect()
            await earlier.place_market_order("BTC", "buy", D("0.001"), client_order_id="old")
        async with connected(fake) as client:
            fills = client.fills()
            await settle()  # the snapshot (with the old fill) has arrived by now
            assert fills.pending() == 0
            await client.place_limit_order(
                "BTC", "sell", D("0.001"), D(61000), client_order_id="new"
            )
            await fake.set_book("BTC", [(D(61000), D(1))], [(D(61100), D(1))])
            assert (await next_event(fills)).client_order_id == "new"
            await fake.drop_connections()  # the next snapshot holds both fills
            await until(lambda: fake.ws_connections == 3 and client.stream.connected)
            await settle()
            assert fills.pending() == 0


async def test_a_reconnect_resubscribes_refreshes_the_book_and_loses_no_fill() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.order_book("BTC")
        await until(lambda: book_subscriptions(fake) == 1)
        await settle()
        before = rest_books(fake)
        assert (await client.best_bid_ask("BTC")) == (D(59990), D(60010))
        assert rest_books(fake) == before  # served from the live book
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.001"), D(59000), client_order_id="away"
        )
        fills, updates = client.fills(), client.order_updates()

        await fake.drop_connections(refuse_for=0.5)
        await until(lambda: not client.stream.connected)
        await fake.set_book("BTC", *CROSS_59000)  # fills our order while we are away
        assert (await client.best_bid_ask("BTC")) == (D(58900), D(59000))  # REST meanwhile

        fill: Fill = await next_event(fills)
        assert (fill.client_order_id, fill.size, fill.price) == ("away", D("0.001"), D(59000))
        final: Order = await next_event(updates, lambda o: o.status.is_final)
        assert (final.venue_order_id, final.status) == (placed.venue_order_id, OrderStatus.FILLED)
        assert client.stream.connected
        assert book_subscriptions(fake) == 2
        await settle()
        assert fills.pending() == 0  # REST poll + new snapshot: still exactly once
        before = rest_books(fake)
        assert (await client.best_bid_ask("BTC")) == (D(58900), D(59000))
        assert rest_books(fake) == before  # live again


async def test_a_lost_fill_message_is_recovered_by_polling_on_the_next_reconnect() -> None:
    async with new_fake() as fake, connected(fake) as client:
        fake.snapshot_fills = 0  # the new userFills snapshot will not carry it: REST must
        await client.place_limit_order("BTC", "buy", D("0.001"), D(59000), client_order_id="gap")
        fills = client.fills()
        fake.drop_next_user_events(2)  # the userFills and orderUpdates messages of the fill
        await fake.set_book("BTC", *CROSS_59000)
        await settle()
        assert fills.pending() == 0
        await fake.drop_connections()
        fill = await next_event(fills)
        assert fill.client_order_id == "gap"
        await settle()
        assert fills.pending() == 0


async def test_duplicate_and_out_of_order_user_events_are_published_once() -> None:
    async with new_fake() as fake, connected(fake) as client:
        owner = client.user
        await client.place_limit_order("BTC", "buy", D("0.001"), D(59000), client_order_id="d1")
        await client.place_limit_order("BTC", "buy", D("0.002"), D(59000), client_order_id="d2")
        fills, updates = client.fills(), client.order_updates()
        fake.duplicate_user_events = True
        await fake.set_book("BTC", *CROSS_59000)
        await fake.replay_fills(owner, reverse=True)
        received = [await next_event(fills), await next_event(fills)]
        assert sorted(f.client_order_id or "" for f in received) == ["d1", "d2"]
        finals = [
            await next_event(updates, lambda o: o.status.is_final),
            await next_event(updates, lambda o: o.status.is_final),
        ]
        assert sorted(o.client_order_id for o in finals) == ["d1", "d2"]
        await settle()
        assert fills.pending() == 0
        rest = [await anext(updates) for _ in range(updates.pending())]
        assert all(not o.status.is_final for o in rest)


async def test_keepalive_pings_are_answered_and_trades_followed() -> None:
    async with new_fake() as fake, connected(fake, ws_ping_interval=0.05) as client:
        await until(lambda: fake.pings >= 2)
        assert client.stream.connected
        await client.subscribe_trades("BTC")
        await until(lambda: {"type": "trades", "coin": "BTC"} in fake.subscribe_messages)
        await client.place_market_order("BTC", "sell", D("0.001"), client_order_id="t")
        await until(lambda: "BTC" in client.last_trade)
        assert client.last_trade["BTC"] == D(59990)


def test_nonces_strictly_increase_within_a_millisecond() -> None:
    source = NonceSource()
    nonces = [source.next() for _ in range(1000)]
    assert all(b > a for a, b in itertools.pairwise(nonces))
