"""Running a fake venue's aiohttp app on 127.0.0.1 and stopping it cleanly.

Every fake serves on a free port and, when stopped, closes its open WebSockets first (a client
still connected would otherwise keep the server's cleanup waiting). Handlers still running at
shutdown (a fake told to answer slowly) get a short grace, not aiohttp's default minute.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from aiohttp import web

SHUTDOWN_GRACE_SECONDS = 0.5


class LocalServer:
    """One app on ``127.0.0.1:<free port>``."""

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def serve(self, app: web.Application) -> int:
        """Start ``app``; returns the port it listens on."""
        self._runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_GRACE_SECONDS)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self.port

    async def close(self, websockets: Iterable[web.WebSocketResponse] = ()) -> None:
        """Close ``websockets``, then the server."""
        for ws in list(websockets):
            with contextlib.suppress(Exception):
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
