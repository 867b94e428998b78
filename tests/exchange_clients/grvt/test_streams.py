"""The WebSockets through the fake: books from ``v1.book.s``, fills and orders from the private
feeds (authenticated at the handshake), reconnection and gap resyncs, duplicates published once."""

from __future__ import annotations

import asyncio

import aiohttp

from exchange_clients.types import Fill, Order, OrderStatus
from tests.exchange_clients.grvt.helpers import D, connected, next_event, running, settle, until


async def test_books_come_from_the_stream_after_the_first_rest_snapshot() -> None:
    async with running() as (fake, _), connected(fake) as client:
        first = await client.order_book("BTC", depth=2)
        assert first.bids[0] == (D("60000.0"), D(2))
        stream = client.market_stream
        assert stream is not None
        await until(lambda: "BTC_USDT_Perp" in client._books)
        book_calls = fake.requests.count("/full/v1/book")
        await fake.set_book("BTC_USDT_Perp", [(D(61000), D(1))], [(D(61001), D(4))])
        await until(lambda: client._books["BTC_USDT_Perp"].bids[0][0] == D(61000))
        assert await client.best_bid_ask("BTC") == (D(61000), D(61001))
        assert fake.requests.count("/full/v1/book") == book_calls


async def test_fills_and_final_states_arrive_on_the_private_feeds() -> None:
    async with running() as (fake, _), connected(fake) as client:
        fills, updates = client.fills(), client.order_updates()
        await client.place_limit_order("BTC", "buy", D("0.5"), D(59000), client_order_id="s-1")
        await fake.set_book("BTC_USDT_Perp", [(D(58990), D(1))], [(D(59000), D(3))])
        fill: Fill = await next_event(fills, lambda f: f.client_order_id == "s-1")
        assert (fill.size, fill.price, fill.liquidity) == (D("0.5"), D(59000), "maker")
        assert fill.fee == D("0.5") * D(59000) * D("0.00027")
        final: Order = await next_event(updates, lambda o: o.status.is_final)
        assert (final.client_order_id, final.status) == ("s-1", OrderStatus.FILLED)
        await until(lambda: "BTC" in client.streamed_positions)


async def test_duplicated_feeds_are_published_once() -> None:
    async with running() as (fake, _), connected(fake) as client:
        fake.duplicate_events = True
        fills = client.fills()
        await client.place_market_order("BTC", "buy", D("3"), client_order_id="dup-1")
        received = [await next_event(fills), await next_event(fills)]
        await settle()
        assert fills.pending() == 0
        assert sorted(f.price for f in received) == [D("60000.1"), D("60000.2")]


async def test_fills_missed_while_disconnected_are_recovered_on_reconnect() -> None:
    async with running() as (fake, _), connected(fake) as client:
        fills = client.fills()
        await client.place_limit_order("BTC", "buy", D("0.2"), D(59000), client_order_id="r-1")
        stream = client.trade_stream
        assert stream is not None
        await fake.drop_connections(refuse_for=0.5)
        await until(lambda: not stream.connected)
        await fake.set_book("BTC_USDT_Perp", [(D(58990), D(1))], [(D(59000), D(3))])
        fill = await next_event(fills, lambda f: f.client_order_id == "r-1")
        assert fill.size == D("0.2")
        assert stream.ws.connections >= 2
        await until(lambda: fake.ws_connection_count == 2)
        # the new connection was opened with the session again: private feeds flow live
        history_calls = fake.requests.count("/full/v1/fill_history")
        await client.place_market_order("BTC", "buy", D("0.1"), client_order_id="r-2")
        live = await next_event(fills, lambda f: f.client_order_id == "r-2")
        assert live.size == D("0.1")
        assert fake.requests.count("/full/v1/fill_history") == history_calls
        assert stream.errors == []


async def test_a_sequence_gap_triggers_a_resync_from_the_fill_history() -> None:
    async with running() as (fake, _), connected(fake) as client:
        stream = client.trade_stream
        assert stream is not None
        fills = client.fills()
        await client.place_market_order("BTC", "buy", D("0.1"), client_order_id="g-0")
        await next_event(fills, lambda f: f.client_order_id == "g-0")  # the feed's numbering known
        await client.place_limit_order("BTC", "buy", D("0.1"), D(59000), client_order_id="g-1")
        history_calls = fake.requests.count("/full/v1/fill_history")
        fake.sequence_gap()
        await fake.set_book("BTC_USDT_Perp", [(D(58990), D(1))], [(D(59000), D(3))])
        await next_event(fills, lambda f: f.client_order_id == "g-1")
        await until(lambda: stream.gaps == 1)
        await until(lambda: fake.requests.count("/full/v1/fill_history") > history_calls)
        await settle()
        assert fills.pending() == 0  # the recovered fills were not published twice


async def test_private_feeds_need_the_session_at_the_handshake() -> None:
    async with (
        running() as (fake, _),
        aiohttp.ClientSession() as http,
        http.ws_connect(fake.ws_url) as ws,
    ):
        await ws.send_json(
            {
                "jsonrpc": "2.0",
                "method": "subscribe",
                "params": {"stream": "v1.fill", "selectors": ["7001"]},
                "id": 1,
            }
        )
        answer = await asyncio.wait_for(ws.receive_json(), 5)
        assert answer["error"]["code"] == 1000
        assert answer["id"] == 1
