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
from typing import Any, ClassVar, Unpack

from core.errors import VenueUnavailable
from exchange_clients.lighter.wire import VENUE
from exchange_clients.native.subscribed_stream import StreamOptions, SubscribedStream
from networking.websocket import ReconnectingWebSocket

IDLE_TIMEOUT_SECONDS = 150.0

TokenSource = Callable[[], Awaitable[str]]


def channel_key(channel: str) -> str:
    """``order_book:1`` (as the server writes it) and ``order_book/1`` are the same channel."""
    return channel.replace(":", "/")


MAX_MESSAGE_BYTES = 8 * 1024 * 1024
"""The first ``order_book`` message is the whole book and ``account_all`` carries every position
and recent trade: the largest Lighter payloads, a few hundred kB; 8 MiB leaves room, no more."""


class LighterStream(SubscribedStream):
    """One account's WebSocket."""

    venue = VENUE
    name = "lighter-ws"
    ping: ClassVar[dict[str, str]] = {"type": "ping"}
    idle_timeout = IDLE_TIMEOUT_SECONDS
    max_message_bytes = MAX_MESSAGE_BYTES

    def __init__(self, url: str, *, token: TokenSource, **options: Unpack[StreamOptions]) -> None:
        self._channels: dict[str, bool] = {}  # channel -> needs auth
        self._token = token
        super().__init__(url, **options)

    @property
    def channels(self) -> list[str]:
        return list(self._channels)

    async def start(self, channels: dict[str, bool]) -> None:
        self._channels = dict(channels)
        await self.ws.start()

    async def subscribe(self, channel: str, *, private: bool = False) -> None:
        """Add a channel (kept for every later reconnect) and subscribe now if connected."""
        if channel in self._channels:
            return
        self._channels[channel] = private
        if self.ws.is_connected:
            await self._send_now(await self._message("subscribe", channel))

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

    async def _subscribe_all(self, ws: ReconnectingWebSocket) -> None:
        for channel in list(self._channels):
            await ws.send(await self._message("subscribe", channel))

    async def _receive(self, message: Any) -> None:
        if isinstance(message, dict) and message.get("type") == "ping":
            await self._send_now({"type": "pong"})
            return
        await super()._receive(message)
