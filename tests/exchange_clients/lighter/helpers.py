"""Shared set-up for the Lighter client tests: a key, a client on the fake, event waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from exchange_clients.lighter.client import LighterClient
from exchange_clients.streams import Subscription
from exchange_clients.types import ClientSettings
from tests.fakes.lighter import FakeLighter
from trading_config.redaction import Secret

T = TypeVar("T")
KEY = "0x" + "5e" * 40  # a Lighter API private key is 40 bytes
ACCOUNT = 4242
API_KEY = 5
GUARD_SECONDS = 10.0  # a hung stream fails the test; not a performance assertion


def settings(
    fake: FakeLighter,
    key: str = KEY,
    *,
    account: int = ACCOUNT,
    api_key: int = API_KEY,
    **options: Any,
) -> ClientSettings:
    return ClientSettings(
        venue="lighter",
        public={"account_index": str(account), "api_key_index": str(api_key)},
        secrets={"api_key_private_key": Secret(key)},
        options={"base_url": fake.base_url, "ws_url": fake.ws_url, **options},
    )


@asynccontextmanager
async def connected(
    fake: FakeLighter, key: str = KEY, **options: Any
) -> AsyncIterator[LighterClient]:
    client = LighterClient(settings(fake, key, **options))
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()


def new_fake(**kwargs: Any) -> FakeLighter:
    fake = FakeLighter(**kwargs)
    fake.add_account(ACCOUNT, API_KEY)
    return fake


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
