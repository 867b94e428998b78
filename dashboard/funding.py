"""The funding-rate service's API as the dashboard reads it (``funding_rate_service``, by
default on 127.0.0.1:8710). JSON numbers and rate strings are parsed into ``Decimal``; an
unreachable service is one :class:`FundingUnavailable` naming the URL, shown on the page."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

DEFAULT_FUNDING_URL = "http://127.0.0.1:8710"
TIMEOUT_SECONDS = 5.0


class FundingUnavailable(Exception):
    """The service did not answer, or answered with an error."""


class FundingSource:
    def __init__(
        self,
        base_url: str = DEFAULT_FUNDING_URL,
        token: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._transport = transport

    async def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url,
                headers=self._headers,
                timeout=TIMEOUT_SECONDS,
                transport=self._transport,
            ) as client:
                response = await client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise FundingUnavailable(
                f"the funding-rate service at {self.base_url} is unreachable "
                f"({type(exc).__name__}): start it with `python -m funding_rate_service`"
            ) from None
        if response.status_code != 200:
            raise FundingUnavailable(
                f"the funding-rate service answered {path} with HTTP {response.status_code}"
            )
        return json.loads(response.content, parse_float=Decimal)

    async def healthy(self) -> bool:
        try:
            answer = await self.get("/health")
        except FundingUnavailable:
            return False
        return isinstance(answer, dict) and answer.get("status") == "ok"
