"""Shared set-up for the EdgeX client tests: credentials, a client on the fake, raw requests."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import aiohttp

from core.redaction import Secret
from exchange_clients.edgex.client import EdgexClient
from exchange_clients.edgex.signing import HmacSigner, query_text, wire_text
from exchange_clients.types import ClientSettings
from networking.json_codec import dumps, loads
from testing.fakes.edgex import FakeAccount, FakeEdgex
from tests.exchange_clients.contract.edgex_harness import (
    ACCOUNT_ID,
    API_KEY,
    API_SECRET,
    PASSPHRASE,
    TRADING_KEY,
)
from tests.exchange_clients.waiting import next_event, until  # noqa: F401 - shared waits

D = Decimal
BTC = "10000001"
ETH = "10000002"
DEFAULT_CASH = D(10_000)


def settings(fake: FakeEdgex, **overrides: Any) -> ClientSettings:
    secrets = {
        "api_key": API_KEY,
        "api_secret": API_SECRET,
        "api_passphrase": PASSPHRASE,
        "trading_private_key": TRADING_KEY,
    }
    options: dict[str, object] = {"base_url": fake.base_url, "ws_url": fake.ws_url}
    for name, value in overrides.items():
        if name in secrets:
            secrets[name] = str(value)
        else:
            options[name] = value
    return ClientSettings(
        venue="edgex",
        public={"account_id": ACCOUNT_ID},
        secrets={name: Secret(value) for name, value in secrets.items()},
        options=options,
    )


@asynccontextmanager
async def running(cash: Decimal = DEFAULT_CASH) -> AsyncIterator[tuple[FakeEdgex, FakeAccount]]:
    async with FakeEdgex() as fake:
        account = fake.add_account(
            ACCOUNT_ID,
            api_key=API_KEY,
            api_secret=API_SECRET,
            passphrase=PASSPHRASE,
            trading_private_key=TRADING_KEY,
            cash=cash,
        )
        yield fake, account


@asynccontextmanager
async def connected(fake: FakeEdgex, **overrides: Any) -> AsyncIterator[EdgexClient]:
    client = EdgexClient(settings(fake, **overrides))
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()


async def raw_private(
    fake: FakeEdgex, method: str, path: str, params: dict[str, Any], *, secret: str = API_SECRET
) -> dict[str, Any]:
    """One private call signed here (not by the client), to send what the client never would."""
    signer = HmacSigner(Secret(API_KEY), Secret(secret), Secret(PASSPHRASE))
    stamp = int(time.time() * 1000)
    async with aiohttp.ClientSession() as session:
        if method == "GET":
            headers = signer.headers(method, path, query_text(params), stamp)
            async with session.get(fake.base_url + path, params=params, headers=headers) as resp:
                answer: dict[str, Any] = loads(await resp.text())
                return answer
        headers = signer.headers(method, path, wire_text(params), stamp)
        headers["Content-Type"] = "application/json"
        async with session.post(fake.base_url + path, data=dumps(params), headers=headers) as resp:
            answer = loads(await resp.text())
            return answer
