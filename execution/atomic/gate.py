"""Which symbols recovery is still finishing, so new operations on them wait (and only them).

Recovery after a crash can take seconds (a resting order to cancel, a close to chase to flat,
an order journaled ``pending`` that may still land). The bot need not wait for all of it to
serve its control API or to trade other symbols: :func:`execution.atomic.recovery.start_recovery`
holds the symbols of the operations it is finishing, :meth:`AtomicMultiOrderExecutor.execute`
waits for its symbol, and a strategy can ask :meth:`SymbolGate.resolving` to skip a symbol
instead of waiting.
"""

from __future__ import annotations

import asyncio
from collections import Counter


class SymbolGate:
    """Counts holds per symbol; waiters of a symbol wake when its last hold is released."""

    def __init__(self) -> None:
        self._holds: Counter[str] = Counter()
        self._free: dict[str, asyncio.Event] = {}

    def hold(self, symbol: str) -> None:
        self._holds[symbol] += 1
        self._free.setdefault(symbol, asyncio.Event()).clear()

    def release(self, symbol: str) -> None:
        if self._holds[symbol] <= 0:
            raise RuntimeError(f"{symbol} is not held")
        self._holds[symbol] -= 1
        if self._holds[symbol] == 0:
            del self._holds[symbol]
            self._free[symbol].set()

    def resolving(self, symbol: str) -> bool:
        """True while an interrupted operation on ``symbol`` is still being finished."""
        return self._holds[symbol] > 0

    @property
    def symbols(self) -> list[str]:
        return sorted(symbol for symbol, count in self._holds.items() if count > 0)

    async def wait(self, symbol: str) -> None:
        """Return once no recovery holds ``symbol`` (at once when none does)."""
        while self.resolving(symbol):
            await self._free[symbol].wait()
