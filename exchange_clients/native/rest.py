"""The REST side of a venue that signs with a timestamp: its clock offset and its answers.

Backpack and the Binance-style venues refuse a request whose timestamp is off their clock, and
answer JSON with an error payload on 4xx/5xx. Both therefore keep an offset to the venue's
clock (re-measured when a request is refused as expired), refuse a signed call locally when the
account has no credentials, and read answers the same way; that part lives here once, and a
venue supplies how its time endpoint answers and how its error payload maps to our errors.

:class:`TimestampedRestClient` is the client side those venues share: the session's accessors,
the ``api_key``/``api_secret`` pair, connecting (markets, then credentials, clock and streams),
and the recovery of missed fills from the history of every market traded since connect,
starting a minute before the last account event seen.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from core.errors import AuthenticationFailed, ExchangeError, VenueUnavailable
from core.redaction import Secret
from exchange_clients.native.base import ContractMarketsClient
from exchange_clients.order_book import OrderBook
from exchange_clients.types import BookSnapshot, ClientSettings, Market
from networking.http import HttpRequest, HttpResponse, RestTransport

S = TypeVar("S")
"""The venue's request signer."""

RECOVERY_LOOKBACK_MS = 60_000
"""How far before the last account event the fill history is read after a reconnection."""


class TimestampedRest(ABC, Generic[S]):
    """One account's REST session, signer and offset to the venue's clock."""

    credentials: ClassVar[str]
    """How the refusal of a signed call without credentials names what is missing."""

    def __init__(self, transport: RestTransport, signer: S | None) -> None:
        self.transport = transport
        self.signer = signer
        self.clock_offset_ms = 0

    @property
    def venue(self) -> str:
        return self.transport.venue

    def now_ms(self) -> int:
        """The venue's clock as we estimate it, in epoch milliseconds."""
        return int(time.time() * 1000) + self.clock_offset_ms

    async def sync_time(self) -> None:
        """Measure the offset between our clock and the venue's (its time endpoint)."""
        before = int(time.time() * 1000)
        server_ms = await self._server_time_ms()
        after = int(time.time() * 1000)
        self.clock_offset_ms = server_ms - (before + after) // 2

    @abstractmethod
    async def _server_time_ms(self) -> int:
        """The venue's clock, from its time endpoint."""

    @abstractmethod
    def _refusal(self, request: HttpRequest, status: int, payload: Any) -> Exception:
        """What to raise for an error answer (``payload``: its JSON, else its text)."""

    def _require_signer(self) -> S:
        if self.signer is None:
            raise AuthenticationFailed(
                f"this call needs {self.credentials} and the account has none configured",
                venue=self.venue,
            )
        return self.signer

    def _result(self, request: HttpRequest, response: HttpResponse) -> Any:
        """The JSON of a success; an error answer raises :meth:`_refusal`."""
        if response.status < 400:
            try:
                return response.json()
            except ValueError:
                raise VenueUnavailable(
                    f"{request.label}: unreadable answer (HTTP {response.status})",
                    venue=self.venue,
                ) from None
        try:
            payload: Any = response.json()
        except ValueError:
            payload = response.text
        raise self._refusal(request, response.status, payload)


T = TypeVar("T", bound=TimestampedRest[Any])


class ClientStream(Protocol):
    """A WebSocket the client opens on connect and closes on disconnect."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


W = TypeVar("W", bound=ClientStream)


class BookSource(Protocol):
    """A stream that keeps live books by contract id (``book_sync.BookStream``)."""

    async def book(self, contract_id: str) -> OrderBook | None: ...


class TimestampedRestClient(ContractMarketsClient, Generic[T]):
    """A contract-keyed native venue over a :class:`TimestampedRest` session."""

    _rest: T

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        self._streams = bool(settings.options.get("streams", True))
        self._active_contracts: set[str] = set()
        """Contracts traded since connect: the fill history is read for these on resync."""
        self._last_event_ms = 0
        self._open_streams: list[ClientStream] = []
        """What :meth:`_open_stream` started since connect, oldest first."""

    @property
    def rest(self) -> T:
        return self._rest

    @property
    def transport(self) -> RestTransport:
        return self._rest.transport

    async def _start(self) -> None:
        await self._market_cache.reload()
        if self._rest.signer is not None:
            await self._check_credentials()
        self._last_event_ms = self._rest.now_ms()
        if self._streams:
            await self._start_streams()

    async def _check_credentials(self) -> None:
        """A signed call that fails at connect on keys the venue refuses (none by default)."""

    @abstractmethod
    async def _start_streams(self) -> None:
        """Open the venue's WebSockets (the ``streams`` option is on)."""

    async def _open_stream(self, stream: W) -> W:
        """Start ``stream``, kept for :meth:`_stop_streams` (also when starting it fails, so a
        failed ``connect()`` closes what it half-opened)."""
        self._open_streams.append(stream)
        await stream.start()
        return stream

    async def _stop_streams(self) -> None:
        """Stop what :meth:`_open_stream` started, newest first."""
        while self._open_streams:
            await self._open_streams.pop().stop()

    async def _streamed_book(
        self, source: BookSource | None, market: Market, depth: int
    ) -> BookSnapshot | None:
        """``market``'s book from the stream when it can be trusted, else ``None`` (ask REST):
        no stream, the stream down or resyncing, or the book awaiting its snapshot."""
        if source is None:
            return None
        try:
            book = await source.book(market.contract_id)
        except ExchangeError:
            return None
        if book is None or book.needs_resync:
            return None
        bids, asks = book.depth(depth)
        return self._book_snapshot(market, bids, asks, book.sequence)

    def _key_and_secret(self, needed_for: str) -> tuple[Secret, Secret] | None:
        """``api_key`` and ``api_secret``; ``None`` without both (public data only)."""
        key, secret = self.settings.secrets.get("api_key"), self.settings.secrets.get("api_secret")
        if key is None and secret is None:
            return None
        if key is None or secret is None:
            raise AuthenticationFailed(
                f"both api_key and api_secret are needed {needed_for}", venue=self.name
            )
        return key, secret

    async def _recover_fills(self) -> None:
        start = self._last_event_ms - RECOVERY_LOOKBACK_MS
        for contract in sorted(self._active_contracts):
            market = self._record_of(contract)
            if market is not None:
                await self._recover_market_fills(market, start)

    @abstractmethod
    async def _recover_market_fills(self, market: Market, start_ms: int) -> None:
        """Publish (once) the fills of ``market`` from its history since ``start_ms``."""
