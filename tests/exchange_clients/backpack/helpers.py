"""Shared set-up for the Backpack client tests: keys, a client on the fake, event waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, TypeVar

from exchange_clients.backpack.client import BackpackClient
from exchange_clients.streams import Subscription
from exchange_clients.types import ClientSettings
from tests.fakes.backpack import FakeAccount, FakeBackpack, keypair
from trading_config.redaction import Secret

T = TypeVar("T")
D = Decimal
API_KEY, API_SECRET = keypair(bytes([1]) * 32)
OTHER_KEY, OTHER_SECRET = keypair(bytes([2]) * 32)
DEFAULT_WALLET = Decimal(10_000)
GUARD_SECONDS = 10.0  # a hung stream fails the test; not a performance assertion


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


async def next_event(
    subscription: Subscription[T], predicate: Callable[[T], bool] = lambda _: True
) -> T:
    async def wait() -> T:
        async for event in subscription:
            if predicate(event):
                return event
        raise AssertionError("stream ended")

    return await asyncio.wait_for(wait(), GUARD_SECONDS)


async def until(condition: Callable[[], bool]) -> None:
    """Wait (guarded) for ``condition`` to hold."""

    async def poll() -> None:
        while not condition():  # noqa: ASYNC110 - conditions on fake/client state, no event
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), GUARD_SECONDS)


async def settle() -> None:
    """Let in-flight WebSocket messages arrive (used before asserting that nothing more came)."""
    await asyncio.sleep(0.3)
