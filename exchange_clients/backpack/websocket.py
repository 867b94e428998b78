"""Backpack's WebSocket: local books from ``depth.<symbol>``, public trades and mark prices, and
the signed private streams, all on one connection to ``wss://ws.backpack.exchange``.

Backpack API docs, "Streams":

* subscribing: ``{"method": "SUBSCRIBE", "params": [streams...]}``; every message arrives as
  ``{"stream": "<name>", "data": {...}}``; the server pings every 60 s (aiohttp answers pongs);
* private streams (``account.*``) carry ``"signature": [verifying key, signature, timestamp,
  window]`` signed over ``instruction=subscribe&timestamp=..&window=..``: a fresh signature is
  made on every (re)connection, since an old one is outside its window;
* ``depth.<symbol>``: incremental levels (absolute sizes, 0 removes); the first snapshot comes
  from ``GET /api/v1/depth`` (``lastUpdateId``); updates are sequential, ``U`` = previous
  ``u`` + 1, anything else means the book is invalid and must be re-snapshotted. The rule is
  enforced by :class:`OrderBook` (``first_sequence=U``, ``last_sequence=u``): events already in
  the snapshot are dropped as stale, a gap marks the book for a resync.

Books are subscribed lazily (the first time one is asked for). While a snapshot is being taken
the stream's events for that book are buffered and replayed after it. Every reconnection
re-subscribes everything (private streams with a new signature), re-snapshots every book and
then runs ``on_reconnect`` (the client recovers fills missed meanwhile) before the new
connection's events are delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from exchange_clients.backpack.signing import Ed25519Signer
from exchange_clients.errors import VenueUnavailable
from exchange_clients.order_book import BookNeedsResync, OrderBook, SequenceGap
from networking.backoff import Backoff
from networking.websocket import ReconnectingWebSocket
from trading_config.logging_setup import get_logger
from trading_config.redaction import Secret

log = get_logger(__name__)

MAINNET_WS_URL = "wss://ws.backpack.exchange"
PRIVATE_STREAMS = ("account.orderUpdate", "account.positionUpdate")
SNAPSHOT_WAIT_SECONDS = 10.0
Snapshot = Callable[[str], Awaitable[Any]]
Handler = Callable[[str, dict[str, Any]], None]


def depth_stream(contract_id: str) -> str:
    return f"depth.{contract_id}"


@dataclass
class _BookState:
    contract_id: str
    book: OrderBook
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    buffer: list[dict[str, Any]] | None = field(default_factory=list)
    resync: asyncio.Task[None] | None = None


class BackpackStream:
    """The one WebSocket connection of a client."""

    def __init__(
        self,
        *,
        venue: str,
        ws_url: str,
        snapshot: Snapshot,
        signer: Ed25519Signer | None,
        now_ms: Callable[[], int],
        on_private: Handler,
        on_public: Handler,
        on_reconnect: Callable[[], Awaitable[None]],
        proxy_url: Secret | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.venue = venue
        self._snapshot_source = snapshot
        self._signer = signer
        self._now_ms = now_ms
        self._on_private = on_private
        self._on_public = on_public
        self._on_reconnect = on_reconnect
        self._books: dict[str, _BookState] = {}
        self._public: set[str] = set()
        self.snapshots = 0
        """REST depth snapshots taken so far (tests watch resyncs with it)."""
        self.gaps = 0
        self.errors: list[dict[str, Any]] = []
        """Error messages the venue sent (a refused private subscription, ...)."""
        self._ws = ReconnectingWebSocket(
            ws_url,
            venue=venue,
            on_message=self._on_message,
            on_connect=self._on_connect,
            on_disconnect=self._on_disconnect,
            heartbeat=20.0,
            idle_timeout=None,
            backoff=backoff,
            proxy_url=proxy_url,
            name="stream",
        )

    @property
    def websocket(self) -> ReconnectingWebSocket:
        return self._ws

    @property
    def connected(self) -> bool:
        return self._ws.is_connected

    async def start(self) -> None:
        await self._ws.start()

    async def stop(self) -> None:
        for state in self._books.values():
            if state.resync is not None:
                state.resync.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await state.resync
        await self._ws.stop()

    # --- subscriptions ---------------------------------------------------------------------

    def private_subscribe_message(self) -> dict[str, Any]:
        assert self._signer is not None
        return {
            "method": "SUBSCRIBE",
            "params": list(PRIVATE_STREAMS),
            "signature": self._signer.subscribe_signature(self._now_ms()),
        }

    async def subscribe_public(self, streams: list[str]) -> None:
        """Subscribe to public streams (``trade.<symbol>``, ``markPrice.<symbol>``)."""
        new = [s for s in streams if s not in self._public]
        self._public.update(new)
        if new and self._ws.is_connected:
            await self._ws.send({"method": "SUBSCRIBE", "params": new})

    async def book(self, contract_id: str) -> OrderBook | None:
        """The live book (subscribing on first use); None while the stream is down."""
        state = self._books.get(contract_id)
        if state is None:
            if not self._ws.is_connected:
                return None
            state = _BookState(contract_id, OrderBook(contract_id))
            self._books[contract_id] = state
            await self._ws.send({"method": "SUBSCRIBE", "params": [depth_stream(contract_id)]})
            try:
                await self._take_snapshot(state)
            except Exception:
                self._start_resync(state)
                raise
        if not state.ready.is_set():
            if not self._ws.is_connected:
                return None
            try:
                await asyncio.wait_for(state.ready.wait(), SNAPSHOT_WAIT_SECONDS)
            except TimeoutError:
                raise VenueUnavailable(
                    f"{contract_id} book did not resynchronise in time", venue=self.venue
                ) from None
        return state.book

    # --- books -----------------------------------------------------------------------------

    async def _take_snapshot(self, state: _BookState) -> None:
        data = await self._snapshot_source(state.contract_id)
        self.snapshots += 1
        state.book.apply_wire_snapshot(data["bids"], data["asks"], int(data["lastUpdateId"]))
        buffered, state.buffer = state.buffer or [], None
        for event in buffered:
            if state.buffer is not None:  # a gap in the buffer started a new resync
                state.buffer.append(event)
            else:
                self._apply(state, event)
        if state.buffer is None:
            state.ready.set()

    def _apply(self, state: _BookState, event: dict[str, Any]) -> None:
        try:
            state.book.apply_wire_update(
                event.get("b", []),
                event.get("a", []),
                first_sequence=int(event["U"]),
                last_sequence=int(event["u"]),
            )
        except (SequenceGap, BookNeedsResync) as gap:
            self.gaps += 1
            log.warning("depth_gap", venue=self.venue, symbol=state.contract_id, error=str(gap))
            self._start_resync(state)

    def _start_resync(self, state: _BookState) -> None:
        state.ready.clear()
        state.buffer = []
        if state.resync is None or state.resync.done():
            state.resync = asyncio.create_task(self._resync(state))

    async def _resync(self, state: _BookState) -> None:
        backoff = Backoff(initial=0.1, maximum=5.0, floor=0.05)
        attempt = 0
        while self._ws.is_connected:
            try:
                await self._take_snapshot(state)
                if state.ready.is_set():
                    return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("depth_resync_failed", venue=self.venue, error=str(exc))
            await asyncio.sleep(backoff.delay(attempt))
            attempt += 1

    # --- connection callbacks --------------------------------------------------------------

    def _on_message(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        if "error" in message:
            self.errors.append(message)
            log.warning("ws_error", venue=self.venue, error=str(message.get("error"))[:200])
            return
        stream, data = message.get("stream"), message.get("data")
        if not isinstance(stream, str) or not isinstance(data, dict):
            return
        if stream.startswith("depth."):
            state = self._books.get(stream.removeprefix("depth."))
            if state is None:
                return
            if state.buffer is not None:
                state.buffer.append(data)
            else:
                self._apply(state, data)
        elif stream.startswith("account."):
            self._on_private(stream, data)
        else:
            self._on_public(stream, data)

    async def _on_connect(self, ws: ReconnectingWebSocket) -> None:
        for state in self._books.values():
            state.ready.clear()
            state.buffer = []
        if self._signer is not None:
            await ws.send(self.private_subscribe_message())
        public = [depth_stream(c) for c in self._books] + sorted(self._public)
        if public:
            await ws.send({"method": "SUBSCRIBE", "params": public})
        for state in self._books.values():
            await self._take_snapshot(state)
        if ws.connections > 1:
            await self._on_reconnect()

    def _on_disconnect(self) -> None:
        for state in self._books.values():
            state.book.invalidate("stream disconnected")
            state.ready.clear()
            state.buffer = []
