"""A bot's control API as the fleet talks to it: loopback HTTP with the bot's bearer token.

Ports change hands: a bot that found its port taken at bind time listens on another one (and
records it in ``bots.control_port``), and a bot that stopped frees its port for anyone. So the
port is looked up when the client is first used, and before anything else the client checks
that what answers there is the bot it expects (``GET /api/v1/status`` reports the bot's name
and only answers to that bot's token). A port held by something else is then one clear error
naming the port, never a bare 401 or, worse, an action on another bot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from fleet.api import FleetError

TIMEOUT_SECONDS = 30.0

PortSource = Callable[[], Awaitable[int | None]]


class HttpControlClient:
    def __init__(self, bot: str, port: int | PortSource, token: str) -> None:
        self._bot = bot
        self._port_source = port
        self._port: int | None = port if isinstance(port, int) else None
        self._headers = {"Authorization": f"Bearer {token}"}
        self._verified = False

    async def port(self) -> int:
        if self._port is None:
            assert not isinstance(self._port_source, int)
            port = await self._port_source()
            if port is None:
                raise FleetError(f"{self._bot}: no control-API port recorded (is it running?)")
            self._port = port
        return self._port

    async def health(self) -> bool:
        try:
            async with httpx.AsyncClient(base_url=await self._base(), timeout=2) as client:
                return (await client.get("/health")).status_code == 200
        except httpx.HTTPError:
            return False

    async def identify(self) -> bool:
        """True when the expected bot answers on the port (False while nothing listens yet)."""
        if not await self.health():
            return False
        await self._verify()
        return True

    async def get(self, path: str) -> Any:
        return await self._request("GET", path, None)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return await self._request("POST", path, body)

    async def _base(self) -> str:
        return f"http://127.0.0.1:{await self.port()}"

    async def _verify(self) -> None:
        if self._verified:
            return
        status = await self._send("GET", "status", None)
        self._check_name(status)

    def _check_name(self, status: Any) -> None:
        name = status.get("name") if isinstance(status, dict) else None
        if name != self._bot:
            raise FleetError(
                f"{self._bot}: 127.0.0.1:{self._port} answers as bot {name!r}, not "
                f"{self._bot!r}: the port changed hands (see `python -m fleet status {self._bot}`)"
            )
        self._verified = True

    async def _request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        if path.strip("/") == "status" and method == "GET":
            status = await self._send(method, path, body)
            self._check_name(status)
            return status
        await self._verify()
        return await self._send(method, path, body)

    async def _send(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        url = f"/api/v1/{path.lstrip('/')}"
        base = await self._base()
        try:
            async with httpx.AsyncClient(
                base_url=base, headers=self._headers, timeout=TIMEOUT_SECONDS
            ) as client:
                response = await client.request(method, url, json=body)
        except httpx.HTTPError as exc:
            raise FleetError(
                f"{self._bot}: control API unreachable on {base} ({type(exc).__name__})"
            ) from None
        if response.status_code == 401:
            raise FleetError(
                f"{self._bot}: the process on {base.removeprefix('http://')} refused "
                f"{self._bot}'s token: it is not {self._bot} (another process holds the port) "
                f"or {self._bot} was started outside the fleet"
            )
        if response.status_code >= 400:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise FleetError(f"{self._bot}: {message} (HTTP {response.status_code})")
        return response.json()
