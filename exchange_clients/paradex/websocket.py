"""Paradex's WebSocket (``wss://ws.api.<env>.paradex.trade/v1``): JSON-RPC 2.0 subscriptions
that survive reconnects.

Protocol (docs "WebSocket"): requests ``{"jsonrpc": "2.0", "method": "auth" | "subscribe" |
"unsubscribe", "params": {...}, "id": n}``; private channels (``orders.ALL``, ``fills.ALL``)
need ``auth`` with ``{"bearer": <JWT>}`` first on each connection (a connection stays
authenticated for its lifetime, so only a new connection needs a fresh token); notifications are
``{"method": "subscription", "params": {"channel", "data"}}``; errors are JSON-RPC ``error``
objects (40110 malformed bearer token, 40111 invalid bearer token). Keepalive is the WebSocket
protocol's ping/pong (``heartbeat``), which the server also uses.

After every (re)connection: ``auth`` with a fresh token, every remembered channel subscribed
again, then the client's resync hook runs (missed fills, order states, books re-snapshotted)
before messages of the new connection are handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from core.errors import VenueUnavailable
from core.logging_setup import get_logger
from core.redaction import Secret
from exchange_clients.paradex.wire import VENUE
from networking.backoff import Backoff
from networking.websocket import OnDisconnect, ReconnectingWebSocket

log = get_logger(__name__)

MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""Book snapshots (15-100 levels) and order/fill notifications are a few kB each."""
IDLE_TIMEOUT_SECONDS = 120.0
INVALID_TOKEN_CODES = (40110, 40111)

TokenSource = Callable[[], Awaitable[str]]
OnNotification = Callable[[str, dict[str, Any]], Awaitable[None] | None]
OnResync = Callable[[bool], Awaitable[None]]


class ParadexStream:
    """One account's WebSocket: remembered channels, re-authenticated on every connection."""

    def __init__(
        self,
        url: str,
        *,
        token: TokenSource | None,
        on_notification: OnNotification,
        on_resync: OnResync,
        on_disconnect: OnDisconnect,
        on_token_refused: Callable[[], None],
        proxy_url: Secret | None = None,
        heartbeat: float = 30.0,
        backoff: Backoff | None = None,
    ) -> None:
        self._token = token
        self._on_notification = on_notification
        self._on_resync = on_resync
        self._on_token_refused = on_token_refused
        self._channels: dict[str, bool] = {}  # channel -> private
        self._ids = itertools.count(1)
        self._refused = False
        self._reconnect_task: asyncio.Task[None] | None = None
        self.errors: list[dict[str, Any]] = []
        """JSON-RPC errors the venue answered (a refused token, an unknown channel)."""
        self.ws = ReconnectingWebSocket(
            url,
            venue=VENUE,
            on_message=self._receive,
            on_connect=self._on_connect,
            on_disconnect=on_disconnect,
            heartbeat=heartbeat,
            idle_timeout=IDLE_TIMEOUT_SECONDS,
            backoff=backoff or Backoff(initial=0.2, maximum=5.0, floor=0.05),
            proxy_url=proxy_url,
            name="paradex-ws",
            max_message_bytes=MAX_MESSAGE_BYTES,
        )

    @property
    def connected(self) -> bool:
        return self.ws.is_connected

    @property
    def channels(self) -> list[str]:
        return list(self._channels)

    async def start(self, channels: dict[str, bool]) -> None:
        self._channels = dict(channels)
        await self.ws.start()

    async def stop(self) -> None:
        await self.ws.stop()

    def _request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "method": method, "params": params, "id": next(self._ids)}

    async def subscribe(self, channel: str, *, private: bool = False) -> None:
        """Add a channel (kept for every later reconnect) and subscribe now if connected."""
        if channel in self._channels:
            return
        self._channels[channel] = private
        if self.ws.is_connected:
            with contextlib.suppress(VenueUnavailable):
                await self.ws.send(self._request("subscribe", {"channel": channel}))

    async def resubscribe(self, channel: str) -> None:
        """Unsubscribe and subscribe again: a book channel starts over with a snapshot."""
        if not self.ws.is_connected:
            return
        with contextlib.suppress(VenueUnavailable):
            await self.ws.send(self._request("unsubscribe", {"channel": channel}))
            await self.ws.send(self._request("subscribe", {"channel": channel}))

    async def _on_connect(self, ws: ReconnectingWebSocket) -> None:
        self._refused = False
        if self._token is not None and any(self._channels.values()):
            await ws.send(self._request("auth", {"bearer": await self._token()}))
        for channel in list(self._channels):
            await ws.send(self._request("subscribe", {"channel": channel}))
        await self._on_resync(ws.connections == 1)

    async def _receive(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        error = message.get("error")
        if isinstance(error, dict):
            self.errors.append(message)
            if error.get("code") in INVALID_TOKEN_CODES and not self._refused:
                # the private channels are not subscribed: a fresh token on a new connection
                self._refused = True
                self._on_token_refused()
                self._reconnect_task = asyncio.get_running_loop().create_task(self.ws.reconnect())
            log.warning("paradex_ws_error", code=error.get("code"), error=str(error)[:200])
            return
        if message.get("method") != "subscription":
            return
        params = message.get("params")
        if not isinstance(params, dict):
            return
        channel, data = params.get("channel"), params.get("data")
        if isinstance(channel, str) and isinstance(data, dict):
            outcome = self._on_notification(channel, data)
            if outcome is not None:
                await outcome

    async def reconnect(self) -> None:
        """Drop the connection; it comes back re-authenticated and resubscribed."""
        await self.ws.reconnect()
