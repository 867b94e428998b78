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

from collections.abc import Awaitable, Callable
from typing import Any

from core.logging_setup import get_logger
from core.redaction import Secret
from exchange_clients.backpack.signing import Ed25519Signer
from exchange_clients.book_sync import BookStream, Snapshot
from exchange_clients.order_book import OrderBook
from networking.backoff import Backoff
from networking.websocket import ReconnectingWebSocket

log = get_logger(__name__)

MAINNET_WS_URL = "wss://ws.backpack.exchange"
PRIVATE_STREAMS = ("account.orderUpdate", "account.positionUpdate")
Handler = Callable[[str, dict[str, Any]], None]


def depth_stream(contract_id: str) -> str:
    return f"depth.{contract_id}"


def apply_depth_delta(book: OrderBook, data: dict[str, Any]) -> None:
    """One ``depth`` event: ``U`` must be the previous event's ``u`` + 1."""
    book.apply_wire_update(
        data.get("b", []),
        data.get("a", []),
        first_sequence=int(data["U"]),
        last_sequence=int(data["u"]),
    )


MAX_MESSAGE_BYTES = 1024 * 1024
"""Depth deltas, trades and account updates are each a few kB; the book snapshot comes over REST."""


class BackpackStream(BookStream):
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
        self._signer = signer
        self._now_ms = now_ms
        self._on_private = on_private
        self._on_public = on_public
        self._on_reconnect = on_reconnect
        self._public: set[str] = set()
        self.errors: list[dict[str, Any]] = []
        """Error messages the venue sent (a refused private subscription, ...)."""
        super().__init__(
            venue=venue,
            url=ws_url,
            name="stream",
            max_message_bytes=MAX_MESSAGE_BYTES,
            snapshot=snapshot,
            apply_delta=apply_depth_delta,
            proxy_url=proxy_url,
            backoff=backoff,
        )

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

    def _subscribe_message(self, contract_ids: list[str]) -> dict[str, Any]:
        return {"method": "SUBSCRIBE", "params": [depth_stream(c) for c in contract_ids]}

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
            self.books.on_delta(stream.removeprefix("depth."), data)
        elif stream.startswith("account."):
            self._on_private(stream, data)
        else:
            self._on_public(stream, data)

    async def _on_connect(self, ws: ReconnectingWebSocket) -> None:
        self.books.start_buffering()
        if self._signer is not None:
            await ws.send(self.private_subscribe_message())
        public = [depth_stream(c) for c in self.books.contracts] + sorted(self._public)
        if public:
            await ws.send({"method": "SUBSCRIBE", "params": public})
        await self.books.snapshot_all()
        if ws.connections > 1:
            await self._on_reconnect()

    def _on_disconnect(self) -> None:
        self.books.invalidate("stream disconnected")
