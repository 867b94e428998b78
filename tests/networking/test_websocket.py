"""ReconnectingWebSocket against a real local WebSocket server that the test drives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from core.errors import VenueUnavailable
from networking.backoff import Backoff
from networking.websocket import ReconnectingWebSocket
from tests.networking.servers import serve

FAST = Backoff(initial=0.01, maximum=0.05, floor=0.005)
GUARD = 10.0  # guards against a hang; not a speed assertion


class StreamServer:
    """Accepts WebSocket connections, records what clients send, lets the test push and drop."""

    def __init__(self) -> None:
        self.sockets: list[web.WebSocketResponse] = []
        self.received: list[str] = []
        self.refuse = False
        self.greeting: dict[str, Any] | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.refuse:
            return web.Response(status=503)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if self.greeting is not None:  # sent before the client could have subscribed
            await ws.send_json(self.greeting)
        self.sockets.append(ws)
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                self.received.append(message.data)
        return ws

    async def push(self, text: str) -> None:
        for ws in list(self.sockets):
            if not ws.closed:
                await ws.send_str(text)

    async def drop_all(self) -> None:
        for ws in list(self.sockets):
            await ws.close()


@asynccontextmanager
async def stream_server() -> AsyncIterator[tuple[StreamServer, str]]:
    server = StreamServer()
    async with serve([web.get("/ws", server.handle)]) as url:
        yield server, url.replace("http://", "ws://") + "/ws"


async def eventually(condition: Any) -> None:
    async def wait() -> None:
        while not condition():  # noqa: ASYNC110 - a condition on another task, polled
            await asyncio.sleep(0.005)

    await asyncio.wait_for(wait(), GUARD)


async def test_messages_are_parsed_with_decimals_and_on_connect_runs_before_them() -> None:
    log: list[Any] = []

    async def on_connect(ws: ReconnectingWebSocket) -> None:
        await ws.send({"method": "subscribe"})
        await asyncio.sleep(0.05)  # e.g. a REST snapshot; the greeting must wait for it
        log.append("snapshot")

    async with stream_server() as (server, url):
        server.greeting = {"px": 1.5}
        ws = ReconnectingWebSocket(url, venue="v", on_message=log.append, on_connect=on_connect)
        await ws.start()
        await eventually(lambda: len(log) == 2)
        assert log == ["snapshot", {"px": Decimal("1.5")}]
        assert server.received == ['{"method":"subscribe"}']
        await server.push("not json")
        await eventually(lambda: len(log) == 3)
        assert log[2] == "not json"
        await ws.stop()


async def test_a_dropped_stream_reconnects_resubscribes_and_reports_the_gap() -> None:
    connects: list[int] = []
    drops: list[int] = []
    got: list[Any] = []

    async def on_connect(ws: ReconnectingWebSocket) -> None:
        connects.append(ws.connections)
        await ws.send({"subscribe": ws.connections})

    async with stream_server() as (server, url):
        ws = ReconnectingWebSocket(
            url,
            venue="v",
            on_message=got.append,
            on_connect=on_connect,
            on_disconnect=lambda: drops.append(1),
            backoff=FAST,
        )
        await ws.start()
        await eventually(lambda: server.received == ['{"subscribe":1}'])
        server.refuse = True  # the venue is down for a while: reconnects keep failing
        await server.drop_all()
        await eventually(lambda: drops == [1])
        assert not ws.is_connected
        await asyncio.sleep(0.1)
        server.refuse = False
        await eventually(lambda: ws.is_connected and len(server.sockets) == 2)
        await server.push('{"n": 1}')
        await eventually(lambda: got == [{"n": 1}])
        assert connects == [1, 2]
        assert server.received == ['{"subscribe":1}', '{"subscribe":2}']
        await ws.stop()
    assert drops == [1]  # stopping is not reported as a drop


async def test_a_silent_stream_is_treated_as_dead() -> None:
    async with stream_server() as (_, url):
        ws = ReconnectingWebSocket(
            url, venue="v", on_message=lambda _: None, idle_timeout=0.1, backoff=FAST
        )
        await ws.start()
        await eventually(lambda: ws.connections >= 2)
        await ws.stop()


async def test_keepalive_pings_are_sent_on_the_interval() -> None:
    async with stream_server() as (server, url):
        ws = ReconnectingWebSocket(
            url,
            venue="v",
            on_message=lambda _: None,
            ping_message=lambda: {"method": "ping"},
            ping_interval=0.02,
        )
        await ws.start()
        await eventually(lambda: server.received.count('{"method":"ping"}') >= 3)
        await ws.stop()


async def test_an_unreachable_venue_fails_start_with_a_clear_error() -> None:
    async with stream_server() as (server, url):
        server.refuse = True
        ws = ReconnectingWebSocket(url, venue="v", on_message=lambda _: None, name="book")
        with pytest.raises(VenueUnavailable, match="v: book stream: cannot connect"):
            await ws.start()
        with pytest.raises(VenueUnavailable, match="not connected"):
            await ws.send({"x": 1})


async def test_a_failing_on_connect_fails_start_and_leaves_nothing_running() -> None:
    async def on_connect(_: ReconnectingWebSocket) -> None:
        raise VenueUnavailable("snapshot failed", venue="v")

    async with stream_server() as (server, url):
        ws = ReconnectingWebSocket(url, venue="v", on_message=lambda _: None, on_connect=on_connect)
        with pytest.raises(VenueUnavailable, match="snapshot failed"):
            await ws.start()
        assert not ws.is_connected
        await eventually(lambda: all(s.closed for s in server.sockets))


async def test_a_message_over_the_size_bound_ends_the_connection_unread() -> None:
    """Before, ``max_msg_size=0`` let a peer make the bot buffer (and parse) any amount."""
    got: list[Any] = []
    async with stream_server() as (server, url):
        ws = ReconnectingWebSocket(
            url, venue="v", on_message=got.append, backoff=FAST, max_message_bytes=1024
        )
        await ws.start()
        await eventually(lambda: len(server.sockets) == 1)
        await server.push('{"big": "' + "x" * 2000 + '"}')
        await eventually(lambda: ws.connections == 2)  # dropped, then reconnected
        await eventually(lambda: len(server.sockets) == 2)
        await server.push('{"small": 1}')
        await eventually(lambda: got == [{"small": 1}])
        await ws.stop()


async def test_every_venue_stream_has_a_size_bound() -> None:
    with pytest.raises(ValueError, match="unbounded"):
        ReconnectingWebSocket("ws://x", venue="v", on_message=lambda _: None, max_message_bytes=0)
    from exchange_clients.backpack import websocket as backpack
    from exchange_clients.binance_style import websocket as binance_style
    from exchange_clients.hyperliquid import websocket as hyperliquid
    from exchange_clients.lighter import websocket as lighter

    for module in (backpack, binance_style, hyperliquid, lighter):
        assert 0 < module.MAX_MESSAGE_BYTES <= 8 * 1024 * 1024, module.__name__


async def test_a_too_deeply_nested_message_is_dropped_and_the_stream_goes_on() -> None:
    got: list[Any] = []
    async with stream_server() as (server, url):
        ws = ReconnectingWebSocket(url, venue="v", on_message=got.append, backoff=FAST)
        await ws.start()
        await eventually(lambda: len(server.sockets) == 1)
        await server.push("[" * 100_000 + "]" * 100_000)
        await server.push('{"after": 1}')
        await eventually(lambda: got == [{"after": 1}])
        assert ws.connections == 1
        await ws.stop()


async def test_a_handler_that_fails_on_a_message_reconnects_instead_of_dying() -> None:
    """A venue handler that raises (a bug, an unknown payload) used to end the reader task
    silently: no more messages, no reconnect. Now the stream resyncs and goes on."""
    got: list[Any] = []
    connects: list[int] = []

    def on_message(message: Any) -> None:
        if message == {"poison": True}:
            raise KeyError("unexpected payload")
        got.append(message)

    async def on_connect(ws: ReconnectingWebSocket) -> None:
        connects.append(ws.connections)

    async with stream_server() as (server, url):
        ws = ReconnectingWebSocket(
            url, venue="v", on_message=on_message, on_connect=on_connect, backoff=FAST
        )
        await ws.start()
        await eventually(lambda: len(server.sockets) == 1)
        await server.push('{"poison": true}')
        await eventually(lambda: connects == [1, 2] and ws.is_connected)
        await eventually(lambda: len(server.sockets) == 2)
        await server.push('{"n": 2}')
        await eventually(lambda: got == [{"n": 2}])
        await ws.stop()
