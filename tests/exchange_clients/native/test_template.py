"""The venue template runs: fees, 24 h stats and venue-side stops through its REST and stream,
against a minimal venue speaking the template's protocol (HMAC-signed, signatures checked).

The template is never registered; this test keeps what a new venue copies working, so the
copy starts from a client that already implements the whole contract.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web

from core.redaction import Secret
from exchange_clients._template.client import TemplateClient
from exchange_clients.types import (
    ClientSettings,
    FeeSchedule,
    OrderRequest,
    OrderStatus,
    OrderType,
)
from networking.json_codec import dumps, loads
from testing.fakes.local_server import LocalServer
from tests.exchange_clients.waiting import next_event

D = Decimal
KEY, SECRET = "template-key", "template-secret"


class TemplateVenue:
    """Just enough venue: one market, signed order calls, stops resting until the mark."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.position = D("0.5")  # long BTC-PERP, for the stops to reduce
        self.mark = D(60_000)
        self.sockets: list[web.WebSocketResponse] = []
        self._ids = itertools.count(1)
        self._server = LocalServer()
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/markets", self._markets)
        app.router.add_get("/tickers", self._tickers)
        app.router.add_get("/fees", self._fees)
        app.router.add_route("*", "/order", self._order)
        app.router.add_get("/orders", self._open_orders)
        app.router.add_get("/fills", self._fills)
        app.router.add_get("/ws", self._ws)
        self.port = await self._server.serve(app)

    async def stop(self) -> None:
        await self._server.close(self.sockets)

    @staticmethod
    def _json(value: Any, status: int = 200) -> web.Response:
        return web.Response(text=dumps(value), status=status, content_type="application/json")

    async def _signed(self, request: web.Request) -> dict[str, Any]:
        body = await request.text()
        stamp = request.headers.get("X-TIMESTAMP", "")
        expected = hmac.new(SECRET.encode(), f"{stamp}{body}".encode(), hashlib.sha256)
        if request.headers.get("X-API-KEY") != KEY or not hmac.compare_digest(
            request.headers.get("X-SIGNATURE", ""), expected.hexdigest()
        ):
            raise web.HTTPUnauthorized(text=dumps({"code": "BAD_SIGNATURE"}))
        parsed: dict[str, Any] = loads(body) if body else {}
        return parsed

    async def _markets(self, _request: web.Request) -> web.Response:
        row = {"type": "perpetual", "base": "BTC", "symbol": "BTC-PERP", "tick_size": "0.1"}
        return self._json([{**row, "step_size": "0.001", "min_size": "0.001"}])

    async def _tickers(self, _request: web.Request) -> web.Response:
        row = {"symbol": "BTC-PERP", "quote_volume": "1234567.5", "open_interest": "12.5"}
        return self._json([{**row, "mark": str(self.mark)}, {"symbol": "DOGE-SPOT"}])

    async def _fees(self, request: web.Request) -> web.Response:
        await self._signed(request)
        return self._json({"maker": "-0.0001", "taker": "0.0004"})

    async def _order(self, request: web.Request) -> web.Response:
        params = await self._signed(request)
        if request.method == "POST":
            if params["type"] == "stop_market" and not params["reduce_only"]:
                return self._json({"code": "STOP_NOT_REDUCE_ONLY"}, 400)
            order = {**params, "id": str(next(self._ids)), "status": "new", "filled": "0"}
            self.orders[order["id"]] = order
            return self._json(order)
        found = [
            o
            for o in self.orders.values()
            if o["id"] == params.get("id") or o["client_id"] == params.get("client_id")
        ]
        if not found:
            return self._json({"code": "ORDER_NOT_FOUND"}, 404)
        if request.method == "DELETE":
            found[0]["status"] = "cancelled"
        return self._json(found[0])

    async def _fills(self, request: web.Request) -> web.Response:
        await self._signed(request)
        return self._json([])

    async def _open_orders(self, request: web.Request) -> web.Response:
        await self._signed(request)
        return self._json([o for o in self.orders.values() if o["status"] == "new"])

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        async for _ in ws:
            pass
        return ws

    async def move_mark(self, mark: Decimal) -> None:
        """Sell stops at or above the new mark fire: filled, pushed on the orders channel."""
        self.mark = mark
        for order in self.orders.values():
            resting = order["type"] == "stop_market" and order["status"] == "new"
            if resting and D(order["trigger_price"]) >= mark:
                order.update(status="filled", filled=order["size"])
                self.position -= D(order["size"])
                message = {"channel": "orders", "data": order}
                for ws in self.sockets:
                    await ws.send_str(dumps(message))


@asynccontextmanager
async def venue_and_client() -> AsyncIterator[tuple[TemplateVenue, TemplateClient]]:
    venue = TemplateVenue()
    await venue.start()
    url = f"http://127.0.0.1:{venue.port}"
    client = TemplateClient(
        ClientSettings(
            venue="template",
            secrets={"api_key": Secret(KEY), "api_secret": Secret(SECRET)},
            options={"base_url": url, "ws_url": f"ws://127.0.0.1:{venue.port}/ws"},
        )
    )
    await client.connect()
    try:
        yield venue, client
    finally:
        await client.disconnect()
        await venue.stop()


def stop(client_id: str, trigger: str = "58000", size: str = "0.5") -> OrderRequest:
    return OrderRequest(
        "BTC",
        "sell",
        D(size),
        OrderType.STOP_MARKET,
        client_id,
        reduce_only=True,
        trigger_price=D(trigger),
    )


async def test_fees_and_market_stats() -> None:
    async with venue_and_client() as (_, client):
        assert await client.fees("BTC") == FeeSchedule(D("-0.0001"), D("0.0004"), "account")
        stats = await client.market_stats()
        assert list(stats) == ["BTC"]  # the unlisted spot row is left out
        assert stats["BTC"].volume_24h_usd == D("1234567.5")
        assert stats["BTC"].open_interest_usd == D("12.5") * 60_000


async def test_a_stop_rests_is_listed_and_cancels_by_client_id() -> None:
    async with venue_and_client() as (venue, client):
        placed = await client.place_order(stop("tpl-stop-1"))
        assert (placed.order_type, placed.trigger_price, placed.status) == (
            OrderType.STOP_MARKET,
            D(58_000),
            OrderStatus.OPEN,
        )
        (sent,) = venue.orders.values()
        assert (sent["type"], sent["trigger_price"], sent["reduce_only"]) == (
            "stop_market",
            "58000",
            True,
        )
        (listed,) = await client.open_orders("BTC")
        assert (listed.client_order_id, listed.trigger_price) == ("tpl-stop-1", D(58_000))
        cancelled = await client.cancel_by_client_id("BTC", "tpl-stop-1")
        assert (cancelled.status, cancelled.order_type) == (
            OrderStatus.CANCELLED,
            OrderType.STOP_MARKET,
        )
        await venue.move_mark(D(50_000))
        assert venue.position == D("0.5")
        assert await client.open_orders() == []


async def test_a_stop_fires_when_the_mark_crosses() -> None:
    async with venue_and_client() as (venue, client):
        updates = client.order_updates()
        await client.place_order(stop("tpl-stop-2"))
        await venue.move_mark(D(59_000))
        assert venue.position == D("0.5")
        await venue.move_mark(D(57_999))
        done = await next_event(updates, lambda o: o.client_order_id == "tpl-stop-2")
        assert (done.status, done.order_type, done.filled_size) == (
            OrderStatus.FILLED,
            OrderType.STOP_MARKET,
            D("0.5"),
        )
        assert venue.position == 0


def test_a_stop_must_be_reduce_only() -> None:
    with pytest.raises(ValueError, match="reduce_only"):
        OrderRequest("BTC", "sell", D(1), OrderType.STOP_MARKET, "s", trigger_price=D(1))
    assert TemplateClient.supports_trigger_orders
