"""Paper trading on Backpack's public data, through the fake Backpack.

The paper venue's markets, books, trades and funding come from Backpack's public endpoints
(``markets``, ``depth`` + ``depth.<symbol>``, ``markPrices`` + ``markPrice.<symbol>``,
``trade.<symbol>``); orders are matched by the paper engine against those books.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from core.errors import ConfigError, UnknownSymbol
from exchange_clients.backpack.public_feed import BackpackPublicSource
from exchange_clients.market_data.events import MarketEvent, TradeEvent
from exchange_clients.market_data.live import LiveSourceSettings
from exchange_clients.types import OrderStatus
from testing.fakes.backpack import FakeBackpack
from tests.exchange_clients.backpack.helpers import API_KEY, connected
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
async def fake() -> AsyncIterator[FakeBackpack]:
    async with FakeBackpack() as venue:
        yield venue


def source_for(fake: FakeBackpack, *symbols: str, **extra: object) -> BackpackPublicSource:
    return BackpackPublicSource(
        LiveSourceSettings(symbols=symbols, base_url=fake.base_url, ws_url=fake.ws_url, extra=extra)
    )


async def test_markets_books_and_funding_are_the_venues_in_internal_units(
    fake: FakeBackpack,
) -> None:
    client = live_paper(source_for(fake, "BTC", "ETH", "PEPE"))
    await client.connect()
    try:
        markets = await client.markets()
        assert sorted(markets) == ["BTC", "ETH", "PEPE"]
        assert markets["PEPE"].quantity_multiplier == 1000  # kPEPE_USDC_PERP
        book = await client.order_book("BTC", depth=2)
        assert book.bids == ((D("60000.0"), D(2)), (D("59999.9"), D(3)))
        assert book.asks == ((D("60000.1"), D(2)), (D("60000.2"), D(3)))
        pepe = await client.order_book("PEPE", depth=1)
        assert pepe.asks == ((D("0.000012346"), D(800_000_000)),)
        # Backpack funds hourly, as paper does: the venue's rate as it is.
        assert (await client.funding_rate("BTC")).rate == D("0.0000125")
        assert (await client.funding_rate("ETH")).rate == D("-0.0000040")
    finally:
        await client.disconnect()


async def test_a_market_order_walks_the_live_book(fake: FakeBackpack) -> None:
    client = live_paper(source_for(fake, "BTC"))
    await client.connect()
    try:
        order = await client.place_market_order("BTC", "sell", D(4), client_order_id="live-1")
        assert order.status is OrderStatus.FILLED
        assert order.avg_fill_price == (2 * D("60000.0") + 2 * D("59999.9")) / 4
    finally:
        await client.disconnect()


async def test_the_paper_book_follows_the_deltas_and_a_resting_order_fills_when_crossed(
    fake: FakeBackpack,
) -> None:
    client = live_paper(source_for(fake, "BTC"))
    await client.connect()
    fills = client.fills()
    try:
        resting = await client.place_limit_order(
            "BTC", "sell", D("0.5"), D(60_100), client_order_id="live-rest", post_only=True
        )
        assert resting.status is OrderStatus.OPEN
        await fake.set_book(
            "BTC_USDC_PERP", [("60200.0", "1"), ("60190.0", "2")], [("60250.0", "1")]
        )
        await until(lambda: best_bid(client, "BTC"), D(60_200))
        fill = await asyncio.wait_for(anext(fills), GUARD)
        assert (fill.client_order_id, fill.price, fill.size, fill.liquidity) == (
            "live-rest",
            D(60_100),
            D("0.5"),
            "maker",
        )
    finally:
        fills.close()
        await client.disconnect()


async def test_funding_follows_the_mark_price_stream_and_the_rest_poll(fake: FakeBackpack) -> None:
    client = live_paper(source_for(fake, "BTC", "ETH", funding_poll_seconds=0.05))
    await client.connect()
    try:

        async def rate(symbol: str) -> Decimal:
            return (await client.funding_rate(symbol)).rate

        fake.markets["BTC_USDC_PERP"].funding_rate = D("0.0000300")
        await fake.push_mark_price("BTC_USDC_PERP")
        await until(lambda: rate("BTC"), D("0.00003"))
        fake.markets["ETH_USDC_PERP"].funding_rate = D("0.0000070")  # no event: the poll
        await until(lambda: rate("ETH"), D("0.000007"))
    finally:
        await client.disconnect()


async def test_public_trades_arrive_as_trade_events(fake: FakeBackpack) -> None:
    events: list[MarketEvent] = []
    source = source_for(fake, "BTC")
    await source.start(events.append)
    try:
        fake.add_account(API_KEY, wallet=D(1_000_000))
        async with connected(fake) as trader:  # another participant, on the real client
            await trader.place_market_order("BTC", "buy", D("2.5"), client_order_id="taker-1")
        await eventually(lambda: sum(isinstance(e, TradeEvent) for e in events) == 2)
        trades = [e for e in events if isinstance(e, TradeEvent)]
        assert [(t.price, t.size, t.taker_side) for t in trades] == [
            (D("60000.1"), D(2), "buy"),
            (D("60000.2"), D("0.5"), "buy"),
        ]
    finally:
        await source.stop()


async def test_a_gap_or_a_drop_rebuilds_the_book_from_a_snapshot_before_it_is_served(
    fake: FakeBackpack,
) -> None:
    source = source_for(fake, "BTC")
    client = live_paper(source)
    await client.connect()
    try:
        snapshots = source.stream.snapshots
        fake.sequence_gap("BTC_USDC_PERP")
        await fake.set_book("BTC_USDC_PERP", [("61000.0", "1")], [("61010.0", "1")])
        await until(lambda: best_bid(client, "BTC"), D(61_000))
        assert source.stream.gaps == 1
        assert source.stream.snapshots == snapshots + 1

        await fake.drop_connections(refuse_for=0.5)
        # Withdrawn while the stream is down: nothing to match against until the resync.
        await until(lambda: best_bid(client, "BTC"), None)
        blind = await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="blind")
        assert (blind.status, blind.filled_size) == (OrderStatus.EXPIRED, D(0))  # nothing to match
        await eventually(lambda: source.stream.websocket.connections >= 2)
        await fake.set_book("BTC_USDC_PERP", [("62000.0", "1")], [("62010.0", "2")])
        await until(lambda: best_ask(client, "BTC"), D(62_010))
        assert source.stream.snapshots >= snapshots + 2
        book = await client.order_book("BTC", depth=5)
        assert book.bids == ((D(62_000), D(1)),)
    finally:
        await client.disconnect()


async def test_an_unknown_symbol_or_testnet_fails_clearly(fake: FakeBackpack) -> None:
    client = live_paper(source_for(fake, "BTC", "NOPE"))
    with pytest.raises(UnknownSymbol, match="backpack: live market data: no market for NOPE"):
        await client.connect()
    with pytest.raises(ConfigError, match="Backpack has no public test network; set market_data"):
        BackpackPublicSource(LiveSourceSettings(testnet=True))
