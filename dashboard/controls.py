"""Control-API clients per bot, kept between requests and sharing one connection pool.

The fleet's :class:`~fleet.control_client.HttpControlClient` opens an ``httpx.AsyncClient``
per call, and a new client builds its TLS context and opens a new connection: measured, that
was most of a 20-bot overview (~4 s for 60 calls). Handing every client one transport
(:class:`SharedTransport`, whose ``aclose`` is a no-op so a client's exit does not close the
pool) makes those calls reuse keep-alive connections; keeping each bot's client keeps its
verified identity and port. A client that failed is dropped (:meth:`ControlPool.forget`), so
a bot that came back on another port is looked up again.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from fleet.api import ControlClient

MakeClient = Callable[[str, httpx.AsyncBaseTransport], ControlClient]


class SharedTransport(httpx.AsyncBaseTransport):
    """One connection pool for many short-lived ``httpx.AsyncClient``s."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport(
            retries=0, limits=httpx.Limits(max_connections=200, max_keepalive_connections=100)
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """A client leaving its ``async with``: the pool stays (see :meth:`close`)."""

    async def close(self) -> None:
        await self._inner.aclose()


class ControlPool:
    def __init__(self, make: MakeClient) -> None:
        self._make = make
        self._transport = SharedTransport()
        self._clients: dict[str, ControlClient] = {}

    def get(self, name: str) -> ControlClient:
        client = self._clients.get(name)
        if client is None:
            client = self._clients[name] = self._make(name, self._transport)
        return client

    def forget(self, name: str) -> None:
        self._clients.pop(name, None)

    async def close(self) -> None:
        self._clients.clear()
        await self._transport.close()
