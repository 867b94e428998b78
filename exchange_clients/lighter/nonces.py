"""Transaction nonces per API key, taken locally so concurrent orders never collide.

Each Lighter API key has its own nonce sequence: a transaction must carry exactly the next one
(``new = old + 1``; apidocs "API keys" / "Troubleshooting", error 21104 "invalid nonce"). A
naive client that asks ``nextNonce`` per order sends the same nonce twice when two orders
overlap. Here one :class:`NonceManager` per (account, API key) hands nonces out under a lock,
initialised from ``nextNonce`` at connect and resynced from it after a nonce error (a
transaction the sequencer rejected may leave the venue's counter behind ours).

Ordering matters too: nonces must *reach* the venue in order, so the caller holds
:meth:`NonceManager.sending` from taking a nonce until its request is answered. Signing (about a
millisecond in the native signer) and the HTTP round trip are thus serialised per key; a venue
that needs more throughput adds API keys (one manager each), not concurrency on one key.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager


class NonceLease:
    """The key while one caller holds it: take nonces, give back unused ones, resync."""

    def __init__(self, manager: NonceManager) -> None:
        self._manager = manager
        self._taken: list[int] = []

    def take(self, count: int = 1) -> list[int]:
        """``count`` consecutive nonces for one transaction (or one batch)."""
        manager = self._manager
        assert manager._next is not None
        first = manager._next
        manager._next = first + count
        self._taken = list(range(first, first + count))
        manager.issued.extend(self._taken)
        return self._taken

    def give_back(self) -> None:
        """The venue refused the last transaction outright, so its nonces were not consumed."""
        if self._taken and self._manager._next == self._taken[-1] + 1:
            self._manager._next = self._taken[0]
        self._taken = []

    async def resync(self) -> int:
        """Reload ``nextNonce`` after a nonce error (the venue's counter is the truth)."""
        self._manager.resyncs += 1
        self._taken = []
        return await self._manager.sync()


class NonceManager:
    """Nonces of one (account_index, api_key_index)."""

    def __init__(
        self, account_index: int, api_key_index: int, fetch: Callable[[], Awaitable[int]]
    ) -> None:
        self.account_index = account_index
        self.api_key_index = api_key_index
        self._fetch = fetch
        self._next: int | None = None
        self._lock = asyncio.Lock()
        self.resyncs = 0
        # The latest nonces handed out, in order (tests and diagnostics).
        self.issued: deque[int] = deque(maxlen=4096)

    @property
    def peek(self) -> int | None:
        """The nonce the next transaction will get (None before the first sync)."""
        return self._next

    async def sync(self) -> int:
        """Load ``nextNonce`` from the venue (at connect, and after a nonce error)."""
        self._next = await self._fetch()
        return self._next

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[NonceLease]:
        """Exclusive use of the key from taking a nonce until the venue has answered.

        A transaction whose outcome is unknown (timeout) keeps its nonce: if the venue never
        saw it, the next transaction fails with "invalid nonce" and resyncs.
        """
        async with self._lock:
            if self._next is None:
                await self.sync()
            yield NonceLease(self)
