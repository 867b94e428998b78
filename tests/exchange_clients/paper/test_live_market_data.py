"""Paper trading on a real venue's live public feed, proven through the fake Hyperliquid.

The paper venue's markets, books and funding come from Hyperliquid's public endpoints
(``POST /info`` + ``/ws`` l2Book); orders are matched by the paper engine against those books.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest

from core.errors import ConfigError, UnknownSymbol, VenueUnavailable
from exchange_clients.factory import create_client
from exchange_clients.hyperliquid.public_feed import HyperliquidPublicSource
from exchange_clients.market_data.live import LiveFeed, LiveSourceSettings, public_source
from exchange_clients.paper.client import PaperExchangeClient
from exchange_clients.types import ClientSettings, OrderStatus
from testing.fakes.hyperliquid import FakeHyperliquid

D = Decimal
GUARD = 10.0  # guards a hang; not a speed assertion


def live_paper(fake: FakeHyperliquid, *symbols: str) -> PaperExchangeClient:
    source = HyperliquidPublicSource(
        LiveSourceSettings(symbols=symbols, base_url=fake.base_url, ws_url=fake.ws_url)
    )
    client = create_client(
        ClientSettings(venue="paper", options={"feed": LiveFeed(source), "store": None})
    )
    assert isinstance(client, PaperExchangeClient)
    return client


@pytest.fixture
async def fake() -> AsyncIterator[FakeHyperliquid]:
    async with FakeHyperliquid() as venue:
        yield venue


async def eventually(condition: Callable[[], object]) -> None:
    async def wait() -> None:
        while not condition():  # noqa: ASYNC110 - a condition on other tasks, polled
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), GUARD)


async def test_markets_books_and_funding_are_the_venues(fake: FakeHyperliquid) -> None:
    client = live_paper(fake, "BTC", "PEPE")
    await client.connect()
    try:
        markets = await client.markets()
        assert sorted(markets) == ["BTC", "PEPE"]
        assert markets["BTC"].step_size == D("0.00001")  # szDecimals 5
        assert markets["PEPE"].quantity_multiplier == 1000  # kPEPE, in internal units
        book = await client.order_book("BTC", depth=3)
        assert book.bids == ((D(59990), D("0.5")), (D(59980), D("1.0")), (D(59970), D("1.5")))
        assert book.asks[0] == (D(60010), D("0.5"))
        pepe = await client.order_book("PEPE", depth=1)
        assert pepe.asks[0] == (D("0.000012001"), D(100_000_000))  # per PEPE, in PEPE
        funding = await client.funding_rate("BTC")
        assert funding.rate == fake.market("BTC").funding
        assert funding.interval_hours == 1  # paper's own schedule, Hyperliquid's rate
    finally:
        await client.disconnect()


async def test_a_market_order_walks_the_live_book(fake: FakeHyperliquid) -> None:
    client = live_paper(fake, "BTC")
    await client.connect()
    try:
        order = await client.place_market_order("BTC", "buy", D("0.8"), client_order_id="live-1")
        assert order.status is OrderStatus.FILLED
        # 0.5 @ 60010 + 0.3 @ 60020 from the venue's book, exactly.
        assert order.avg_fill_price == (D("0.5") * 60010 + D("0.3") * 60020) / D("0.8")
    finally:
        await client.disconnect()


async def test_the_paper_book_follows_the_venue_and_resting_orders_fill_when_it_crosses(
    fake: FakeHyperliquid,
) -> None:
    client = live_paper(fake, "BTC")
    await client.connect()
    fills = client.fills()
    try:
        resting = await client.place_limit_order(
            "BTC", "buy", D("0.1"), D(59_900), client_order_id="live-rest", post_only=True
        )
        assert resting.status is OrderStatus.OPEN
        # The venue's market drops through our bid.
        await fake.set_book(
            "BTC", [(D(59_800), D(2)), (D(59_790), D(2))], [(D(59_850), D(1)), (D(59_860), D(3))]
        )

        async def best_ask() -> Decimal | None:
            return (await client.order_book("BTC", depth=1)).best_ask

        asks: list[Decimal | None] = []

        async def follow() -> None:
            while (ask := await best_ask()) != D(59_850):
                asks.append(ask)
                await asyncio.sleep(0.01)

        await asyncio.wait_for(follow(), GUARD)
        fill = await asyncio.wait_for(anext(fills), GUARD)
        assert (fill.client_order_id, fill.price, fill.size, fill.liquidity) == (
            "live-rest",
            D(59_900),
            D("0.1"),
            "maker",
        )
        position = await client.position("BTC")
        assert position is not None
        assert position.size == D("0.1")
    finally:
        fills.close()
        await client.disconnect()


async def test_a_dropped_feed_resubscribes_and_books_keep_coming(fake: FakeHyperliquid) -> None:
    client = live_paper(fake, "BTC")
    await client.connect()
    try:
        await fake.drop_connections(refuse_for=0.2)
        await eventually(lambda: fake.ws_connections >= 2)
        await fake.set_book("BTC", [(D(61_000), D(1))], [(D(61_010), D(1))])

        async def bid() -> Decimal | None:
            return (await client.order_book("BTC", depth=1)).best_bid

        async def follow() -> None:
            while await bid() != D(61_000):  # noqa: ASYNC110 - the feed task moves it
                await asyncio.sleep(0.01)

        await asyncio.wait_for(follow(), GUARD)
    finally:
        await client.disconnect()


async def test_an_unknown_symbol_or_an_unreachable_venue_fails_connect_clearly(
    fake: FakeHyperliquid,
) -> None:
    client = live_paper(fake, "BTC", "NOPE")
    with pytest.raises(UnknownSymbol, match="hyperliquid: live market data: no market for NOPE"):
        await client.connect()
    source = HyperliquidPublicSource(
        LiveSourceSettings(base_url="http://127.0.0.1:9", ws_url="ws://127.0.0.1:9/ws")
    )
    source._rest.retries = 0
    with pytest.raises(VenueUnavailable, match="cannot connect"):
        await LiveFeed(source).start()


def test_an_unknown_source_is_a_config_error_listing_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="source 'binanse' has no live feed: expected one of"):
        public_source("binanse", LiveSourceSettings())
