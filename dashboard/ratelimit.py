"""Login rate limiting: failed attempts per client address and per user name.

A sliding window in memory (one dashboard process serves the fleet): after ``limit`` failures
within ``window`` seconds, further attempts for that address or that name are refused until
the oldest failure leaves the window. A success clears the name's failures, not the address's,
so one good password cannot launder guesses at other names.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

MAX_KEYS = 10_000


class LoginLimiter:
    def __init__(
        self,
        limit: int = 5,
        window_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, address: str, name: str) -> float:
        """Seconds until an attempt is allowed (0: allowed now)."""
        now = self._clock()
        wait = 0.0
        for key in (f"ip:{address}", f"user:{name}"):
            times = self._recent(key, now)
            if len(times) >= self.limit:
                wait = max(wait, times[0] + self.window - now)
        return wait

    def failed(self, address: str, name: str) -> None:
        now = self._clock()
        if len(self._failures) > MAX_KEYS:
            self._failures.clear()  # a flood of names must not grow memory without bound
        for key in (f"ip:{address}", f"user:{name}"):
            self._recent(key, now).append(now)

    def succeeded(self, name: str) -> None:
        self._failures.pop(f"user:{name}", None)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times
