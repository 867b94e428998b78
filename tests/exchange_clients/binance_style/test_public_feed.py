"""Paper trading on Binance USD-M's and Aster's public data, through their fakes.

The paper venue's markets, books, trades and funding come from the venue's public endpoints
(``exchangeInfo``, ``depth`` + ``<symbol>@depth@100ms``, ``premiumIndex`` + ``fundingInfo``);
orders are matched by the paper engine against those books.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from core.errors import UnknownSymbol, VenueUnavailable
from exchange_clients.binance_style.public_feed import (
    AsterPublicSource,
    BinancePublicSource,
    BinanceStylePublicSource,
)
from exchange_clients.market_data.events import BookSnapshotEvent, MarketEvent, TradeEvent
from exchange_clients.market_data.live import LiveFeed, LiveSourceSettings
from exchange_clients.types import OrderStatus
from testing.fakes.aster import FakeAster
from testing.fakes.binance import FakeBinance
from testing.fakes.binance_style import FakeBinanceStyle
from tests.exchange_clients.market_data.live_paper import (
    GUARD,
    best_ask,
    best_bid,
    eventually,
    live_paper,
    until,
)

D = Decimal
VENUES: dict[str, tuple[type[FakeBinanceStyle], type[BinanceStylePublicSource]]] = {
    "binance": (FakeBinance, BinancePublicSource),
    "aster": (FakeAster, AsterPublicSource),
}


@pytest.fixture(params=sorted(VENUES))
async def venue(request: pytest.FixtureRequest) -> AsyncIterator[tuple[FakeBinanceStyle, str]]:
    fake_class, _ = VENUES[request.param]
    async with fake_class() as fake:
        yield fake, request.param


def source_for(venue: tuple[FakeBinanceStyle, str], *symbols: str) -> BinanceStylePublicSource:
    fake, name = venue
    _, source_class = VENUES[name]
    return source_class(
        LiveSourceSettings(symbols=symbols, base_url=fake.base_url, ws_url=fake.ws_url)
    )


async def test_markets_books_and_funding_are_the_venues_in_internal_units(
    venue: tuple[FakeBinanceStyle, str],
) -> None:
    fake, _ = venue
    client = live_paper(source_for(venue, "BTC", "ETH", "PEPE"))
    await client.connect()
    try:
        markets = await client.markets()
        assert sorted(markets) == ["BTC", "ETH", "PEPE"]
        assert markets["PEPE"].quantity_multiplier == 1000  # 1000PEPEUSDT
        assert markets["BTC"].step_size == D("0.001")
        book = await client.order_book("BTC", depth=2)
        assert book.bids == ((D("64000.00"), D(5)), (D("63999.90"), D(3)))
        assert book.asks == ((D("64000.10"), D(4)), (D("64000.20"), D(6)))
        pepe = await client.order_book("PEPE", depth=1)
        # 400,000 contracts of 1,000 PEPE at 0.0123460 per contract, per PEPE in PEPE.
        assert pepe.asks == ((D("0.000012346"), D(400_000_000)),)
        # Paper funds hourly at the venue's rate per hour: BTC's 8 h interval is the venue
        # default, ETH's adjusted 4 h comes from fundingInfo.
        btc = await client.funding_rate("BTC")
        assert btc.rate == fake.markets["BTCUSDT"].funding_rate / 8
        assert btc.interval_hours == 1
        assert (await client.funding_rate("ETH")).rate == D("-0.00005") / 4
    finally:
        await client.disconnect()


async def test_a_market_order_walks_the_live_book(venue: tuple[FakeBinanceStyle, str]) -> None:
    client = live_paper(source_for(venue, "BTC"))
    await client.connect()
    try:
        order = await client.place_market_order("BTC", "buy", D("4.5"), client_order_id="live-1")
        assert order.status is OrderStatus.FILLED
        assert order.avg_fill_price == (4 * D("64000.10") + D("0.5") * D("64000.20")) / D("4.5")
    finally:
        await client.disconnect()


async def test_the_paper_book_follows_the_deltas_and_a_resting_order_fills_when_crossed(
    venue: tuple[FakeBinanceStyle, str],
) -> None:
    fake, _ = venue
    client = live_paper(source_for(venue, "BTC"))
    await client.connect()
    fills = client.fills()
    try:
        resting = await client.place_limit_order(
            "BTC", "buy", D("0.1"), D(63_900), client_order_id="live-rest", post_only=True
        )
        assert resting.status is OrderStatus.OPEN
        await fake.set_book(
            "BTCUSDT", [("63800", "2"), ("63790", "2")], [("63850", "1"), ("63860", "3")]
        )
        await until(lambda: best_ask(client, "BTC"), D(63_850))
        fill = await asyncio.wait_for(anext(fills), GUARD)
        assert (fill.client_order_id, fill.price, fill.size, fill.liquidity) == (
            "live-rest",
            D(63_900),
            D("0.1"),
            "maker",
        )
    finally:
        fills.close()
        await client.disconnect()


async def test_funding_is_polled_again(venue: tuple[FakeBinanceStyle, str]) -> None:
    fake, name = venue
    _, source_class = VENUES[name]
    source = source_class(
        LiveSourceSettings(
            symbols=("BTC",),
            base_url=fake.base_url,
            ws_url=fake.ws_url,
            extra={"funding_poll_seconds": 0.05},
        )
    )
    client = live_paper(source)
    await client.connect()
    try:
        # One poll fails (the venue is briefly down): the next one still comes.
        fake.fail_next(8, 503, path="/fapi/v1/premiumIndex")  # > one poll's retries
        fake.markets["BTCUSDT"].funding_rate = D("0.00042")

        async def rate() -> Decimal:
            return (await client.funding_rate("BTC")).rate

        await until(rate, D("0.00042") / 8)
    finally:
        await client.disconnect()


async def test_a_gap_or_a_drop_rebuilds_the_book_from_a_snapshot_before_it_is_served(
    venue: tuple[FakeBinanceStyle, str],
) -> None:
    fake, _ = venue
    source = source_for(venue, "BTC")
    client = live_paper(source)
    await client.connect()
    try:
        snapshots = source.depth_stream.snapshots
        fake.sequence_gap("BTCUSDT")
        await fake.set_book("BTCUSDT", [("64100", "1")], [("64110", "1")])
        await until(lambda: best_bid(client, "BTC"), D(64_100))
        assert source.depth_stream.gaps == 1
        assert source.depth_stream.snapshots == snapshots + 1

        await fake.drop_connections(refuse_for=0.5)
        # Withdrawn while the stream is down: nothing to match against until the resync.
        await until(lambda: best_bid(client, "BTC"), None)
        blind = await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="blind")
        assert (blind.status, blind.filled_size) == (OrderStatus.EXPIRED, D(0))  # nothing to match
        await eventually(lambda: source.depth_stream.websocket.connections >= 2)
        await fake.set_book("BTCUSDT", [("65000", "1")], [("65010", "2")])
        await until(lambda: best_ask(client, "BTC"), D(65_010))
        assert source.depth_stream.snapshots >= snapshots + 2
        book = await client.order_book("BTC", depth=5)
        assert book.bids == ((D(65_000), D(1)),)  # nothing left over from before the drop
    finally:
        await client.disconnect()


async def test_an_unknown_symbol_fails_connect_clearly(
    venue: tuple[FakeBinanceStyle, str],
) -> None:
    _, name = venue
    client = live_paper(source_for(venue, "BTC", "NOPE"))
    with pytest.raises(UnknownSymbol, match=f"{name}: live market data: no market for NOPE"):
        await client.connect()


async def test_aggregate_trades_arrive_as_trade_events_in_internal_units(
    venue: tuple[FakeBinanceStyle, str],
) -> None:
    fake, _ = venue
    events: list[MarketEvent] = []
    source = source_for(venue, "PEPE")
    await source.start(events.append)
    try:
        await fake.trade("1000PEPEUSDT", "SELL", "600000")  # another participant sells
        await eventually(lambda: sum(isinstance(e, TradeEvent) for e in events) == 2)
        trades = [e for e in events if isinstance(e, TradeEvent)]
        assert [(t.symbol, t.price, t.size, t.taker_side) for t in trades] == [
            ("PEPE", D("0.000012345"), D(500_000_000), "sell"),
            ("PEPE", D("0.000012344"), D(100_000_000), "sell"),
        ]
        books = [e for e in events if isinstance(e, BookSnapshotEvent)]
        assert books[-1].bids[0] == (D("0.000012344"), D(800_000_000))  # what is left
    finally:
        await source.stop()


async def test_an_unreadable_event_is_skipped_and_the_book_keeps_coming(
    venue: tuple[FakeBinanceStyle, str],
) -> None:
    fake, _ = venue
    source = source_for(venue, "BTC")
    client = live_paper(source)
    await client.connect()
    try:
        source.depth_stream._on_message({"e": "aggTrade", "s": "BTCUSDT", "p": "not a number"})
        await fake.set_book("BTCUSDT", [("64100", "1")], [("64110", "1")])
        await until(lambda: best_bid(client, "BTC"), D(64_100))
        assert source.depth_stream.websocket.connections == 1  # no reconnection for it
    finally:
        await client.disconnect()


async def test_an_unreachable_venue_fails_the_start_clearly() -> None:
    source = BinancePublicSource(
        LiveSourceSettings(base_url="http://127.0.0.1:9", ws_url="ws://127.0.0.1:9")
    )
    source._rest.transport.retries = 0
    with pytest.raises(VenueUnavailable, match=r"binance: .*cannot connect"):
        await LiveFeed(source).start()
