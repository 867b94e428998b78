"""Books kept from a REST snapshot plus sequenced WebSocket deltas, rebuilt on a gap.

The local-book procedure Binance-style venues and Backpack document: subscribe, buffer the
deltas, take a REST snapshot, apply the buffered deltas that follow it (older ones are dropped
by :class:`OrderBook`'s sequence rules), then every delta as it comes; a delta that does not
follow the previous one is a gap, and the book is rebuilt from a new snapshot while new deltas
are buffered again. Each venue says how a delta applies (its sequence fields) and how to
subscribe; this module does the buffering, the snapshots, the resyncs and the waiting, and
:class:`BookStream` is the WebSocket shell both venues keep their books on.

A resync runs under the books' :class:`TaskSupervisor`: one that dies of an error it does not
expect is logged by name, its book is invalidated (never served half-built) and a new resync
starts after ``resync_retry_seconds``.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from core.errors import VenueUnavailable
from core.logging_setup import get_logger
from core.redaction import Secret
from core.tasks import TaskSupervisor
from exchange_clients.order_book import BookNeedsResync, OrderBook, SequenceGap
from networking.backoff import Backoff
from networking.websocket import ReconnectingWebSocket

log = get_logger(__name__)

SNAPSHOT_WAIT_SECONDS = 10.0
Snapshot = Callable[[str], Awaitable[Any]]
"""contract id -> the venue's REST depth answer: ``{"lastUpdateId", "bids", "asks"}``."""
ApplyDelta = Callable[[OrderBook, dict[str, Any]], None]
"""Applies one delta with the venue's sequence fields; raises SequenceGap on a gap."""


@dataclass
class BookState:
    contract_id: str
    book: OrderBook
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    buffer: list[dict[str, Any]] | None = field(default_factory=list)
    resync: asyncio.Task[None] | None = None


class SyncedBooks:
    """Every streamed book of one client connection."""

    def __init__(
        self,
        *,
        venue: str,
        snapshot: Snapshot,
        apply_delta: ApplyDelta,
        subscribe: Callable[[str], Awaitable[None]],
        is_connected: Callable[[], bool],
    ) -> None:
        self.venue = venue
        self._snapshot_source = snapshot
        self._apply_delta = apply_delta
        self._subscribe = subscribe
        self._is_connected = is_connected
        self.states: dict[str, BookState] = {}
        self.snapshots = 0
        """REST snapshots taken so far (tests watch resyncs with it)."""
        self.gaps = 0
        self.resync_failures = 0
        """Resync tasks that died (each invalidated its book and was started again)."""
        self.resync_retry_seconds = 1.0
        self._tasks = self._supervisor()

    def _supervisor(self) -> TaskSupervisor:
        return TaskSupervisor(f"{self.venue}-books", on_failure=self._resync_died)

    @property
    def contracts(self) -> list[str]:
        return list(self.states)

    async def book(self, contract_id: str) -> OrderBook | None:
        """The live book (subscribing on first use); None while the stream is down."""
        state = self.states.get(contract_id)
        if state is None:
            if not self._is_connected():
                return None
            state = BookState(contract_id, OrderBook(contract_id))
            self.states[contract_id] = state
            await self._subscribe(contract_id)
            try:
                await self.take_snapshot(state)
            except Exception:
                self._start_resync(state)
                raise
        if not state.ready.is_set():
            if not self._is_connected():
                return None
            try:
                await asyncio.wait_for(state.ready.wait(), SNAPSHOT_WAIT_SECONDS)
            except TimeoutError:
                raise VenueUnavailable(
                    f"{contract_id} book did not resynchronise in time", venue=self.venue
                ) from None
        return state.book

    def on_delta(self, contract_id: str, delta: dict[str, Any]) -> None:
        """A delta from the stream: buffered while a snapshot is awaited, applied otherwise."""
        state = self.states.get(contract_id)
        if state is None:
            return
        if state.buffer is not None:
            state.buffer.append(delta)
        else:
            self._apply(state, delta)

    async def take_snapshot(self, state: BookState) -> None:
        data = await self._snapshot_source(state.contract_id)
        self.snapshots += 1
        state.book.apply_wire_snapshot(data["bids"], data["asks"], int(data["lastUpdateId"]))
        buffered, state.buffer = state.buffer or [], None
        for delta in buffered:
            if state.buffer is not None:  # a gap in the buffer started a new resync
                state.buffer.append(delta)
            else:
                self._apply(state, delta)
        if state.buffer is None:
            state.ready.set()

    def start_buffering(self) -> None:
        """A (re)connection: buffer every book's deltas until its new snapshot."""
        for state in self.states.values():
            state.ready.clear()
            state.buffer = []

    async def snapshot_all(self) -> None:
        for state in self.states.values():
            await self.take_snapshot(state)

    def invalidate(self, reason: str) -> None:
        """The stream is down: no book may be quoted from until it is rebuilt."""
        for state in self.states.values():
            state.book.invalidate(reason)
            state.ready.clear()
            state.buffer = []

    async def stop(self) -> None:
        """Cancel and await every resync (a fresh supervisor serves a later start)."""
        tasks, self._tasks = self._tasks, self._supervisor()
        await tasks.aclose()

    def _apply(self, state: BookState, delta: dict[str, Any]) -> None:
        try:
            self._apply_delta(state.book, delta)
        except (SequenceGap, BookNeedsResync) as gap:
            self.gaps += 1
            log.warning("depth_gap", venue=self.venue, symbol=state.contract_id, error=str(gap))
            self._start_resync(state)

    def _start_resync(self, state: BookState) -> None:
        state.ready.clear()
        state.buffer = []
        if state.resync is None or state.resync.done():
            state.resync = self._tasks.spawn(self._resync(state), name=_resync_name(state))

    def _resync_died(self, task: str, error: BaseException) -> None:
        """A resync died (logged with its traceback): its book may not be served; try again."""
        state = self.states.get(task.removeprefix("resync:"))
        if state is None:
            return
        self.resync_failures += 1
        state.book.invalidate(f"resync failed: {error!r}")
        state.ready.clear()
        state.buffer = []
        log.error(
            "depth_resync_died",
            venue=self.venue,
            symbol=state.contract_id,
            error=repr(error),
            retry_in=self.resync_retry_seconds,
        )
        state.resync = self._tasks.spawn(
            self._resync(state, delay=self.resync_retry_seconds), name=_resync_name(state)
        )

    async def _resync(self, state: BookState, delay: float = 0.0) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        backoff = Backoff(initial=0.1, maximum=5.0, floor=0.05)
        attempt = 0
        while self._is_connected():
            try:
                await self.take_snapshot(state)
                if state.ready.is_set():
                    return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("depth_resync_failed", venue=self.venue, error=str(exc))
            await asyncio.sleep(backoff.delay(attempt))
            attempt += 1


def _resync_name(state: BookState) -> str:
    return f"resync:{state.contract_id}"


class BookStream(ABC):
    """One WebSocket connection whose depth deltas feed :class:`SyncedBooks`.

    The venue's stream says how to subscribe a book (:meth:`_subscribe_message`) and handles
    messages, connections and disconnections; the shell owns the socket (heartbeat every 20 s,
    no idle timeout: a quiet book is not a dead connection) and the books.
    """

    def __init__(
        self,
        *,
        venue: str,
        url: str,
        name: str,
        max_message_bytes: int,
        snapshot: Snapshot,
        apply_delta: ApplyDelta,
        proxy_url: Secret | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.venue = venue
        self._ws = ReconnectingWebSocket(
            url,
            venue=venue,
            on_message=self._on_message,
            on_connect=self._on_connect,
            on_disconnect=self._on_disconnect,
            heartbeat=20.0,
            idle_timeout=None,
            backoff=backoff,
            proxy_url=proxy_url,
            name=name,
            max_message_bytes=max_message_bytes,
        )
        self.books = SyncedBooks(
            venue=venue,
            snapshot=snapshot,
            apply_delta=apply_delta,
            subscribe=lambda contract_id: self._ws.send(self._subscribe_message([contract_id])),
            is_connected=lambda: self._ws.is_connected,
        )

    @abstractmethod
    def _subscribe_message(self, contract_ids: list[str]) -> dict[str, Any]: ...

    @abstractmethod
    def _on_message(self, message: Any) -> None: ...

    @abstractmethod
    async def _on_connect(self, ws: ReconnectingWebSocket) -> None: ...

    @abstractmethod
    def _on_disconnect(self) -> None: ...

    @property
    def connected(self) -> bool:
        return self._ws.is_connected

    @property
    def websocket(self) -> ReconnectingWebSocket:
        return self._ws

    @property
    def snapshots(self) -> int:
        """REST snapshots taken so far (tests watch resyncs with it)."""
        return self.books.snapshots

    @property
    def gaps(self) -> int:
        return self.books.gaps

    async def start(self) -> None:
        await self._ws.start()

    async def stop(self) -> None:
        await self.books.stop()
        await self._ws.stop()

    async def book(self, contract_id: str) -> OrderBook | None:
        """The live book of ``contract_id`` (subscribing on first use); None while down."""
        return await self.books.book(contract_id)
