"""Book change signals: a strategy that trades the book steps when it moves, not on a timer.

A scalper stepping every 0.25 s reacts to a book update 125 ms late on average, whatever its
decision path costs. A client that applies book updates itself (the paper venue, fed by the
synthetic market, a recording or a live venue's public data) counts each change per symbol
here; a strategy reads the count when it reads the book, and waits for the count to move
(:meth:`BookChanges.next_change`) instead of sleeping out its whole interval.

Counting is a dict increment per update, and the waiters are woken only when someone waits:
nothing is paid on the update path by a bot that does not use it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


class BookChanges:
    """How many times each symbol's book changed, and who waits for the next change."""

    def __init__(self) -> None:
        self._versions: dict[str, int] = {}
        self._waiters: list[tuple[frozenset[str], asyncio.Future[None]]] = []

    @property
    def waiting(self) -> bool:
        """Someone waits for a change (a source can skip work nobody would see)."""
        return bool(self._waiters)

    def changed(self, symbol: str) -> None:
        """``symbol``'s book changed: count it and wake whoever waits for it."""
        self._versions[symbol] = self._versions.get(symbol, 0) + 1
        self._wake(symbol)

    def _wake(self, symbol: str) -> None:
        """Complete the waits that watch ``symbol``."""
        if self._waiters:
            waiting = []
            for symbols, waiter in self._waiters:
                if waiter.done():
                    continue
                if symbol in symbols:
                    waiter.set_result(None)
                else:
                    waiting.append((symbols, waiter))
            self._waiters = waiting

    def version(self, symbols: Iterable[str]) -> int:
        """A number that grows with every change of any of ``symbols`` (compare, do not read)."""
        versions = self._versions
        return sum(versions.get(symbol, 0) for symbol in symbols)

    def next_change(self, symbols: Iterable[str], seen: int) -> asyncio.Future[None]:
        """A future done once a book of ``symbols`` changed after :meth:`version` answered
        ``seen`` (done already when one has). A bare future, not a task: the change wakes
        its awaiter directly, one loop turn sooner. Cancel it when no longer waited for."""
        watched = frozenset(symbols)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.version(watched) != seen:
            waiter.set_result(None)
        else:
            self._waiters.append((watched, waiter))
        return waiter
