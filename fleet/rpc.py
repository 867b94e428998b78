"""supervisord's XML-RPC interface over its unix socket, awaitable.

The standard library's XML-RPC client is blocking; each call runs in a worker thread so the
fleet (and the Telegram service around it) keeps its event loop responsive.
"""

from __future__ import annotations

import asyncio
import xmlrpc.client
from typing import Any

from supervisor.xmlrpc import SupervisorTransport

from fleet.layout import FleetLayout
from fleet.supervisor_conf import RPC_USER


class SupervisorRPC:
    def __init__(self, layout: FleetLayout, password: str) -> None:
        self._layout = layout
        self._password = password

    def _proxy(self) -> Any:
        transport = SupervisorTransport(
            RPC_USER, self._password, serverurl=f"unix://{self._layout.socket}"
        )
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    async def call(self, method: str, *args: Any) -> Any:
        """``supervisor.<method>(*args)``; xmlrpc Faults and socket errors propagate."""

        def run() -> Any:
            return getattr(self._proxy().supervisor, method)(*args)

        return await asyncio.to_thread(run)

    async def alive(self) -> bool:
        try:
            state = await self.call("getState")
        except (OSError, xmlrpc.client.Error):
            return False
        return bool(state.get("statename") == "RUNNING")
