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

import itertools
from typing import Any

from core.redaction import Secret
from exchange_clients import book_sync
from exchange_clients.book_sync import Snapshot, SyncedBooks
from exchange_clients.order_book import OrderBook
from networking.backoff import Backoff
from networking.websocket import ReconnectingWebSocket

SNAPSHOT_WAIT_SECONDS = book_sync.SNAPSHOT_WAIT_SECONDS


def depth_stream(contract_id: str) -> str:
    return f"{contract_id.lower()}@depth@100ms"


def apply_depth_update(book: OrderBook, event: dict[str, Any]) -> None:
    """One ``depthUpdate``: ``U``/``u`` bound it, ``pu`` must be the previous event's ``u``."""
    book.apply_wire_update(
        event["b"],
        event["a"],
        first_sequence=int(event["U"]),
        last_sequence=int(event["u"]),
        previous_sequence=int(event["pu"]),
    )


MAX_MESSAGE_BYTES = 1024 * 1024
"""A diff-depth event lists the levels changed in 100-250 ms: tens of kB on the busiest books."""


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
        self._ids = itertools.count(1)
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
            max_message_bytes=MAX_MESSAGE_BYTES,
        )
        self.books = SyncedBooks(
            venue=venue,
            snapshot=snapshot,
            apply_delta=apply_depth_update,
            subscribe=lambda contract_id: self._ws.send(self._subscribe_message([contract_id])),
            is_connected=lambda: self._ws.is_connected,
        )

    @property
    def connected(self) -> bool:
        return self._ws.is_connected

    @property
    def websocket(self) -> ReconnectingWebSocket:
        return self._ws

    @property
    def snapshots(self) -> int:
        """REST snapshots taken so far (tests use it to see a resync happen)."""
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
        """The live book of ``contract_id`` (subscribing on first use); None if not streaming."""
        return await self.books.book(contract_id)

    def _subscribe_message(self, contract_ids: list[str]) -> dict[str, Any]:
        return {
            "method": "SUBSCRIBE",
            "params": [depth_stream(cid) for cid in contract_ids],
            "id": next(self._ids),
        }

    def _on_message(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        event = message.get("data", message)
        if not isinstance(event, dict) or event.get("e") != "depthUpdate":
            return
        self.books.on_delta(str(event.get("s")), event)

    async def _on_connect(self, ws: ReconnectingWebSocket) -> None:
        contracts = self.books.contracts
        if not contracts:
            return
        self.books.start_buffering()
        await ws.send(self._subscribe_message(contracts))
        await self.books.snapshot_all()

    def _on_disconnect(self) -> None:
        self.books.invalidate("depth stream disconnected")
