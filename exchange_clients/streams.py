"""Fan-out of venue events (fills, order updates) to any number of async-iterating consumers.

A client publishes each event once; every subscription open at that moment
receives it, in order. Subscribing is immediate (not deferred to the first
``await``), so nothing published between ``client.fills()`` and the first
iteration is missed. Queues are unbounded on purpose: dropping a fill would
corrupt positions; a stuck consumer is a bug to fix, not to hide by losing data.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")


class Subscription(Generic[T]):
    """An open stream of events; iterate it, and ``close()`` (or ``async with``) when done."""

    def __init__(self, hub: EventHub[T]) -> None:
        self._hub = hub
        self._queue: asyncio.Queue[T] = asyncio.Queue()
        hub._subscribers.add(self._queue)

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        if self._queue not in self._hub._subscribers and self._queue.empty():
            raise StopAsyncIteration
        return await self._queue.get()

    def pending(self) -> int:
        """Events received but not yet consumed."""
        return self._queue.qsize()

    def close(self) -> None:
        self._hub._subscribers.discard(self._queue)

    async def __aenter__(self) -> Subscription[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class EventHub(Generic[T]):
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[T]] = set()

    def publish(self, event: T) -> None:
        for queue in self._subscribers:
            queue.put_nowait(event)

    def subscribe(self) -> Subscription[T]:
        return Subscription(self)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
