"""Local order books from the ``<symbol>@depth@100ms`` diff stream, kept the documented way.

Binance "How to manage a local order book correctly" (USD-M futures; Aster documents the same
procedure): open the stream and buffer its events, take a REST snapshot, drop events with
``u`` < ``lastUpdateId``, the first applied event straddles the snapshot (``U <= lastUpdateId
<= u``), and from then on every event's ``pu`` must equal the previous event's ``u``; anything
else is a gap and the book is rebuilt from a new snapshot. :class:`OrderBook` enforces the
sequence rules; this module does the buffering, the snapshots and the resyncs.

Symbols are subscribed lazily (the first time their book is asked for) with the live
``{"method": "SUBSCRIBE"}`` request, and re-subscribed and re-snapshotted on every reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from exchange_clients.errors import VenueUnavailable
from exchange_clients.order_book import BookNeedsResync, OrderBook, SequenceGap
from networking.backoff import Backoff
from networking.websocket import ReconnectingWebSocket
from trading_config.logging_setup import get_logger
from trading_config.redaction import Secret

log = get_logger(__name__)

SNAPSHOT_WAIT_SECONDS = 10.0
Snapshot = Callable[[str], Awaitable[Any]]


def depth_stream(contract_id: str) -> str:
    return f"{contract_id.lower()}@depth@100ms"


@dataclass
class _BookState:
    contract_id: str
    book: OrderBook
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    buffer: list[dict[str, Any]] | None = field(default_factory=list)
    resync: asyncio.Task[None] | None = None


class DepthStream:
    """Every streamed book of one client, on one WebSocket connection."""

    def __init__(
        self,
        *,
        venue: str,
        ws_url: str,
        snapshot: Snapshot,
        proxy_url: Secret | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.venue = venue
        self._snapshot_source = snapshot
        self._books: dict[str, _BookState] = {}
        self._ids = itertools.count(1)
        self.snapshots = 0
        """REST snapshots taken so far (tests use it to see a resync happen)."""
        self.gaps = 0
        self._ws = ReconnectingWebSocket(
            f"{ws_url.rstrip('/')}/ws",
            venue=venue,
            on_message=self._on_message,
            on_connect=self._on_connect,
            on_disconnect=self._on_disconnect,
            heartbeat=20.0,
            idle_timeout=None,
            backoff=backoff,
            proxy_url=proxy_url,
            name="depth",
        )

    @property
    def connected(self) -> bool:
        return self._ws.is_connected

    @property
    def websocket(self) -> ReconnectingWebSocket:
        return self._ws

    async def start(self) -> None:
        await self._ws.start()

    async def stop(self) -> None:
        for state in self._books.values():
            if state.resync is not None:
                state.resync.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await state.resync
        await self._ws.stop()

    async def book(self, contract_id: str) -> OrderBook | None:
        """The live book of ``contract_id`` (subscribing on first use); None if not streaming."""
        state = self._books.get(contract_id)
        if state is None:
            if not self._ws.is_connected:
                return None
            state = _BookState(contract_id, OrderBook(contract_id))
            self._books[contract_id] = state
            await self._ws.send(self._subscribe_message([contract_id]))
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

    def _subscribe_message(self, contract_ids: list[str]) -> dict[str, Any]:
        return {
            "method": "SUBSCRIBE",
            "params": [depth_stream(cid) for cid in contract_ids],
            "id": next(self._ids),
        }

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
                event["b"],
                event["a"],
                first_sequence=int(event["U"]),
                last_sequence=int(event["u"]),
                previous_sequence=int(event["pu"]),
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

    def _on_message(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        event = message.get("data", message)
        if not isinstance(event, dict) or event.get("e") != "depthUpdate":
            return
        state = self._books.get(str(event.get("s")))
        if state is None:
            return
        if state.buffer is not None:
            state.buffer.append(event)
        else:
            self._apply(state, event)

    async def _on_connect(self, ws: ReconnectingWebSocket) -> None:
        if not self._books:
            return
        for state in self._books.values():
            state.ready.clear()
            state.buffer = []
        await ws.send(self._subscribe_message(list(self._books)))
        for state in self._books.values():
            await self._take_snapshot(state)

    def _on_disconnect(self) -> None:
        for state in self._books.values():
            state.book.invalidate("depth stream disconnected")
            state.ready.clear()
            state.buffer = []
