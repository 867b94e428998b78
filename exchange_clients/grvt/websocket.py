"""GRVT's WebSocket streams: JSON-RPC subscriptions that outlive connections, sequence checks.

Protocol (GRVT API docs "Websocket"; grvt-pysdk ``grvt_ccxt_ws``): subscribe with
``{"jsonrpc": "2.0", "method": "subscribe", "params": {"stream": "v1.book.s", "selectors":
["BTC_USDT_Perp@500-50"]}, "id": n}``; feeds arrive as ``{"stream", "selector",
"sequence_number", "prev_sequence_number", "feed"}``, errors as ``{"jsonrpc", "error":
{"code", "message"}, "id"}``. Market data (``v1.book.s``: a full snapshot of the top levels
each time) is on the market-data host; orders, fills and positions (``v1.order``, ``v1.fill``,
``v1.position``, selector = the sub-account id) on the trade-data host, on a connection opened
with the session cookie and ``X-Grvt-Account-Id`` header (the SDK sends them at the
handshake, so every reconnection asks the REST session for fresh ones).

Per connection, the sequence number of each private feed goes up by one: a jump means messages
were lost, and ``on_gap`` lets the client resync (missed fills, order states); a repeat is a
duplicate and dropped (the client also publishes each fill and state once). After every
reconnection all subscriptions are sent again, then ``on_reconnect`` resyncs before the new
connection's messages are delivered.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from core.errors import VenueUnavailable
from core.logging_setup import get_logger
from core.redaction import Secret
from networking.backoff import Backoff
from networking.websocket import ReconnectingWebSocket

log = get_logger(__name__)

MAX_MESSAGE_BYTES = 2 * 1024 * 1024
"""A 500-level book snapshot is the largest GRVT feed, well under 1 MiB."""
IDLE_TIMEOUT_SECONDS = 120.0
PING_INTERVAL_SECONDS = 30.0
Headers = Callable[[], Awaitable[dict[str, str]]]
OnFeed = Callable[[str, str, dict[str, Any]], None]
"""(stream, selector, feed)."""


class _HandshakeHeaders(ReconnectingWebSocket):
    """A reconnecting WebSocket that sends fresh auth headers with every handshake."""

    def __init__(self, url: str, *, headers: Headers | None, **options: Any) -> None:
        self._headers = headers
        super().__init__(url, **options)

    async def _open_session(self) -> aiohttp.ClientSession:
        session = await super()._open_session()
        if self._headers is not None:
            session.headers.update(await self._headers())
        return session


class GrvtStream:
    """One GRVT WebSocket (market data or trade data) and its subscriptions."""

    def __init__(
        self,
        *,
        venue: str,
        url: str,
        name: str,
        on_feed: OnFeed,
        on_reconnect: Callable[[], Awaitable[None]],
        on_gap: Callable[[str], None],
        on_disconnect: Callable[[], None] = lambda: None,
        headers: Headers | None = None,
        proxy_url: Secret | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.venue = venue
        self._on_feed = on_feed
        self._on_reconnect = on_reconnect
        self._on_gap = on_gap
        self._on_disconnect_cb = on_disconnect
        self._subscriptions: dict[str, list[str]] = {}
        self._sequence: dict[tuple[str, str], int] = {}
        self._ids = itertools.count(1)
        self.errors: list[dict[str, Any]] = []
        """JSON-RPC errors the venue answered (a refused subscription ...)."""
        self.gaps = 0
        self.ws = _HandshakeHeaders(
            url,
            headers=headers,
            venue=venue,
            on_message=self._receive,
            on_connect=self._on_connect,
            on_disconnect=self._on_disconnect,
            ping_interval=PING_INTERVAL_SECONDS,
            heartbeat=PING_INTERVAL_SECONDS,
            idle_timeout=IDLE_TIMEOUT_SECONDS,
            backoff=backoff or Backoff(initial=0.2, maximum=5.0, floor=0.05),
            proxy_url=proxy_url,
            name=name,
            max_message_bytes=MAX_MESSAGE_BYTES,
        )

    @property
    def connected(self) -> bool:
        return self.ws.is_connected

    def subscribed(self, stream: str, selector: str) -> bool:
        return selector in self._subscriptions.get(stream, [])

    async def start(self) -> None:
        await self.ws.start()

    async def stop(self) -> None:
        await self.ws.stop()

    async def subscribe(self, stream: str, selectors: list[str]) -> None:
        """Add subscriptions (kept for every reconnection) and send them now if connected."""
        known = self._subscriptions.setdefault(stream, [])
        new = [s for s in selectors if s not in known]
        known.extend(new)
        if new and self.ws.is_connected:
            with contextlib.suppress(VenueUnavailable):
                await self.ws.send(self._message(stream, new))

    def _message(self, stream: str, selectors: list[str]) -> dict[str, Any]:
        return {
            "jsonrpc": "2.0",
            "method": "subscribe",
            "params": {"stream": stream, "selectors": selectors},
            "id": next(self._ids),
        }

    async def _on_connect(self, ws: ReconnectingWebSocket) -> None:
        self._sequence.clear()
        for stream, selectors in self._subscriptions.items():
            if selectors:
                await ws.send(self._message(stream, list(selectors)))
        if ws.connections > 1:
            await self._on_reconnect()

    def _on_disconnect(self) -> None:
        self._on_disconnect_cb()

    def _receive(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        if "error" in message:
            self.errors.append(message)
            log.warning("ws_error", venue=self.venue, error=str(message.get("error"))[:200])
            return
        stream, selector, feed = message.get("stream"), message.get("selector"), message.get("feed")
        if not isinstance(stream, str) or not isinstance(selector, str):
            return
        if not isinstance(feed, dict):
            return
        if not self._in_sequence(stream, selector, message.get("sequence_number")):
            return
        self._on_feed(stream, selector, feed)

    def _in_sequence(self, stream: str, selector: str, number: object) -> bool:
        """False for a repeat already delivered; a jump is reported as a gap (and delivered)."""
        try:
            current = int(str(number))
        except ValueError:
            return True
        key = (stream, selector)
        last = self._sequence.get(key)
        self._sequence[key] = max(current, last or 0)
        if last is None:
            return True
        if current <= last:
            return False
        if current > last + 1:
            self.gaps += 1
            log.warning(
                "ws_sequence_gap", venue=self.venue, stream=stream, missed=current - last - 1
            )
            self._on_gap(stream)
        return True
