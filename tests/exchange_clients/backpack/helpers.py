"""Shared set-up for the Backpack client tests: keys, a client on the fake, event waits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from core.redaction import Secret
from exchange_clients.backpack.client import BackpackClient
from exchange_clients.types import ClientSettings
from testing.fakes.backpack import FakeAccount, FakeBackpack, keypair
from tests.exchange_clients.waiting import GUARD_SECONDS, next_event, settle, until  # noqa: F401 - shared waits

D = Decimal
API_KEY, API_SECRET = keypair(bytes([1]) * 32)
OTHER_KEY, OTHER_SECRET = keypair(bytes([2]) * 32)
DEFAULT_WALLET = Decimal(10_000)


def settings(
    fake: FakeBackpack, key: str = API_KEY, secret: str = API_SECRET, **options: Any
) -> ClientSettings:
    return ClientSettings(
        venue="backpack",
        secrets={"api_key": Secret(key), "api_secret": Secret(secret)},
        options={"base_url": fake.base_url, "ws_url": fake.ws_url, **options},
    )


@asynccontextmanager
async def running(
    wallet: Decimal = DEFAULT_WALLET,
) -> AsyncIterator[tuple[FakeBackpack, FakeAccount]]:
    async with FakeBackpack() as fake:
        yield fake, fake.add_account(API_KEY, wallet=wallet)


@asynccontextmanager
async def connected(fake: FakeBackpack, **options: Any) -> AsyncIterator[BackpackClient]:
    client = BackpackClient(settings(fake, **options))
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()
