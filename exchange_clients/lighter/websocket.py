"""Lighter's WebSocket (``wss://<host>/stream``): channels that survive reconnects.

Protocol (apidocs "WebSocket reference", "Market data", "Account data & positions"):
``{"type": "subscribe", "channel": "order_book/{market_id}"}`` (likewise ``trade/{id}``,
``market_stats/all``, ``account_all/{account}``); private channels
(``account_all_orders/{account}``) add ``"auth": <token>``. Answers carry
``"type": "subscribed/<kind>"`` (a full state) then ``"update/<kind>"``, with the channel
written ``order_book:1``. The server sends ``{"type": "ping"}`` (we answer ``pong``) and drops a
connection that sends nothing for 2 minutes, so we also ping every 30 s.

:class:`LighterStream` remembers every channel and subscribes to all again after each reconnect
(with a fresh auth token for private ones), then lets the client resync (missed fills, order
states) before any message of the new connection is delivered. A broken order book is
resubscribed (:meth:`resubscribe`): the venue answers with a new snapshot.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from core.errors import VenueUnavailable
from core.redaction import Secret
from exchange_clients.lighter.wire import VENUE
from networking.backoff import Backoff
from networking.websocket import OnDisconnect, ReconnectingWebSocket

PING_INTERVAL_SECONDS = 30.0
IDLE_TIMEOUT_SECONDS = 150.0

OnResync = Callable[[bool], Awaitable[None]]
"""Called after every (re)connection once channels are subscribed; the flag is "first"."""
OnMessage = Callable[[dict[str, Any]], Awaitable[None] | None]
TokenSource = Callable[[], Awaitable[str]]


def channel_key(channel: str) -> str:
    """``order_book:1`` (as the server writes it) and ``order_book/1`` are the same channel."""
    return channel.replace(":", "/")


MAX_MESSAGE_BYTES = 8 * 1024 * 1024
"""The first ``order_book`` message is the whole book and ``account_all`` carries every position
and recent trade: the largest Lighter payloads, a few hundred kB; 8 MiB leaves room, no more."""


class LighterStream:
    """One account's WebSocket."""

    def __init__(
        self,
        url: str,
        *,
        on_message: OnMessage,
        on_resync: OnResync,
        on_disconnect: OnDisconnect,
        token: TokenSource,
        proxy_url: Secret | None = None,
        backoff: Backoff | None = None,
        ping_interval: float = PING_INTERVAL_SECONDS,
    ) -> None:
        self._channels: dict[str, bool] = {}  # channel -> needs auth
        self._on_resync = on_resync
        self._on_message = on_message
        self._token = token
        self.ws = ReconnectingWebSocket(
            url,
            venue=VENUE,
            on_message=self._dispatch,
            on_connect=self._on_connect,
            on_disconnect=on_disconnect,
            ping_message=lambda: {"type": "ping"},
            ping_interval=ping_interval,
            idle_timeout=IDLE_TIMEOUT_SECONDS,
            backoff=backoff or Backoff(initial=0.2, maximum=5.0, floor=0.05),
            proxy_url=proxy_url,
            name="lighter-ws",
            max_message_bytes=MAX_MESSAGE_BYTES,
        )

    @property
    def channels(self) -> list[str]:
        return list(self._channels)

    @property
    def connected(self) -> bool:
        return self.ws.is_connected

    async def start(self, channels: dict[str, bool]) -> None:
        self._channels = dict(channels)
        await self.ws.start()

    async def stop(self) -> None:
        await self.ws.stop()

    async def subscribe(self, channel: str, *, private: bool = False) -> None:
        """Add a channel (kept for every later reconnect) and subscribe now if connected."""
        if channel in self._channels:
            return
        self._channels[channel] = private
        if self.ws.is_connected:
            with contextlib.suppress(VenueUnavailable):  # dropped meanwhile: sent on reconnect
                await self.ws.send(await self._message("subscribe", channel))

    async def resubscribe(self, channel: str) -> None:
        """Unsubscribe and subscribe again: the venue sends a fresh snapshot."""
        if not self.ws.is_connected:
            return  # the reconnect subscribes afresh anyway
        with contextlib.suppress(VenueUnavailable):
            await self.ws.send({"type": "unsubscribe", "channel": channel})
            await self.ws.send(await self._message("subscribe", channel))

    async def _message(self, kind: str, channel: str) -> dict[str, Any]:
        message: dict[str, Any] = {"type": kind, "channel": channel}
        if self._channels.get(channel):
            message["auth"] = await self._token()
        return message

    async def _on_connect(self, ws: ReconnectingWebSocket) -> None:
        for channel in list(self._channels):
            await ws.send(await self._message("subscribe", channel))
        await self._on_resync(ws.connections == 1)

    async def _dispatch(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        if message.get("type") == "ping":
            with contextlib.suppress(VenueUnavailable):
                await self.ws.send({"type": "pong"})
            return
        outcome = self._on_message(message)
        if outcome is not None:
            await outcome
