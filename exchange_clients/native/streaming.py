"""A native venue whose account events and books arrive on one WebSocket (Hyperliquid, Lighter).

Such a client cannot trade without its stream, so :attr:`stream` refuses before ``connect()``;
and a streamed book is only served while it can be trusted: the stream is up, the book has had
its snapshot since the last (re)connection and no gap was seen. What that takes (the stream
slot, the books and which of them are live, stopping it all) is the same for every such venue
and lives here; the venue says how it opens the stream and what makes a book live.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

from core.errors import VenueUnavailable
from exchange_clients.native.base import NativeVenueClient, R
from exchange_clients.order_book import OrderBook
from exchange_clients.types import ClientSettings


class AccountStream(Protocol):
    """What the client needs of its venue's stream."""

    @property
    def connected(self) -> bool: ...

    async def stop(self) -> None: ...


S = TypeVar("S", bound=AccountStream)
K = TypeVar("K", bound=Hashable)
"""The key books are kept by (the venue's market key)."""


class StreamingVenueClient(NativeVenueClient[R], Generic[R, K, S]):
    """A native venue client with one WebSocket while connected, and books kept from it."""

    def __init__(self, settings: ClientSettings, *, markets_ttl: float | None = None) -> None:
        super().__init__(settings, markets_ttl=markets_ttl)
        self._stream: S | None = None
        self._books: dict[K, OrderBook] = {}
        self._live_books: set[K] = set()
        """Books that have had their snapshot on the current connection."""

    @property
    def stream(self) -> S:
        if self._stream is None:
            raise VenueUnavailable("not connected (call connect() first)", venue=self.venue)
        return self._stream

    async def _stop_streams(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            await stream.stop()
        self._live_books.clear()

    def _ws_ping_interval(self) -> float:
        """The ``ws_ping_interval`` option (30 s)."""
        return float(str(self.settings.options.get("ws_ping_interval", 30)))

    def _live_book(self, key: K) -> OrderBook | None:
        """The streamed book of ``key`` when it can be served, else ``None`` (ask REST)."""
        book = self._books.get(key)
        if (
            book is not None
            and key in self._live_books
            and self._stream is not None
            and self._stream.connected
            and not book.needs_resync
        ):
            return book
        return None
