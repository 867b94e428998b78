"""One venue's markets, by our symbol and by the venue's own key, loaded on demand.

Each venue keeps a record per market (a plain :class:`Market`, or a richer one such as
Hyperliquid's asset index or Lighter's integer scaling); the cache only needs to know how to
load the records, which :class:`Market` a record shows, and which venue key (contract id, coin,
market id) finds it in a wire message. Venues whose grids move (Hyperliquid's tick follows the
mark price) give a ``ttl`` so :meth:`MarketCache.current` reloads stale markets.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Generic, TypeVar

from core.errors import UnknownSymbol
from exchange_clients.types import Market

R = TypeVar("R")


class MarketCache(Generic[R]):
    """The markets of one client connection."""

    def __init__(
        self,
        venue: str,
        load: Callable[[], Awaitable[Iterable[R]]],
        *,
        view: Callable[[R], Market],
        key: Callable[[R], Hashable],
        ttl: float | None = None,
    ) -> None:
        self._venue = venue
        self._load = load
        self._view = view
        self._key = key
        self._ttl = ttl
        self._by_symbol: dict[str, R] = {}
        self._by_key: dict[Hashable, R] = {}
        self._loaded_at: float | None = None

    @property
    def loaded(self) -> bool:
        return self._loaded_at is not None

    async def reload(self) -> None:
        records = list(await self._load())
        self._by_symbol = {self._view(record).symbol: record for record in records}
        self._by_key = {self._key(record): record for record in records}
        self._loaded_at = time.monotonic()

    async def current(self) -> dict[str, R]:
        """Every record by symbol, reloaded first when never loaded or older than the ttl."""
        if self._loaded_at is None or (
            self._ttl is not None and time.monotonic() - self._loaded_at > self._ttl
        ):
            await self.reload()
        return dict(self._by_symbol)

    async def markets(self) -> dict[str, Market]:
        return {symbol: self._view(record) for symbol, record in (await self.current()).items()}

    async def get(self, symbol: str) -> R:
        """The record of ``symbol`` (loading once if needed); ``UnknownSymbol`` if unlisted."""
        if self._loaded_at is None:
            await self.reload()
        try:
            return self._by_symbol[symbol]
        except KeyError:
            raise UnknownSymbol(f"no market for {symbol!r}", venue=self._venue) from None

    def cached(self, symbol: str) -> R | None:
        return self._by_symbol.get(symbol)

    def by_key(self, key: Hashable) -> R | None:
        """The record a wire message names by the venue's key (None: not a market of ours)."""
        return self._by_key.get(key)

    def records(self) -> list[R]:
        return list(self._by_symbol.values())
