"""One account's WebSocket whose subscriptions outlive its connections (Hyperliquid, Lighter).

A new connection has no subscriptions: after every (re)connection all of them are sent again,
then the client resyncs (missed fills, order states) before any message of that connection is
delivered. Keepalive, idle timeout, backoff and the message size bound are per venue; the venue
subclass says what a subscription is and how it is sent (:meth:`_subscribe_all`).
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, NotRequired, TypedDict, Unpack

from core.errors import VenueUnavailable
from core.redaction import Secret
from networking.backoff import Backoff
from networking.websocket import OnDisconnect, ReconnectingWebSocket

OnResync = Callable[[bool], Awaitable[None]]
"""Called after every (re)connection once subscriptions are sent; the flag is "first"."""
OnMessage = Callable[[dict[str, Any]], Awaitable[None] | None]


class StreamOptions(TypedDict):
    """What a venue stream is built with, passed through by the venue subclass unchanged."""

    on_message: OnMessage
    on_resync: OnResync
    on_disconnect: OnDisconnect
    proxy_url: NotRequired[Secret | None]
    backoff: NotRequired[Backoff | None]
    ping_interval: NotRequired[float]


PING_INTERVAL_SECONDS = 30.0
"""Both venues drop a connection silent for a minute or two; a ping every 30 s stays inside."""


class SubscribedStream(ABC):
    """The connection, keepalive and resubscription every such venue stream shares."""

    venue: ClassVar[str]
    name: ClassVar[str]
    ping: ClassVar[dict[str, str]]
    idle_timeout: ClassVar[float]
    max_message_bytes: ClassVar[int]

    def __init__(self, url: str, **options: Unpack[StreamOptions]) -> None:
        self._on_message = options["on_message"]
        self._on_resync = options["on_resync"]
        ping = dict(self.ping)
        backoff = options.get("backoff")
        self.ws = ReconnectingWebSocket(
            url,
            venue=self.venue,
            on_message=self._receive,
            on_connect=self._on_connect,
            on_disconnect=options["on_disconnect"],
            ping_message=lambda: dict(ping),
            ping_interval=options.get("ping_interval", PING_INTERVAL_SECONDS),
            idle_timeout=self.idle_timeout,
            backoff=backoff or Backoff(initial=0.2, maximum=5.0, floor=0.05),
            proxy_url=options.get("proxy_url"),
            name=self.name,
            max_message_bytes=self.max_message_bytes,
        )

    @property
    def connected(self) -> bool:
        return self.ws.is_connected

    async def stop(self) -> None:
        await self.ws.stop()

    async def _send_now(self, message: dict[str, Any]) -> None:
        """Send if connected; a connection dropped meanwhile resubscribes on reconnect."""
        if self.ws.is_connected:
            with contextlib.suppress(VenueUnavailable):
                await self.ws.send(message)

    @abstractmethod
    async def _subscribe_all(self, ws: ReconnectingWebSocket) -> None:
        """Send every remembered subscription on the new connection ``ws``."""

    async def _on_connect(self, ws: ReconnectingWebSocket) -> None:
        await self._subscribe_all(ws)
        await self._on_resync(ws.connections == 1)

    async def _receive(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        outcome = self._on_message(message)
        if outcome is not None:
            await outcome
