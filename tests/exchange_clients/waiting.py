"""Waiting on venue clients in tests: the next matching event, a condition, in-flight messages.

Every wait is guarded (a hung stream fails the test instead of hanging CI); none is a speed
assertion.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from exchange_clients.streams import Subscription

T = TypeVar("T")
GUARD_SECONDS = 10.0


async def next_event(
    subscription: Subscription[T], predicate: Callable[[T], bool] = lambda _: True
) -> T:
    """The next event of ``subscription`` that matches ``predicate``."""

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
