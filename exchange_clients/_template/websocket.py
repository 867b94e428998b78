"""The account's WebSocket: subscriptions kept across reconnects, a resync before new events.

After every reconnection the subscriptions are sent again and ``on_resync`` runs before any
message of the new connection is delivered, so the client publishes what it missed (fills,
order states) without racing the stream.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from core.redaction import Secret
from networking.backoff import Backoff
from networking.websocket import OnMessage, ReconnectingWebSocket

MAX_MESSAGE_BYTES = 1024 * 1024
"""The largest message the venue documents, with room to spare: a bound, never unbounded."""


class TemplateStream:
    def __init__(
        self,
        url: str,
        *,
        venue: str,
        on_message: OnMessage,
        on_resync: Callable[[], Awaitable[None]],
        proxy_url: Secret | None = None,
    ) -> None:
        self._subscriptions: list[dict[str, Any]] = []
        self._on_resync = on_resync
        self.ws = ReconnectingWebSocket(
            url,
            venue=venue,
            on_message=on_message,
            on_connect=self._on_connect,
            backoff=Backoff(initial=0.2, maximum=5.0, floor=0.05),
            proxy_url=proxy_url,
            name=f"{venue}-ws",
            max_message_bytes=MAX_MESSAGE_BYTES,
        )

    async def start(self, subscriptions: list[dict[str, Any]]) -> None:
        self._subscriptions = list(subscriptions)
        await self.ws.start()

    async def stop(self) -> None:
        await self.ws.stop()

    async def _on_connect(self, ws: ReconnectingWebSocket) -> None:
        for subscription in self._subscriptions:
            await ws.send({"op": "subscribe", **subscription})
        if ws.connections > 1:
            await self._on_resync()
