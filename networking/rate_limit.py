"""Client-side rate limiting: a token bucket per venue (or per venue + endpoint family).

Venues publish request budgets (Binance: request weight per minute; Hyperliquid: weight per
minute per address). Spending them in a bucket before sending keeps a busy bot under the
limit instead of discovering it through 429s and bans. When the venue answers 429 anyway
(another process on the same key, a budget we modelled wrongly), :meth:`TokenBucket.pause`
holds every caller until the venue's Retry-After has passed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    """``capacity`` tokens refilled at ``rate`` per second; callers wait for their weight."""

    def __init__(
        self,
        rate: float,
        capacity: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError(f"rate and capacity must be positive, not {rate}/{capacity}")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._updated = clock()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    @classmethod
    def per_minute(cls, budget: float, *, burst: float | None = None) -> TokenBucket:
        """A bucket for a venue budget stated per minute (``burst`` defaults to the budget)."""
        return cls(budget / 60.0, burst if burst is not None else budget)

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    @property
    def available(self) -> float:
        self._refill(self._clock())
        return self._tokens

    def wait_time(self, weight: float = 1.0) -> float:
        """Seconds until ``weight`` tokens could be taken (0 when they can be now)."""
        now = self._clock()
        self._refill(now)
        paused = max(0.0, self._paused_until - now)
        missing = max(0.0, min(weight, self.capacity) - self._tokens)
        return max(paused, missing / self.rate)

    async def acquire(self, weight: float = 1.0) -> None:
        """Take ``weight`` tokens, waiting as long as needed; callers are served in order.

        A weight above the capacity is charged at the capacity (it could never be met
        otherwise): the bucket is emptied and the caller goes.
        """
        if weight <= 0:
            return
        async with self._lock:
            # A computed wait, not polling: the refill time is known exactly.
            while (wait := self.wait_time(weight)) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
            self._tokens -= min(weight, self.capacity)

    def pause(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` (the venue said Retry-After) and drain the bucket."""
        now = self._clock()
        self._refill(now)
        self._paused_until = max(self._paused_until, now + max(0.0, seconds))
        self._tokens = 0.0
