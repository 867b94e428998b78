"""The Binance USD-M client against the fake venue: markets, auth failures, clock skew, REST
faults, order-id rules and funding."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.errors import (
    AuthenticationFailed,
    DuplicateClientOrderId,
    InsufficientMargin,
    InvalidOrder,
    OrderNotFound,
    RateLimited,
    RequestTimeout,
    VenueUnavailable,
)
from exchange_clients.binance_style.client import BinanceStyleClient
from exchange_clients.binance_style.wire import ClockSkew
from exchange_clients.types import OrderStatus
from testing.fakes.binance import FakeBinance
from testing.fakes.binance_style import Route, now_ms
from tests.exchange_clients.binance_style.helpers import (
    API_KEY,
    API_SECRET,
    connected,
    hmac_settings,
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    async with FakeBinance() as venue:
        venue.add_account(api_key=API_KEY, api_secret=API_SECRET)
        yield venue


@pytest.fixture
async def client(fake: FakeBinance) -> AsyncIterator[BinanceStyleClient]:
    async with connected(hmac_settings("binance", fake, retries=2)) as connected_client:
        yield connected_client


async def test_markets_map_usdt_perpetuals_with_multipliers_and_brackets(
    client: BinanceStyleClient,
) -> None:
    markets = await client.markets()
    assert sorted(markets) == ["BTC", "ETH", "PEPE"]  # quarterly and USDC-quoted left out
    btc, pepe = markets["BTC"], markets["PEPE"]
    assert (btc.contract_id, btc.tick_size, btc.step_size) == (
        "BTCUSDT",
        Decimal("0.10"),
        Decimal("0.001"),
    )
    assert (btc.min_notional, btc.max_leverage) == (Decimal(100), Decimal(125))
    assert markets["ETH"].max_leverage == Decimal(50)
    assert pepe.contract_id == "1000PEPEUSDT"
    assert pepe.quantity_multiplier == Decimal(1000)
    assert pepe.tick_size == Decimal("0.0000001") / 1000
    assert pepe.step_size == Decimal(1000)


async def test_1000_unit_contracts_are_converted_both_ways(
    client: BinanceStyleClient, fake: FakeBinance
) -> None:
    book = await client.order_book("PEPE", depth=1)
    assert book.best_bid == Decimal("0.0123450") / 1000
    assert book.bids[0][1] == Decimal(500000) * 1000
    order = await client.place_limit_order(
        "PEPE", "buy", Decimal(2_000_000), Decimal("0.0000120"), client_order_id="pepe-1"
    )
    venue_order = next(iter(fake.accounts[0].orders.values()))
    assert (venue_order.qty, venue_order.price) == (Decimal(2000), Decimal("0.0120000"))
    assert (order.size, order.price) == (Decimal(2_000_000), Decimal("0.0000120"))


async def test_wrong_secret_is_a_clear_authentication_error_without_the_secret(
    fake: FakeBinance, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "wrong-secret-value-0987654321"
    settings = hmac_settings("binance", fake, secret=wrong)
    with pytest.raises(AuthenticationFailed) as raised:
        async with connected(settings):
            pass
    message = str(raised.value)
    assert "-1022" in message
    assert "Signature for this request is not valid." in message
    assert "\n" not in message
    assert wrong not in message
    assert wrong not in caplog.text
    captured = capsys.readouterr()
    assert wrong not in captured.out + captured.err


async def test_unknown_api_key_is_reported_with_the_venue_error(fake: FakeBinance) -> None:
    settings = hmac_settings("binance", fake, key="not-a-key-at-all-123")
    with pytest.raises(AuthenticationFailed, match="-2015 Invalid API-key, IP, or permissions"):
        async with connected(settings):
            pass


async def test_a_skewed_clock_is_resynchronised_from_server_time(
    fake: FakeBinance, client: BinanceStyleClient
) -> None:
    fake.clock_offset_ms = 60_000  # the venue is a minute ahead of us
    balance = await client.balance()
    assert balance.wallet == Decimal(10_000)
    assert abs(client.rest.clock_offset_ms - 60_000) < 5_000


async def test_timestamp_outside_recv_window_after_a_sync_is_clock_skew(
    fake: FakeBinance, client: BinanceStyleClient
) -> None:
    fake.clock_offset_ms = 60_000
    # A venue whose time endpoint disagrees with its recvWindow check: syncing cannot help.
    fake.routes[("GET", "/fapi/v1/time")] = Route(
        lambda venue, account, params: {"serverTime": now_ms()}, "NONE"
    )
    with pytest.raises(ClockSkew, match="-1021 Timestamp for this request is outside"):
        await client.balance()


async def test_429_with_retry_after_is_waited_out_and_retried(
    fake: FakeBinance, client: BinanceStyleClient
) -> None:
    fake.fail_next(1, 429, retry_after=0.2)
    rate = await client.funding_rate("BTC")
    assert rate.symbol == "BTC"
    assert fake.requests[-3:] == [
        ("GET", "/fapi/v1/premiumIndex"),
        ("GET", "/fapi/v1/premiumIndex"),
        ("GET", "/fapi/v1/fundingInfo"),
    ]


async def test_429_that_never_ends_is_rate_limited(
    fake: FakeBinance, client: BinanceStyleClient
) -> None:
    fake.fail_next(10, 429, retry_after=0.05)
    with pytest.raises(RateLimited):
        await client.open_orders()


async def test_5xx_on_a_read_is_retried(fake: FakeBinance, client: BinanceStyleClient) -> None:
    fake.fail_next(2, 503)
    assert await client.open_orders("BTC") == []


async def test_5xx_on_an_order_is_a_timeout_resolved_by_client_id(
    fake: FakeBinance, client: BinanceStyleClient
) -> None:
    fake.fail_next(1, 503, after_processing=True)  # the order lands, the answer is lost
    with pytest.raises(RequestTimeout):
        await client.place_limit_order(
            "BTC", "buy", Decimal("0.01"), Decimal(60000), client_order_id="lost-answer"
        )
    assert [r for r in fake.requests if r == ("POST", "/fapi/v1/order")] == [
        ("POST", "/fapi/v1/order")
    ]  # never re-sent
    landed = await client.order_status("BTC", client_order_id="lost-answer")
    assert landed.status is OrderStatus.OPEN

    fake.fail_next(1, 503)  # refused before processing
    with pytest.raises(RequestTimeout):
        await client.place_limit_order(
            "BTC", "buy", Decimal("0.01"), Decimal(60000), client_order_id="never-landed"
        )
    with pytest.raises(OrderNotFound):
        await client.order_status("BTC", client_order_id="never-landed")
    with pytest.raises(DuplicateClientOrderId):  # the id stays taken: resolve, never re-send
        await client.place_limit_order(
            "BTC", "buy", Decimal("0.01"), Decimal(60000), client_order_id="never-landed"
        )


async def test_slow_answers_time_out_reads_fail_and_orders_are_unknown(
    fake: FakeBinance,
) -> None:
    settings = hmac_settings("binance", fake, timeout=0.2, retries=1)
    async with connected(settings) as client:
        fake.delay = 0.5
        with pytest.raises(VenueUnavailable):
            await client.open_orders("BTC")
        with pytest.raises(RequestTimeout):
            await client.place_limit_order(
                "BTC", "buy", Decimal("0.01"), Decimal(60000), client_order_id="slow-1"
            )
        fake.delay = 0
        resolved = await client.order_status("BTC", client_order_id="slow-1")
        assert resolved.status is OrderStatus.OPEN


async def test_the_venue_refuses_an_open_duplicate_client_id_from_another_process(
    fake: FakeBinance, client: BinanceStyleClient
) -> None:
    await client.place_limit_order(
        "BTC", "buy", Decimal("0.01"), Decimal(60000), client_order_id="shared-id"
    )
    async with connected(hmac_settings("binance", fake)) as restarted:
        with pytest.raises(DuplicateClientOrderId):
            await restarted.place_limit_order(
                "BTC", "buy", Decimal("0.01"), Decimal(59000), client_order_id="shared-id"
            )
    assert len(fake.accounts[0].orders) == 1


async def test_cancel_all_cancels_every_symbol(
    fake: FakeBinance, client: BinanceStyleClient
) -> None:
    await client.place_limit_order(
        "BTC", "buy", Decimal("0.01"), Decimal(60000), client_order_id="all-1"
    )
    await client.place_limit_order(
        "ETH", "buy", Decimal("0.1"), Decimal(3000), client_order_id="all-2"
    )
    cancelled = await client.cancel_all()
    assert sorted(o.client_order_id for o in cancelled) == ["all-1", "all-2"]
    assert await client.open_orders() == []
    assert {o.status for o in fake.accounts[0].orders.values()} == {"CANCELED"}


async def test_positions_and_balance_follow_the_account(
    fake: FakeBinance, client: BinanceStyleClient
) -> None:
    await client.set_leverage("BTC", Decimal(5))
    opened = await client.place_market_order(
        "BTC", "sell", Decimal("0.01"), client_order_id="short-1"
    )
    assert opened.avg_fill_price == Decimal("64000.00")
    position = await client.position("BTC")
    assert position is not None
    assert (position.size, position.entry_price, position.leverage) == (
        Decimal("-0.01"),
        Decimal("64000.00"),
        Decimal(5),
    )
    assert position.liquidation_price is not None
    assert position.liquidation_price > 64000
    balance = await client.balance()
    fee = Decimal("64000.00") * Decimal("0.01") * Decimal("0.0005")
    assert balance.wallet == Decimal(10_000) - fee
    mark = fake.mark_price("BTCUSDT")
    assert balance.margin_used == Decimal("0.01") * mark / 5
    assert balance.unrealized_pnl == (mark - Decimal("64000.00")) * Decimal("-0.01")


async def test_funding_reads_4h_and_8h_intervals_and_next_funding_time(
    client: BinanceStyleClient,
) -> None:
    now = datetime.now(UTC)
    btc = await client.funding_rate("BTC")
    eth = await client.funding_rate("ETH")
    assert (btc.rate, btc.interval_hours, btc.predicted_rate) == (
        Decimal("0.0001"),
        Decimal(8),
        Decimal("0.0001"),
    )
    assert (eth.rate, eth.interval_hours) == (Decimal("-0.00005"), Decimal(4))
    assert eth.rate < 0  # negative: shorts pay longs
    assert eth.hourly_rate == Decimal("-0.0000125")
    for rate, hours in ((btc, 8), (eth, 4)):
        assert rate.next_funding_time is not None
        assert now < rate.next_funding_time <= now + timedelta(hours=hours, seconds=5)
        assert rate.next_funding_time.hour % hours == 0
        assert rate.next_funding_time.minute == rate.next_funding_time.second == 0
    everything = await client.funding_rates()
    assert sorted(everything) == ["BTC", "ETH", "PEPE"]
    assert everything["ETH"].interval_hours == Decimal(4)
    assert everything["PEPE"].mark_price == Decimal("0.0123455") / 1000


async def test_leverage_outside_brackets_is_refused(client: BinanceStyleClient) -> None:
    assert await client.set_leverage("BTC", Decimal(125)) == Decimal(125)
    with pytest.raises(Exception, match="leverage"):
        await client.set_leverage("ETH", Decimal(51))
    with pytest.raises(Exception, match="leverage"):
        await client.set_leverage("BTC", Decimal("2.5"))


async def test_market_orders_obey_the_market_lot_size(
    fake: FakeBinance, client: BinanceStyleClient
) -> None:
    with pytest.raises(InvalidOrder, match="market lot"):
        await client.place_market_order("BTC", "buy", Decimal(121), client_order_id="too-big")
    assert ("POST", "/fapi/v1/order") not in fake.requests
    # The venue refuses it too (-4005), should a caller get past our check.
    client._market_lots.clear()
    with pytest.raises(InvalidOrder, match="-4005 Quantity greater than max quantity"):
        await client.place_market_order("BTC", "buy", Decimal(121), client_order_id="too-big-2")


async def test_insufficient_margin_says_how_much(client: BinanceStyleClient) -> None:
    with pytest.raises(InsufficientMargin) as raised:  # 10 BTC at 20x needs ~32,000 USDT
        await client.place_limit_order(
            "BTC", "buy", Decimal(10), Decimal(64000), client_order_id="too-much"
        )
    assert raised.value.required == Decimal(10) * 64000 / 20
    assert raised.value.available == Decimal(10_000)
