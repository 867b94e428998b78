"""Paper trading on Lighter's public data, through the fake Lighter.

The paper venue's markets, books, trades and funding come from Lighter's public endpoints
(``orderBookDetails``, ``order_book/{id}``, ``trade/{id}``, ``market_stats/all``); orders are
matched by the paper engine against those books.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from core.errors import UnknownSymbol
from exchange_clients.lighter.public_feed import LighterPublicSource
from exchange_clients.market_data.events import MarketEvent, TradeEvent
from exchange_clients.market_data.live import LiveSourceSettings
from exchange_clients.types import OrderStatus
from testing.fakes.lighter import FakeLighter
from tests.exchange_clients.lighter.helpers import connected, new_fake
from tests.exchange_clients.market_data.live_paper import (
    GUARD,
    best_ask,
    best_bid,
    eventually,
    live_paper,
    until,
)

D = Decimal


@pytest.fixture
async def fake() -> AsyncIterator[FakeLighter]:
    async with new_fake() as venue:
        yield venue


def source_for(fake: FakeLighter, *symbols: str) -> LighterPublicSource:
    return LighterPublicSource(
        LiveSourceSettings(symbols=symbols, base_url=fake.base_url, ws_url=fake.ws_url)
    )


async def test_markets_books_and_funding_are_the_venues(fake: FakeLighter) -> None:
    client = live_paper(source_for(fake, "BTC", "ETH"))
    await client.connect()
    try:
        markets = await client.markets()
        assert sorted(markets) == ["BTC", "ETH"]
        assert markets["BTC"].step_size == D("0.00001")  # size_decimals 5
        book = await client.order_book("BTC", depth=2)
        assert book.bids == ((D("59995.0"), D("0.2")), (D("59990.0"), D("0.4")))
        assert book.asks == ((D("60005.0"), D("0.2")), (D("60010.0"), D("0.4")))
        # market_stats sends percent per hour: 0.0012 % = 0.000012, hourly like paper.
        assert (await client.funding_rate("BTC")).rate == D("0.000012")
    finally:
        await client.disconnect()


async def test_a_market_order_walks_the_live_book(fake: FakeLighter) -> None:
    client = live_paper(source_for(fake, "BTC"))
    await client.connect()
    try:
        order = await client.place_market_order("BTC", "buy", D("0.5"), client_order_id="live-1")
        assert order.status is OrderStatus.FILLED
        expected = (D("0.2") * D(60_005) + D("0.3") * D(60_010)) / D("0.5")
        assert order.avg_fill_price == expected
    finally:
        await client.disconnect()


async def test_the_paper_book_follows_the_deltas_and_a_resting_order_fills_when_crossed(
    fake: FakeLighter,
) -> None:
    client = live_paper(source_for(fake, "BTC"))
    await client.connect()
    fills = client.fills()
    try:
        resting = await client.place_limit_order(
            "BTC", "buy", D("0.1"), D(59_900), client_order_id="live-rest", post_only=True
        )
        assert resting.status is OrderStatus.OPEN
        await fake.set_book("BTC", [(D(59_800), D(1))], [(D(59_850), D(1)), (D(59_860), D(2))])
        await until(lambda: best_ask(client, "BTC"), D(59_850))
        fill = await asyncio.wait_for(anext(fills), GUARD)
        assert (fill.client_order_id, fill.price, fill.size, fill.liquidity) == (
            "live-rest",
            D(59_900),
            D("0.1"),
            "maker",
        )
    finally:
        fills.close()
        await client.disconnect()


async def test_funding_follows_the_market_stats_stream(fake: FakeLighter) -> None:
    client = live_paper(source_for(fake, "BTC", "ETH"))
    await client.connect()
    try:
        fake.market("BTC").funding_percent = D("-0.0250")
        await fake.push_market_stats("BTC")

        async def rate() -> Decimal:
            return (await client.funding_rate("BTC")).rate

        await until(rate, D("-0.00025"))
        assert (await client.funding_rate("ETH")).rate == D("0.000012")  # not in the update
    finally:
        await client.disconnect()


async def test_public_trades_arrive_as_trade_events(fake: FakeLighter) -> None:
    events: list[MarketEvent] = []
    source = source_for(fake, "BTC")
    await source.start(events.append)
    try:
        async with connected(fake) as trader:  # another participant, on the real client
            await trader.place_market_order("BTC", "sell", D("0.3"), client_order_id="t-1")
        await eventually(lambda: sum(isinstance(e, TradeEvent) for e in events) == 2)
        trades = [e for e in events if isinstance(e, TradeEvent)]
        assert [(t.price, t.size, t.taker_side) for t in trades] == [
            (D(59_995), D("0.2"), "sell"),
            (D(59_990), D("0.1"), "sell"),
        ]
    finally:
        await source.stop()


async def test_a_broken_chain_or_a_drop_rebuilds_the_book_before_it_is_served(
    fake: FakeLighter,
) -> None:
    source = source_for(fake, "BTC")
    client = live_paper(source)
    await client.connect()
    try:
        fake.skip_book_nonce("BTC")
        await fake.set_book("BTC", [(D(61_000), D(1))], [(D(61_010), D(1))])  # lost
        await fake.set_book("BTC", [(D(61_100), D(1))], [(D(61_110), D(1))])  # out of chain
        await until(lambda: best_bid(client, "BTC"), D(61_100))
        assert source.resubscriptions == 1

        await fake.drop_connections(refuse_for=0.5)
        # Withdrawn while the stream is down: nothing to match against until the resync.
        await until(lambda: best_bid(client, "BTC"), None)
        blind = await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="blind")
        assert (blind.status, blind.filled_size) == (OrderStatus.EXPIRED, D(0))  # nothing to match
        await eventually(lambda: fake.ws_connections >= 2)
        await fake.set_book("BTC", [(D(62_000), D(1))], [(D(62_010), D(2))])
        await until(lambda: best_ask(client, "BTC"), D(62_010))
        book = await client.order_book("BTC", depth=5)
        assert book.bids == ((D(62_000), D(1)),)
    finally:
        await client.disconnect()


async def test_an_unknown_symbol_fails_connect_clearly(fake: FakeLighter) -> None:
    client = live_paper(source_for(fake, "BTC", "NOPE"))
    with pytest.raises(UnknownSymbol, match="lighter: live market data: no market for NOPE"):
        await client.connect()
