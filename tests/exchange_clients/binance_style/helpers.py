"""Shared by the Binance-style client tests: a client connected to a fake, and waiting for
conditions (events, not wall-clock time)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from core.redaction import Secret
from exchange_clients.binance_style.client import BinanceStyleClient
from exchange_clients.factory import create_client
from exchange_clients.streams import Subscription
from exchange_clients.types import ClientSettings
from testing.fakes.binance_style import FakeBinanceStyle

T = TypeVar("T")
GUARD_SECONDS = 10.0
"""Guards against a hung stream; not a performance assertion."""
API_KEY = "test-api-key-abcdef123456"
API_SECRET = "test-api-secret-ZYXWVU987654"


def hmac_settings(
    venue: str,
    fake: FakeBinanceStyle,
    *,
    secret: str = API_SECRET,
    key: str = API_KEY,
    **options: Any,
) -> ClientSettings:
    return ClientSettings(
        venue=venue,
        secrets={"api_key": Secret(key), "api_secret": Secret(secret)},
        options={"base_url": fake.base_url, "ws_url": fake.ws_url, **options},
    )


@asynccontextmanager
async def connected(settings: ClientSettings) -> AsyncIterator[BinanceStyleClient]:
    client = create_client(settings)
    assert isinstance(client, BinanceStyleClient)
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()


async def eventually(predicate: Callable[[], bool], what: str = "condition") -> None:
    """Wait until ``predicate()`` holds (polling), failing after the guard timeout."""

    async def wait() -> None:
        while not predicate():  # noqa: ASYNC110 - a condition on other tasks, polled
            await asyncio.sleep(0.01)

    try:
        await asyncio.wait_for(wait(), GUARD_SECONDS)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def next_matching(subscription: Subscription[T], predicate: Callable[[T], bool]) -> T:
    async def wait() -> T:
        while True:
            event = await anext(subscription)
            if predicate(event):
                return event

    return await asyncio.wait_for(wait(), GUARD_SECONDS)


def drain(subscription: Subscription[T]) -> list[T]:
    """Everything already delivered to ``subscription``, without waiting."""
    events: list[T] = []
    while subscription.pending():
        events.append(subscription._queue.get_nowait())
    return events
