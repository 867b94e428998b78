"""A bot's control API as the fleet talks to it: loopback HTTP with the bot's bearer token."""

from __future__ import annotations

from typing import Any

import httpx

from fleet.api import FleetError

TIMEOUT_SECONDS = 30.0


class HttpControlClient:
    def __init__(self, bot: str, port: int, token: str) -> None:
        self._bot = bot
        self._base = f"http://127.0.0.1:{port}"
        self._headers = {"Authorization": f"Bearer {token}"}

    async def health(self) -> bool:
        try:
            async with httpx.AsyncClient(base_url=self._base, timeout=2) as client:
                return (await client.get("/health")).status_code == 200
        except httpx.HTTPError:
            return False

    async def get(self, path: str) -> Any:
        return await self._request("GET", path, None)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return await self._request("POST", path, body)

    async def _request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        url = f"/api/v1/{path.lstrip('/')}"
        try:
            async with httpx.AsyncClient(
                base_url=self._base, headers=self._headers, timeout=TIMEOUT_SECONDS
            ) as client:
                response = await client.request(method, url, json=body)
        except httpx.HTTPError as exc:
            raise FleetError(
                f"{self._bot}: control API unreachable ({type(exc).__name__})"
            ) from None
        if response.status_code >= 400:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise FleetError(f"{self._bot}: {message} (HTTP {response.status_code})")
        return response.json()
