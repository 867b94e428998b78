"""Shared set-up for the GRVT client tests: keys, a client on the fake, raw signed orders."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from core.redaction import Secret
from exchange_clients.grvt.client import GrvtClient
from exchange_clients.grvt.signing import GrvtSigner, OrderToSign, TimeInForceCode, order_leg
from exchange_clients.types import ClientSettings
from testing.fakes.grvt import FakeApiKey, FakeGrvt, FakeSubAccount
from tests.exchange_clients.waiting import GUARD_SECONDS, next_event, settle, until  # noqa: F401

D = Decimal
API_KEY = "grvt-test-api-key-0001"
PRIVATE_KEY = "0x" + "42" * 32
OTHER_PRIVATE_KEY = "0x" + "43" * 32
SUB = "7001"
OTHER_SUB = "7002"


def settings(
    fake: FakeGrvt,
    *,
    api_key: str = API_KEY,
    private_key: str = PRIVATE_KEY,
    sub: str = SUB,
    **options: Any,
) -> ClientSettings:
    return ClientSettings(
        venue="grvt",
        testnet=True,
        public={"sub_account_id": sub},
        secrets={"api_key": Secret(api_key), "private_key": Secret(private_key)},
        options={"base_url": fake.base_url, "ws_url": fake.ws_url, **options},
    )


@asynccontextmanager
async def running() -> AsyncIterator[tuple[FakeGrvt, FakeSubAccount]]:
    async with FakeGrvt() as fake:
        key = fake.add_api_key(API_KEY, PRIVATE_KEY, [SUB])
        yield fake, key.sub_accounts[SUB]


@asynccontextmanager
async def connected(fake: FakeGrvt, **kwargs: Any) -> AsyncIterator[GrvtClient]:
    client = GrvtClient(settings(fake, **kwargs))
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()


def signed_order(
    *,
    private_key: str = PRIVATE_KEY,
    environment: str = "testnet",
    sub: str = SUB,
    size: str = "0.001",
    price: str = "59000",
    expiration_ns: int | None = None,
    client_order_id: str = "9223372036854775809",
) -> dict[str, Any]:
    """A create_order body for BTC_USDT_Perp, signed as the client signs (for raw requests)."""
    expiration = expiration_ns if expiration_ns is not None else time.time_ns() + 60 * 10**9
    signature = GrvtSigner(private_key, environment).sign(
        OrderToSign(
            sub_account_id=int(sub),
            is_market=False,
            time_in_force=TimeInForceCode.GOOD_TILL_TIME,
            post_only=False,
            reduce_only=False,
            legs=(order_leg("0x030501", 9, D(size), D(price), is_buying=True),),
            nonce=12345,
            expiration_ns=expiration,
        )
    )
    return {
        "order": {
            "sub_account_id": sub,
            "is_market": False,
            "time_in_force": "GOOD_TILL_TIME",
            "post_only": False,
            "reduce_only": False,
            "legs": [
                {
                    "instrument": "BTC_USDT_Perp",
                    "size": size,
                    "limit_price": price,
                    "is_buying_asset": True,
                }
            ],
            "signature": signature.wire(),
            "metadata": {"client_order_id": client_order_id},
        }
    }


def key_of(fake: FakeGrvt, api_key: str = API_KEY) -> FakeApiKey:
    return fake.api_keys[api_key]
