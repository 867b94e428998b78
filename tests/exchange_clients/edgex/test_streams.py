"""EdgeX's WebSockets through the fake: books from the public depth channel (gaps re-snapshot),
pings answered, the private stream's fills and order states published once, and everything
missed while disconnected recovered on reconnection."""

from __future__ import annotations

import aiohttp
import pytest

from exchange_clients.types import Fill, Order, OrderStatus
from tests.exchange_clients.edgex.helpers import BTC, D, connected, next_event, running, until


async def test_the_streamed_book_follows_changes_and_resnapshots_after_a_gap() -> None:
    async with running() as (fake, _), connected(fake) as client:
        stream = client.public_stream
        assert stream is not None
        await client.order_book("BTC")  # subscribes; answered from REST meanwhile
        await until(lambda: BTC in stream._live)
        await fake.set_book(BTC, [("60000.0", "1"), ("59999.0", "4")], [("60000.5", "2")])
        await until(lambda: stream.books[BTC].best_ask() == (D("60000.5"), D(2)))
        book = await client.order_book("BTC", depth=5)
        assert book.bids == ((D("60000.0"), D(1)), (D("59999.0"), D(4)))
        assert book.sequence == fake.versions[BTC]

        fake.sequence_gap(BTC)
        await fake.set_book(BTC, [("60000.0", "3")], [("60000.5", "2")])
        await until(lambda: stream.resyncs == 1)
        await until(lambda: BTC in stream._live)
        assert (await client.order_book("BTC")).bids == ((D("60000.0"), D(3)),)


async def test_server_pings_are_answered_with_pongs() -> None:
    async with running() as (fake, _), connected(fake):
        await until(lambda: fake.ws_connection_count == 2)
        await fake.ping_all()
        await until(lambda: fake.pongs() == 2)


async def test_a_maker_fill_streams_once_even_when_the_venue_repeats_it() -> None:
    async with running() as (fake, _), connected(fake) as client:
        fills, updates = client.fills(), client.order_updates()
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.002"), D("59999.5"), client_order_id="maker-1"
        )
        fake.duplicate_user_events = True
        await fake.set_book(BTC, [("59990.0", "5")], [("59999.0", "1")])
        fill: Fill = await next_event(fills, lambda f: f.client_order_id == "maker-1")
        assert (fill.price, fill.size, fill.liquidity) == (D("59999.5"), D("0.002"), "maker")
        assert fill.fee == D("59999.5") * D("0.002") * D("0.00015")
        final: Order = await next_event(
            updates, lambda o: o.client_order_id == "maker-1" and o.status.is_final
        )
        assert (final.status, final.venue_order_id) == (OrderStatus.FILLED, placed.venue_order_id)
        assert fills.pending() == 0  # the repeated event was not published again


async def test_fills_missed_while_disconnected_are_recovered_on_reconnection() -> None:
    async with running() as (fake, _), connected(fake) as client:
        fills, reconnects = client.fills(), client.reconnects()
        await client.place_limit_order(
            "BTC", "buy", D("0.002"), D("59999.5"), client_order_id="missed-1"
        )
        await fake.drop_connections(refuse_for=0.5)
        await fake.set_book(BTC, [("59990.0", "5")], [("59999.0", "1")])  # fills, unseen
        await next_event(reconnects)
        fill = await next_event(fills, lambda f: f.client_order_id == "missed-1")
        assert fill.size == D("0.002")
        status = await client.order_status("BTC", client_order_id="missed-1")
        assert status.status is OrderStatus.FILLED


async def test_the_private_handshake_refuses_a_bad_signature() -> None:
    async with running() as (fake, _):
        headers = {
            "X-edgeX-Api-Key": "edgex-contract-key",
            "X-edgeX-Passphrase": "edgex-contract-pass",
            "X-edgeX-Signature": "00" * 32,
            "X-edgeX-Timestamp": "1734662372560",
        }
        url = (
            f"{fake.ws_url}/api/v1/private/ws?accountId=543429922991899150&timestamp=1734662372560"
        )
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
                await session.ws_connect(url, headers=headers)
        assert caught.value.status == 401
        assert fake.rejections == ["INVALID_SIGNATURE"]


async def test_books_are_resubscribed_and_resnapshotted_after_a_reconnection() -> None:
    async with running() as (fake, _), connected(fake) as client:
        stream = client.public_stream
        assert stream is not None
        await client.order_book("BTC")
        await until(lambda: BTC in stream._live)
        first = list(fake.ws_timestamps)
        assert len(first) == 2  # public and private
        await fake.drop_connections(refuse_for=0.3)
        await until(lambda: BTC not in stream._live)
        await fake.set_book(BTC, [("59000.0", "7")], [("59000.5", "1")])  # changed while away
        await until(lambda: BTC in stream._live)
        book = await client.order_book("BTC")
        assert (book.bids, book.asks) == (((D("59000.0"), D(7)),), ((D("59000.5"), D(1)),))
        await until(lambda: len(fake.ws_timestamps) == 4)
        assert min(fake.ws_timestamps[2:]) > max(first)  # each connection freshly stamped
