"""Hyperliquid's WebSocket (``/ws``): subscriptions that survive reconnects, and keepalive.

Protocol (Hyperliquid API docs, websocket/subscriptions and websocket/timeouts-and-heartbeats):
``{"method": "subscribe", "subscription": {"type": "l2Book", "coin": "BTC"}}`` and likewise
``trades``, ``orderUpdates`` / ``userFills`` (``{"user": address}``). Data arrives as
``{"channel": <type>, "data": ...}``; the server acknowledges with ``subscriptionResponse``.
The server closes a connection that has sent nothing for 60 s, so we send
``{"method": "ping"}`` (answered by ``{"channel": "pong"}``) well inside that.

:class:`HyperliquidStream` remembers every subscription and sends them all again after each
reconnect (a new connection has none), then lets the client resync (poll missed fills, refresh
orders) before any message of the new connection is delivered.
"""

from __future__ import annotations

from typing import Any, ClassVar, Unpack

from exchange_clients.hyperliquid.wire import VENUE
from exchange_clients.native.subscribed_stream import StreamOptions, SubscribedStream
from networking.websocket import ReconnectingWebSocket

IDLE_TIMEOUT_SECONDS = 90.0


def subscribe_message(subscription: dict[str, Any]) -> dict[str, Any]:
    return {"method": "subscribe", "subscription": subscription}


MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""The ``userFills`` snapshot sent on subscribe (up to 2000 fills, ~1 MB) is the largest message."""


class HyperliquidStream(SubscribedStream):
    """One account's WebSocket: user channels always, books and trades on request."""

    venue = VENUE
    name = "hyperliquid-ws"
    ping: ClassVar[dict[str, str]] = {"method": "ping"}
    idle_timeout = IDLE_TIMEOUT_SECONDS
    max_message_bytes = MAX_MESSAGE_BYTES

    def __init__(self, url: str, **options: Unpack[StreamOptions]) -> None:
        self._subscriptions: list[dict[str, Any]] = []
        super().__init__(url, **options)

    @property
    def subscriptions(self) -> list[dict[str, Any]]:
        return list(self._subscriptions)

    async def start(self, subscriptions: list[dict[str, Any]]) -> None:
        self._subscriptions = list(subscriptions)
        await self.ws.start()

    async def subscribe(self, subscription: dict[str, Any]) -> None:
        """Add a subscription (kept for every later reconnect) and send it now if connected."""
        if subscription in self._subscriptions:
            return
        self._subscriptions.append(subscription)
        await self._send_now(subscribe_message(subscription))

    async def _subscribe_all(self, ws: ReconnectingWebSocket) -> None:
        for subscription in self._subscriptions:
            await ws.send(subscribe_message(subscription))
