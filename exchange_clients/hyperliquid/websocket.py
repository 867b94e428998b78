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

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from core.errors import VenueUnavailable
from core.redaction import Secret
from exchange_clients.hyperliquid.wire import VENUE
from networking.backoff import Backoff
from networking.websocket import OnDisconnect, OnMessage, ReconnectingWebSocket

PING_INTERVAL_SECONDS = 30.0  # the venue drops connections idle for 60 s
IDLE_TIMEOUT_SECONDS = 90.0

OnResync = Callable[[bool], Awaitable[None]]
"""Called after every (re)connection once subscriptions are sent; the flag is "first"."""


def subscribe_message(subscription: dict[str, Any]) -> dict[str, Any]:
    return {"method": "subscribe", "subscription": subscription}


MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""The ``userFills`` snapshot sent on subscribe (up to 2000 fills, ~1 MB) is the largest message."""


class HyperliquidStream:
    """One account's WebSocket: user channels always, books and trades on request."""

    def __init__(
        self,
        url: str,
        *,
        on_message: OnMessage,
        on_resync: OnResync,
        on_disconnect: OnDisconnect,
        proxy_url: Secret | None = None,
        backoff: Backoff | None = None,
        ping_interval: float = PING_INTERVAL_SECONDS,
    ) -> None:
        self._subscriptions: list[dict[str, Any]] = []
        self._on_resync = on_resync
        self.ws = ReconnectingWebSocket(
            url,
            venue=VENUE,
            on_message=on_message,
            on_connect=self._on_connect,
            on_disconnect=on_disconnect,
            ping_message=lambda: {"method": "ping"},
            ping_interval=ping_interval,
            idle_timeout=IDLE_TIMEOUT_SECONDS,
            backoff=backoff or Backoff(initial=0.2, maximum=5.0, floor=0.05),
            proxy_url=proxy_url,
            name="hyperliquid-ws",
            max_message_bytes=MAX_MESSAGE_BYTES,
        )

    @property
    def subscriptions(self) -> list[dict[str, Any]]:
        return list(self._subscriptions)

    @property
    def connected(self) -> bool:
        return self.ws.is_connected

    async def start(self, subscriptions: list[dict[str, Any]]) -> None:
        self._subscriptions = list(subscriptions)
        await self.ws.start()

    async def stop(self) -> None:
        await self.ws.stop()

    async def subscribe(self, subscription: dict[str, Any]) -> None:
        """Add a subscription (kept for every later reconnect) and send it now if connected."""
        if subscription in self._subscriptions:
            return
        self._subscriptions.append(subscription)
        if self.ws.is_connected:
            with contextlib.suppress(VenueUnavailable):  # dropped meanwhile: sent on reconnect
                await self.ws.send(subscribe_message(subscription))

    async def _on_connect(self, ws: ReconnectingWebSocket) -> None:
        for subscription in self._subscriptions:
            await ws.send(subscribe_message(subscription))
        await self._on_resync(ws.connections == 1)
