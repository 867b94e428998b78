"""The ccxt client's fees, market stats and venue-side stops, through ccxt's real
``binanceusdm`` class against the fake Binance (Algo Service, commissionRate, openInterest)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from core.errors import InvalidOrder
from exchange_clients.ccxt_venue.client import CcxtExchangeClient, trigger_support
from exchange_clients.factory import create_client
from exchange_clients.types import FeeSchedule, OrderRequest, OrderStatus, OrderType
from testing.fakes.binance import FakeBinance
from tests.exchange_clients.contract.ccxt_harness import API_KEY, API_SECRET, ccxt_settings

D = Decimal
GUARD = 15.0  # guards against a hang; not a speed assertion


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    async with FakeBinance() as venue:
        venue.add_account(api_key=API_KEY, api_secret=API_SECRET)
        yield venue


@pytest.fixture
async def client(fake: FakeBinance) -> AsyncIterator[CcxtExchangeClient]:
    connected = create_client(ccxt_settings(fake))
    assert isinstance(connected, CcxtExchangeClient)
    await connected.connect()
    try:
        yield connected
    finally:
        await connected.disconnect()


def requests_to(fake: FakeBinance, path: str) -> int:
    return sum(1 for _, p in fake.requests if p == path)


def stop(client_id: str, trigger: str, size: str = "0.01") -> OrderRequest:
    return OrderRequest(
        symbol="BTC",
        side="sell",
        size=D(size),
        order_type=OrderType.STOP_MARKET,
        client_order_id=client_id,
        reduce_only=True,
        trigger_price=D(trigger),
    )


async def test_fees_are_the_accounts_tier_through_fetch_trading_fee(
    client: CcxtExchangeClient, fake: FakeBinance
) -> None:
    assert await client.fees("BTC") == FeeSchedule(D("0.0002"), D("0.0005"), "account")
    fake.set_fees(fake.accounts[0], D("0.00012"), D("0.0003"))
    assert (await client.fees("BTC")).taker == D("0.0005")  # kept an hour
    client._fees.ttl = 0
    assert await client.fees("BTC") == FeeSchedule(D("0.00012"), D("0.0003"), "account")
    assert requests_to(fake, "/fapi/v1/commissionRate") == 2


async def test_without_keys_fees_are_the_published_schedule(fake: FakeBinance) -> None:
    settings = ccxt_settings(fake)
    public = create_client(settings.__class__(venue=settings.venue, options=settings.options))
    await public.connect()
    try:
        schedule = await public.fees("BTC")
    finally:
        await public.disconnect()
    assert schedule.source == "published"
    assert requests_to(fake, "/fapi/v1/commissionRate") == 0


async def test_stats_have_volume_and_open_interest_in_usd_pepe_included(
    client: CcxtExchangeClient, fake: FakeBinance
) -> None:
    stats = await client.market_stats()
    assert set(stats) == {"BTC", "ETH", "PEPE"}
    assert stats["BTC"].volume_24h_usd == D("12500000000.50")
    assert stats["PEPE"].volume_24h_usd == D(350_000_000)
    last_btc = fake.mid_price("BTCUSDT")  # the fake's ticker last price
    assert stats["BTC"].open_interest_usd == D("80000.125") * last_btc
    assert stats["PEPE"].open_interest_usd == D(4_000_000_000) * fake.mid_price("1000PEPEUSDT")
    await client.market_stats()
    assert requests_to(fake, "/fapi/v1/openInterest") == 3  # cached, not one per scan


async def test_a_stop_rests_is_listed_and_is_cancelled_by_client_id(
    client: CcxtExchangeClient, fake: FakeBinance
) -> None:
    assert client.supports_trigger_orders
    order = await client.place_order(stop("c-sl-1", "60000.0"))
    assert (order.order_type, order.trigger_price, order.status) == (
        OrderType.STOP_MARKET,
        D("60000.0"),
        OrderStatus.OPEN,
    )
    algo = next(iter(fake.accounts[0].algo_orders.values()))
    assert (algo.client_id, algo.working_type, algo.reduce_only) == ("c-sl-1", "MARK_PRICE", True)
    listed = await client.open_orders("BTC")
    assert [(o.client_order_id, o.order_type) for o in listed] == [
        ("c-sl-1", OrderType.STOP_MARKET)
    ]
    cancelled = await client.cancel_by_client_id("BTC", "c-sl-1")
    assert cancelled.status is OrderStatus.CANCELLED
    assert algo.status == "CANCELED"
    assert await client.open_orders("BTC") == []


async def test_a_stop_triggers_on_the_mark_and_its_fill_carries_our_client_id(
    client: CcxtExchangeClient, fake: FakeBinance
) -> None:
    fills = client.fills()
    await client.place_market_order("BTC", "buy", D("0.02"), client_order_id="c-long")
    first = await asyncio.wait_for(anext(fills), GUARD)
    assert first.client_order_id == "c-long"
    placed = await client.place_order(stop("c-sl-2", "63000.0", size="0.02"))
    await fake.set_mark_price("BTCUSDT", "62900")
    fill = await asyncio.wait_for(anext(fills), GUARD)
    assert (fill.client_order_id, fill.side, fill.size, fill.venue_order_id) == (
        "c-sl-2",
        "sell",
        D("0.02"),
        placed.venue_order_id,
    )
    assert fake.accounts[0].position("BTCUSDT").amount == 0
    status = await client.order_status("BTC", client_order_id="c-sl-2")
    assert (status.order_type, status.status, status.filled_size) == (
        OrderType.STOP_MARKET,
        OrderStatus.FILLED,
        D("0.02"),
    )
    fills.close()


async def test_an_exchange_without_stop_losses_refuses_them(
    client: CcxtExchangeClient, fake: FakeBinance
) -> None:
    vars(client)["supports_trigger_orders"] = False  # as for an exchange ccxt has none for
    with pytest.raises(InvalidOrder, match="no stop-loss orders"):
        await client.place_order(stop("c-sl-none", "60000.0"))
    assert fake.accounts[0].algo_orders == {}


def test_trigger_support_follows_cctxs_table() -> None:
    assert trigger_support("binanceusdm") is True
    assert trigger_support("kraken") is False  # createStopMarketOrder yes, stop-loss no
