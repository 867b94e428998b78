"""Time as the exchange layer sees it: real, or driven by a test.

The paper venue charges funding at funding times, expires latency and
replays recorded feeds; tests drive all of that with :class:`ManualClock`
instead of sleeping, so they are exact and fast.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC now."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock:
    """Moves only when told to; ``sleep`` returns once ``advance`` passes its deadline."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)
        self._waiters: list[tuple[datetime, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((self._now + timedelta(seconds=seconds), future))
        await future

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking every sleeper whose deadline has passed, in order."""
        target = self._now + timedelta(seconds=seconds)
        while True:
            due = sorted(
                (w for w in self._waiters if w[0] <= target and not w[1].done()),
                key=lambda w: w[0],
            )
            if not due:
                break
            deadline, future = due[0]
            self._now = max(self._now, deadline)
            self._waiters.remove((deadline, future))
            future.set_result(None)
            # Let the woken task run (it may schedule new sleeps before the target).
            for _ in range(3):
                await asyncio.sleep(0)
        self._now = target
        self._waiters = [w for w in self._waiters if not w[1].done()]
