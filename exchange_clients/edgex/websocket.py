"""EdgeX's two WebSockets (V2 docs, "WebSocket API"): public books, private account events.

* **Public** ``/api/v1/public/ws?timestamp=<ms>``: ``{"type": "subscribe", "channel":
  "depth.<contractId>.15"}``; each message is ``{"type": "quote-event", "channel", "content":
  {"dataType": "Snapshot"|"Changed", "data": [{"depthType": "SNAPSHOT"|"CHANGED",
  "startVersion", "endVersion", "bids": [{"price", "size"}], "asks": [...]}]}}``. A subscription
  starts with a snapshot; a change whose ``startVersion`` is not the previous ``endVersion`` + 1
  is a gap: the book is marked for resync and the channel re-subscribed (a new snapshot).
* **Private** ``/api/v1/private/ws?accountId=<id>&timestamp=<ms>``: no subscription; the
  handshake carries the four ``X-edgeX-*`` headers signed over ``GET`` + path +
  ``accountId=..&timestamp=..`` (fresh on every reconnection). The server sends
  ``connected``, a ``trade-event`` ``Snapshot``, then ``trade-event`` updates whose
  ``content.data`` holds the groups ``order``, ``orderFillTransaction``, ``position``,
  ``collateral`` ... (the SDK dispatches on these).
* Both: the server's ``{"type": "ping", "time"}`` is answered with ``{"type": "pong", "time"}``
  (the SDK does the same); we also ping every 30 s.

After a reconnection the private stream calls ``on_reconnect`` (the client recovers missed fills
and refreshes its orders) and the public one re-subscribes every book (fresh snapshots).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp

from core.errors import ExchangeError
from core.logging_setup import get_logger
from core.redaction import Secret
from exchange_clients.edgex.signing import HmacSigner
from exchange_clients.native.wire import now_ms
from exchange_clients.order_book import OrderBook, OrderBookError
from networking.backoff import Backoff
from networking.websocket import ReconnectingWebSocket

log = get_logger(__name__)

PUBLIC_PATH = "/api/v1/public/ws"
PRIVATE_PATH = "/api/v1/private/ws"
DEPTH_LEVEL = 15
MAX_MESSAGE_BYTES = 2 * 1024 * 1024
"""A 200-level snapshot or an account snapshot is tens of kB; far more is not the venue."""
IDLE_TIMEOUT_SECONDS = 90.0

Handler = Callable[[Mapping[str, Any]], None]


def depth_channel(contract_id: str) -> str:
    return f"depth.{contract_id}.{DEPTH_LEVEL}"


def _ping() -> dict[str, str]:
    return {"type": "ping", "time": str(now_ms())}


class StampedWebSocket(ReconnectingWebSocket):
    """A reconnecting socket whose URL carries a fresh ``timestamp`` on every connection (both
    EdgeX endpoints take one; a reconnection must not reuse the first one)."""

    def __init__(
        self, base_url: str, path: str, *, now_ms: Callable[[], int], **options: Any
    ) -> None:
        self._base_url = base_url
        self._path = path
        self._now_ms = now_ms
        super().__init__(base_url + path, **options)

    def _query(self, stamp: int) -> str:
        return f"timestamp={stamp}"

    async def _open_session(self) -> aiohttp.ClientSession:
        session = await super()._open_session()
        stamp = self._now_ms()
        query = self._query(stamp)
        self.url = f"{self._base_url}{self._path}?{query}"
        self._stamp(session, query, stamp)
        return session

    def _stamp(self, session: aiohttp.ClientSession, query: str, stamp: int) -> None:
        """What else a connection needs besides its URL (the private stream's headers)."""


class SignedWebSocket(StampedWebSocket):
    """The private endpoint: ``accountId`` and ``timestamp`` in the URL, and the four HMAC
    headers signed over them, fresh for every connection."""

    def __init__(
        self, base_url: str, *, account_id: int, signer: HmacSigner, **options: Any
    ) -> None:
        self._account_id = account_id
        self._signer = signer
        super().__init__(base_url, PRIVATE_PATH, **options)

    def _query(self, stamp: int) -> str:
        return f"accountId={self._account_id}&timestamp={stamp}"

    def _stamp(self, session: aiohttp.ClientSession, query: str, stamp: int) -> None:
        session.headers.update(self._signer.headers("GET", PRIVATE_PATH, query, stamp))


class PrivateStream:
    """The account's event stream."""

    def __init__(
        self,
        *,
        venue: str,
        ws_url: str,
        account_id: int,
        signer: HmacSigner,
        now_ms: Callable[[], int],
        on_event: Handler,
        on_reconnect: Callable[[], Awaitable[None]],
        proxy_url: Secret | None = None,
        backoff: Backoff | None = None,
        ping_interval: float = 30.0,
    ) -> None:
        self._on_event = on_event
        self._on_reconnect = on_reconnect
        self.snapshots = 0
        """``Snapshot`` messages received (one per connection)."""
        self.ws = SignedWebSocket(
            ws_url,
            account_id=account_id,
            signer=signer,
            now_ms=now_ms,
            venue=venue,
            on_message=self._receive,
            on_connect=self._connected,
            ping_message=_ping,
            ping_interval=ping_interval,
            idle_timeout=IDLE_TIMEOUT_SECONDS,
            backoff=backoff or Backoff(initial=0.2, maximum=5.0, floor=0.05),
            proxy_url=proxy_url,
            name="private",
            max_message_bytes=MAX_MESSAGE_BYTES,
        )

    @property
    def connected(self) -> bool:
        return self.ws.is_connected

    async def start(self) -> None:
        await self.ws.start()

    async def stop(self) -> None:
        await self.ws.stop()

    async def _connected(self, ws: ReconnectingWebSocket) -> None:
        if ws.connections > 1:
            await self._on_reconnect()

    async def _receive(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        if kind == "ping":
            await self.ws.send({"type": "pong", "time": message.get("time", "")})
            return
        if kind != "trade-event":
            return
        content = message.get("content")
        if not isinstance(content, dict) or not isinstance(content.get("data"), dict):
            return
        if content.get("event") == "Snapshot":
            self.snapshots += 1
        self._on_event(content)


class PublicStream:
    """Books by contract id from the public depth channels, subscribed on first use."""

    def __init__(
        self,
        *,
        venue: str,
        ws_url: str,
        now_ms: Callable[[], int],
        proxy_url: Secret | None = None,
        backoff: Backoff | None = None,
        ping_interval: float = 30.0,
    ) -> None:
        self.venue = venue
        self.books: dict[str, OrderBook] = {}
        self._live: set[str] = set()
        self.resyncs = 0
        """Re-subscriptions after a gap (tests and the bench read it)."""
        self.ws = StampedWebSocket(
            ws_url,
            PUBLIC_PATH,
            now_ms=now_ms,
            venue=venue,
            on_message=self._receive,
            on_connect=self._connected,
            on_disconnect=self._disconnected,
            ping_message=_ping,
            ping_interval=ping_interval,
            idle_timeout=IDLE_TIMEOUT_SECONDS,
            backoff=backoff or Backoff(initial=0.2, maximum=5.0, floor=0.05),
            proxy_url=proxy_url,
            name="public",
            max_message_bytes=MAX_MESSAGE_BYTES,
        )

    @property
    def connected(self) -> bool:
        return self.ws.is_connected

    async def start(self) -> None:
        await self.ws.start()

    async def stop(self) -> None:
        await self.ws.stop()
        self._live.clear()

    async def book(self, contract_id: str) -> OrderBook | None:
        """The live book of ``contract_id``; ``None`` (ask REST) until its snapshot arrived."""
        if contract_id not in self.books:
            self.books[contract_id] = OrderBook(contract_id)
            if self.ws.is_connected:
                await self.ws.send({"type": "subscribe", "channel": depth_channel(contract_id)})
            return None
        if not self.ws.is_connected or contract_id not in self._live:
            return None
        return self.books[contract_id]

    async def _connected(self, ws: ReconnectingWebSocket) -> None:
        self._live.clear()
        for contract_id in sorted(self.books):
            await ws.send({"type": "subscribe", "channel": depth_channel(contract_id)})

    def _disconnected(self) -> None:
        self._live.clear()
        for book in self.books.values():
            book.invalidate("stream disconnected")

    async def _receive(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        if kind == "ping":
            await self.ws.send({"type": "pong", "time": message.get("time", "")})
            return
        if kind == "error":
            log.warning("ws_error", venue=self.venue, error=str(message.get("content"))[:200])
            return
        channel = message.get("channel")
        content = message.get("content")
        if kind != "quote-event" or not isinstance(channel, str) or not isinstance(content, dict):
            return
        if not channel.startswith("depth."):
            return
        contract_id = channel.split(".")[1]
        book = self.books.get(contract_id)
        if book is None:
            return
        for item in content.get("data") or []:
            if not await self._apply(contract_id, book, item):
                return

    async def _apply(self, contract_id: str, book: OrderBook, item: Mapping[str, Any]) -> bool:
        bids = [(level["price"], level["size"]) for level in item.get("bids") or []]
        asks = [(level["price"], level["size"]) for level in item.get("asks") or []]
        end = int(str(item["endVersion"]))
        if str(item.get("depthType", "")).upper() == "SNAPSHOT":
            book.apply_wire_snapshot(bids, asks, end)
            self._live.add(contract_id)
            return True
        if contract_id not in self._live:
            return True  # changes before the snapshot of this subscription
        try:
            book.apply_wire_update(
                bids, asks, first_sequence=int(str(item["startVersion"])), last_sequence=end
            )
        except (OrderBookError, ExchangeError) as exc:
            log.warning("book_gap", venue=self.venue, contract=contract_id, reason=str(exc))
            self._live.discard(contract_id)
            self.resyncs += 1
            channel = depth_channel(contract_id)
            await self.ws.send({"type": "unsubscribe", "channel": channel})
            await self.ws.send({"type": "subscribe", "channel": channel})
            return False
        return True
