"""Aster: the account's fee tier, 24 h volume (no open interest: Aster documents none), and
venue-side stops on the order endpoint (Aster follows Binance's pre-Algo-Service API) - through
v3 API-wallet signatures and v1 HMAC alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from eth_account import Account

from core.redaction import Secret
from exchange_clients.aster.client import AsterClient
from exchange_clients.binance_style.client import BinanceStyleClient
from exchange_clients.types import (
    ClientSettings,
    FeeSchedule,
    OrderRequest,
    OrderStatus,
    OrderType,
)
from testing.fakes.aster import FakeAster
from tests.exchange_clients.binance_style.helpers import (
    API_KEY,
    API_SECRET,
    connected,
    hmac_settings,
    next_matching,
)

D = Decimal
USER = "0x63DD5aCC6b1aa0f563956C0e534DD30B6dcF7C4e"
SIGNER_KEY = "0x" + "5a" * 32
SIGNER = Account.from_key(SIGNER_KEY).address


def v3_settings(fake: FakeAster) -> ClientSettings:
    return ClientSettings(
        venue="aster",
        public={"user": USER, "signer": SIGNER},
        secrets={"signer_private_key": Secret(SIGNER_KEY)},
        options={"base_url": fake.base_url, "ws_url": fake.ws_url},
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeAster]:
    async with FakeAster() as venue:
        venue.add_account("v3", user=USER, signer=SIGNER)
        venue.add_account("hmac", api_key=API_KEY, api_secret=API_SECRET)
        yield venue


@pytest.fixture(params=["v3", "hmac"])
async def client(
    fake: FakeAster, request: pytest.FixtureRequest
) -> AsyncIterator[BinanceStyleClient]:
    settings = v3_settings(fake) if request.param == "v3" else hmac_settings("aster", fake)
    async with connected(settings) as connected_client:
        yield connected_client


def account_of(fake: FakeAster, client: BinanceStyleClient) -> int:
    assert isinstance(client, AsterClient)
    return 0 if client.uses_api_wallet else 1


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


async def test_fees_are_the_accounts_tier_on_its_own_endpoint(
    client: BinanceStyleClient, fake: FakeAster
) -> None:
    account = fake.accounts[account_of(fake, client)]
    assert await client.fees("ETH") == FeeSchedule(D("0.0001"), D("0.00035"), "account")
    fake.set_fees(account, D("0"), D("0.0003"))
    client._fees.ttl = 0
    assert await client.fees("ETH") == FeeSchedule(D("0"), D("0.0003"), "account")
    expected = "/fapi/v3/commissionRate" if account_of(fake, client) == 0 else "/fapi/v1/"
    assert any(p.startswith(expected) and p.endswith("commissionRate") for _, p in fake.requests)


async def test_stats_have_volume_and_no_open_interest(
    client: BinanceStyleClient, fake: FakeAster
) -> None:
    stats = await client.market_stats()
    assert stats["PEPE"].volume_24h_usd == D(350_000_000)
    assert stats["BTC"].volume_24h_usd == D("12500000000.50")
    assert {s.open_interest_usd for s in stats.values()} == {None}  # not published: no guess
    assert not any("openInterest" in p for _, p in fake.requests)


async def test_a_stop_rests_on_the_order_endpoint_is_listed_and_cancelled_by_client_id(
    client: BinanceStyleClient, fake: FakeAster
) -> None:
    order = await client.place_order(stop("a-sl-1", "60000.0"))
    assert (order.order_type, order.trigger_price, order.status) == (
        OrderType.STOP_MARKET,
        D("60000.0"),
        OrderStatus.OPEN,
    )
    venue = next(iter(fake.accounts[account_of(fake, client)].orders.values()))
    assert (venue.type, venue.stop_price, venue.working_type, venue.reduce_only) == (
        "STOP_MARKET",
        D(60000),
        "MARK_PRICE",
        True,
    )
    listed = await client.open_orders()
    assert [(o.client_order_id, o.order_type) for o in listed] == [
        ("a-sl-1", OrderType.STOP_MARKET)
    ]
    cancelled = await client.cancel_by_client_id("BTC", "a-sl-1")
    assert (cancelled.status, cancelled.trigger_price) == (OrderStatus.CANCELLED, D("60000.0"))
    assert await client.open_orders() == []


async def test_a_stop_triggers_on_the_mark_and_its_fill_arrives_once_under_the_same_order(
    client: BinanceStyleClient, fake: FakeAster
) -> None:
    fills = client.fills()
    updates = client.order_updates()
    await client.place_market_order("BTC", "buy", D("0.02"), client_order_id="a-long")
    await next_matching(fills, lambda f: f.client_order_id == "a-long")
    placed = await client.place_order(stop("a-sl-2", "63500.0", size="0.02"))
    await fake.move_price("BTCUSDT", "63400.05")  # the market falls through the trigger
    assert fake.mark_price("BTCUSDT") == D("63400.05")
    fill = await next_matching(fills, lambda f: f.client_order_id == "a-sl-2")
    assert (fill.side, fill.size, fill.price, fill.venue_order_id) == (
        "sell",
        D("0.02"),
        D("63400.00"),  # the moved book's best bid
        placed.venue_order_id,
    )
    final = await next_matching(
        updates, lambda o: o.client_order_id == "a-sl-2" and o.status.is_final
    )
    assert (final.order_type, final.status, final.filled_size) == (
        OrderType.STOP_MARKET,
        OrderStatus.FILLED,
        D("0.02"),
    )
    assert fake.accounts[account_of(fake, client)].position("BTCUSDT").amount == 0
    status = await client.order_status("BTC", client_order_id="a-sl-2")
    assert (status.order_type, status.status, status.trigger_price) == (
        OrderType.STOP_MARKET,
        OrderStatus.FILLED,
        D("63500.0"),
    )
