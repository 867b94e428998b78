"""The Aster client against the fake: the two auth schemes (HMAC on v1, API wallet on v3),
their failures, and trading through v3."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from eth_account import Account

from core.errors import AuthenticationFailed
from core.redaction import Secret
from exchange_clients.aster.signing import ApiWalletSigner
from exchange_clients.binance_style.client import BinanceStyleClient
from exchange_clients.types import ClientSettings, OrderStatus
from networking.http import HttpRequest, RestTransport
from testing.fakes.aster import FakeAster
from tests.exchange_clients.binance_style.helpers import (
    API_KEY,
    API_SECRET,
    connected,
    eventually,
    hmac_settings,
    next_matching,
)

USER = "0x63DD5aCC6b1aa0f563956C0e534DD30B6dcF7C4e"
SIGNER_KEY = "0x" + "5a" * 32
OTHER_KEY = "0x" + "6b" * 32
SIGNER = Account.from_key(SIGNER_KEY).address


def v3_settings(fake: FakeAster, *, key: str = SIGNER_KEY, signer: str = SIGNER) -> ClientSettings:
    return ClientSettings(
        venue="aster",
        public={"user": USER, "signer": signer},
        secrets={"signer_private_key": Secret(key)},
        options={"base_url": fake.base_url, "ws_url": fake.ws_url},
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeAster]:
    async with FakeAster() as venue:
        venue.add_account("v3", user=USER, signer=SIGNER)
        venue.add_account("hmac", api_key=API_KEY, api_secret=API_SECRET)
        yield venue


@pytest.fixture
async def client(fake: FakeAster) -> AsyncIterator[BinanceStyleClient]:
    async with connected(v3_settings(fake)) as connected_client:
        yield connected_client


async def test_v3_credentials_use_only_v3_endpoints(
    client: BinanceStyleClient, fake: FakeAster
) -> None:
    await client.balance()
    await client.open_orders()
    paths = {path for _, path in fake.requests}
    assert paths
    assert all(path.startswith("/fapi/v3/") for path in paths)


async def test_hmac_credentials_use_the_v1_endpoints(fake: FakeAster) -> None:
    async with connected(hmac_settings("aster", fake)) as client:
        await client.balance()
    paths = {path for _, path in fake.requests}
    assert "/fapi/v2/balance" in paths
    assert not any(path.startswith("/fapi/v3/") for path in paths)


async def test_v3_trading_round_trip_with_aster_fees(
    client: BinanceStyleClient, fake: FakeAster
) -> None:
    fills = client.fills()
    opened = await client.place_market_order(
        "BTC", "buy", Decimal("0.01"), client_order_id="v3-open"
    )
    assert opened.status is OrderStatus.FILLED
    fill = await next_matching(fills, lambda f: f.client_order_id == "v3-open")
    assert fill.fee == Decimal("64000.10") * Decimal("0.01") * Decimal("0.00035")
    assert (await client.balance()).wallet == Decimal(10_000) - fill.fee


async def test_a_key_that_is_not_the_signer_is_refused(fake: FakeAster) -> None:
    with pytest.raises(AuthenticationFailed, match="-1022 Signature for this request") as raised:
        async with connected(v3_settings(fake, key=OTHER_KEY)):
            pass
    assert OTHER_KEY not in str(raised.value)
    assert OTHER_KEY[2:] not in str(raised.value)


async def test_a_signer_not_registered_for_the_user_is_refused(fake: FakeAster) -> None:
    stranger = Account.from_key(OTHER_KEY).address
    with pytest.raises(AuthenticationFailed, match="-2015"):
        async with connected(v3_settings(fake, key=OTHER_KEY, signer=stranger)):
            pass


async def test_incomplete_v3_credentials_are_a_clear_error(fake: FakeAster) -> None:
    settings = ClientSettings(
        venue="aster",
        public={"user": USER},
        options={"base_url": fake.base_url, "ws_url": fake.ws_url},
    )
    with pytest.raises(AuthenticationFailed, match="user, signer and signer_private_key"):
        async with connected(settings):
            pass


async def test_nonces_are_never_reused_and_a_replay_is_refused(
    client: BinanceStyleClient, fake: FakeAster
) -> None:
    results = await asyncio.gather(*(client.open_orders("BTC") for _ in range(20)))
    assert results == [[]] * 20
    signer = ApiWalletSigner(USER, SIGNER, Secret(SIGNER_KEY))
    encoded, _ = signer.sign([("symbol", "BTCUSDT")], client.rest.now_ms())
    transport = RestTransport("aster", fake.base_url, retries=0)
    await transport.open()
    try:
        request = HttpRequest("GET", f"/fapi/v3/openOrders?{encoded}")
        first = await transport.send(request, idempotent=True)
        replay = await transport.send(request, idempotent=True)
    finally:
        await transport.close()
    assert first.status == 200
    assert replay.json() == {"code": -4225, "msg": "Nonce Expired"}


async def test_v3_user_stream_recovers_missed_fills(
    client: BinanceStyleClient, fake: FakeAster
) -> None:
    fills = client.fills()
    await client.place_limit_order(
        "BTC", "buy", Decimal("0.01"), Decimal("63000.00"), client_order_id="v3-rest"
    )
    account = fake.accounts[0]
    await fake.drop_connections(refuse_for=0.3)
    await eventually(lambda: fake.user_connections(account) == 0, "the drop")
    await fake.set_book("BTCUSDT", [("62900.00", "1")], [("63000.00", "1")])
    fill = await next_matching(fills, lambda f: f.client_order_id == "v3-rest")
    assert (fill.size, fill.liquidity) == (Decimal("0.01"), "maker")
