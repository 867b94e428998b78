"""Shared set-up for the Hyperliquid client tests: keys, a client on the fake, event waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, TypeVar

from eth_account import Account

from exchange_clients.hyperliquid.client import HyperliquidClient
from exchange_clients.streams import Subscription
from exchange_clients.types import ClientSettings
from tests.fakes.hyperliquid import FakeHyperliquid
from trading_config.redaction import Secret

T = TypeVar("T")
OWNER_KEY = "0x" + "11" * 32
AGENT_KEY = "0x" + "22" * 32
STRANGER_KEY = "0x" + "33" * 32
OWNER = Account.from_key(OWNER_KEY).address.lower()
AGENT = Account.from_key(AGENT_KEY).address.lower()
STRANGER = Account.from_key(STRANGER_KEY).address.lower()
VAULT = "0x1719884eb866cb12b2287399b15f7db5e7d775ea"
GUARD_SECONDS = 10.0  # a hung stream fails the test; not a performance assertion


def settings(fake: FakeHyperliquid, key: str = OWNER_KEY, **options: Any) -> ClientSettings:
    public = {
        name: str(options.pop(name))
        for name in ("account_address", "vault_address")
        if name in options
    }
    testnet = bool(options.pop("testnet", False))
    return ClientSettings(
        venue="hyperliquid",
        testnet=testnet,
        public=public,
        secrets={"private_key": Secret(key)},
        options={"base_url": fake.base_url, "ws_url": fake.ws_url, **options},
    )


@asynccontextmanager
async def connected(
    fake: FakeHyperliquid, key: str = OWNER_KEY, **options: Any
) -> AsyncIterator[HyperliquidClient]:
    client = HyperliquidClient(settings(fake, key, **options))
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()


def new_fake(**kwargs: Any) -> FakeHyperliquid:
    kwargs.setdefault("accounts", {OWNER: Decimal(100_000)})
    return FakeHyperliquid(**kwargs)


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
    """Give in-flight WebSocket messages time to arrive (used before asserting *absence*)."""
    await asyncio.sleep(0.3)
