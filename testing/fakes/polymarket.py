"""A fake of Polymarket's public market data: Gamma ``/markets`` and CLOB ``/midpoint``.

Shaped like the real answers: Gamma markets carry ``outcomes``, ``outcomePrices`` and
``clobTokenIds`` as JSON-encoded strings, ``volume24hr`` / ``liquidityNum`` as JSON numbers,
``liquidity`` as a string, ISO ``endDate``; the CLOB answers ``{"mid": "0.55"}`` and
``{"error": "No orderbook exists for the requested token id"}`` with 404 for unknown tokens.
One server answers both (point the Gamma and CLOB base URLs at it).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any

from aiohttp import web

from testing.fakes.local_server import LocalServer

D = Decimal


@dataclass
class FakePolyMarket:
    """One binary market; ``yes_mid`` is the first outcome's CLOB midpoint."""

    question: str
    yes_mid: Decimal
    outcomes: tuple[str, str] = ("Up", "Down")
    volume_24h: Decimal = Decimal("25000.5")
    liquidity: Decimal = Decimal("40000.25")
    end: datetime | None = None
    closed: bool = False
    market_id: str = ""
    yes_token: str = ""
    no_token: str = ""


class FakePolymarket:
    """``async with FakePolymarket() as fake:`` then ``fake.add(...)``; ``fake.base_url``."""

    def __init__(self) -> None:
        self.markets: list[FakePolyMarket] = []
        self.requests: list[str] = []
        self._ids = itertools.count(500_001)
        self._server = LocalServer()
        self.port = 0

    async def __aenter__(self) -> FakePolymarket:
        app = web.Application()
        app.router.add_get("/markets", self._markets)
        app.router.add_get("/midpoint", self._midpoint)
        self.port = await self._server.serve(app)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._server.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, market: FakePolyMarket) -> FakePolyMarket:
        number = next(self._ids)
        market.market_id = market.market_id or str(number)
        market.yes_token = market.yes_token or f"{number}1{number * 7919}"
        market.no_token = market.no_token or f"{number}2{number * 104729}"
        if market.end is None:
            market.end = datetime.now(UTC) + timedelta(minutes=15)
        self.markets.append(market)
        return market

    def _wire(self, market: FakePolyMarket) -> dict[str, Any]:
        yes = market.yes_mid
        end = market.end or datetime.now(UTC)
        return {
            "id": market.market_id,
            "question": market.question,
            "conditionId": "0x" + market.market_id.rjust(64, "0"),
            "slug": market.question.lower().replace(" ", "-")[:60],
            "endDate": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "liquidity": str(market.liquidity),
            "outcomes": json.dumps(list(market.outcomes)),
            "outcomePrices": json.dumps([str(yes), str(1 - yes)]),
            "clobTokenIds": json.dumps([market.yes_token, market.no_token]),
            "volume24hr": float(market.volume_24h),  # a JSON number, as Gamma sends it
            "liquidityNum": float(market.liquidity),
            "active": not market.closed,
            "closed": market.closed,
            "acceptingOrders": not market.closed,
            "orderPriceMinTickSize": 0.01,
            "orderMinSize": 5,
        }

    async def _markets(self, request: web.Request) -> web.Response:
        self.requests.append("/markets")
        query = request.query
        listed = self.markets
        if query.get("closed") == "false":
            listed = [m for m in listed if not m.closed]
        if query.get("order") == "volume24hr":
            listed = sorted(
                listed, key=lambda m: m.volume_24h, reverse=query.get("ascending") != "true"
            )
        limit = int(query.get("limit", "20"))
        return web.json_response([self._wire(m) for m in listed[:limit]])

    async def _midpoint(self, request: web.Request) -> web.Response:
        self.requests.append("/midpoint")
        token = request.query.get("token_id", "")
        for market in self.markets:
            if token == market.yes_token:
                return web.json_response({"mid": str(market.yes_mid)})
            if token == market.no_token:
                return web.json_response({"mid": str(1 - market.yes_mid)})
        return web.json_response(
            {"error": "No orderbook exists for the requested token id"}, status=404
        )
