"""The event stream's rules: numbering, resume, reset, dropping a slow subscriber, the route.

The hub is tested directly (it is synchronous: what a publisher sees), and the route through
a real uvicorn server (:func:`bot_runtime.control_api.serve`) with a real WebSocket client,
in front of the in-memory bot double; the runtime's feed has its own real-process test
(test_event_stream_process).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from bot_runtime.control_api import create_app, serve
from bot_runtime.control_auth import hash_token, new_token
from bot_runtime.control_models import KillSwitchResult, StateChange, StreamMessage
from bot_runtime.event_stream import EventHub
from tests.bot_runtime.control_double import InMemoryBotControl

GUARD = 30.0  # guards a hang; not a speed assertion


def test_seq_increases_and_money_stays_exact() -> None:
    hub = EventHub("bot-a")
    first = hub.publish("fill", {"price": Decimal("60000.10"), "size": Decimal("1E-8")})
    second = hub.publish("pnl", {"net": Decimal("-0.5")})
    assert (first, second, hub.seq) == (1, 2, 2)
    subscription = hub.subscribe(0)
    frames = [json.loads(event.frame) for event in subscription.replay]
    assert [f["seq"] for f in frames] == [1, 2]
    assert frames[0]["data"] == {"price": "60000.10", "size": "0.00000001"}
    assert frames[0]["bot"] == "bot-a"
    StreamMessage.model_validate(frames[1])


def test_resume_replays_exactly_the_missed_events_and_a_lost_seq_resets() -> None:
    hub = EventHub("bot", buffer_size=3)
    for n in range(5):
        hub.publish("order", {"n": n})
    # Buffered: seq 3, 4, 5.
    resumed = hub.subscribe(2)
    assert ([e.seq for e in resumed.replay], resumed.reset, resumed.position) == (
        [3, 4, 5],
        False,
        2,
    )
    assert hub.subscribe(5).replay == ()
    lost = hub.subscribe(1)  # seq 2 is gone: the client cannot be caught up
    assert (lost.reset, lost.replay, lost.position) == (True, (), 5)
    other_run = hub.subscribe(99)
    assert other_run.reset


def test_a_subscriber_that_falls_behind_is_dropped_and_publishing_never_waits() -> None:
    hub = EventHub("bot", queue_size=2)
    slow = hub.subscribe(None).subscriber
    keeping_up = hub.subscribe(None).subscriber
    hub.publish("order", {})
    hub.publish("order", {})
    keeping_up.pending.clear()  # this one reads
    hub.publish("order", {})  # the slow one's third: over its queue
    assert slow.dropped is not None
    assert "since" in slow.dropped
    assert slow.close_code == 1013
    assert keeping_up.dropped is None
    assert (hub.subscribers, hub.dropped) == (1, 1)
    assert len(keeping_up.pending) == 1


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, str, EventHub, Engine]]:
    token = new_token()
    control = InMemoryBotControl()
    engine = Engine(EventHub(control.name, buffer_size=4, queue_size=1), control)
    server = await serve(create_app(control, hash_token(token), engine=engine), "127.0.0.1", 0)
    try:
        yield f"ws://127.0.0.1:{server.port}/api/v1/stream", token, engine.hub, engine
    finally:
        engine.hub.close_all("test over")
        await server.stop()


class Engine:
    """start/kill over the in-memory bot; the route tests look at the stream, not a venue."""

    def __init__(self, hub: EventHub, control: InMemoryBotControl) -> None:
        self.hub = hub
        self.control = control
        self.kills: list[str] = []

    async def start(self) -> StateChange:
        return await self.control.resume()

    async def kill(self, reason: str) -> KillSwitchResult:
        self.kills.append(reason)
        return KillSwitchResult(reason=reason, complete=True)


async def recv(ws: Any) -> StreamMessage:
    return StreamMessage.model_validate_json(await asyncio.wait_for(ws.recv(), GUARD))


async def test_the_route_refuses_a_bad_query_and_drops_a_client_that_falls_behind(
    served: tuple[str, str, EventHub, Engine],
) -> None:
    url, token, hub, _ = served
    auth = {"Authorization": f"Bearer {token}"}
    for query in ("?since=-1", "?since=abc", "?sinse=3"):
        async with websockets.connect(url + query, additional_headers=auth) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1008
    async with websockets.connect(url, additional_headers=auth) as ws:
        hello = await recv(ws)
        assert (hello.type, hello.data["status"]["name"]) == ("hello", "grid-test")
        assert hub.subscribers == 1  # subscribed before the hello went out
        hub.publish("order", {"n": 1})
        hub.publish("order", {"n": 2})  # no await between: the queue of 1 overflows
        with pytest.raises(ConnectionClosed) as closed:
            await recv(ws)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1013
        assert "since" in closed.value.rcvd.reason


async def test_the_route_replays_after_since_and_resets_an_unbuffered_seq(
    served: tuple[str, str, EventHub, Engine],
) -> None:
    url, token, hub, _ = served
    auth = {"Authorization": f"Bearer {token}"}
    for n in range(6):
        hub.publish("fill", {"n": n})  # buffered: 3..6
    async with websockets.connect(f"{url}?since=4", additional_headers=auth) as ws:
        hello = await recv(ws)
        assert (hello.seq, hello.data["head"], hello.data["resumed"]) == (4, 6, True)
        assert [(await recv(ws)).seq for _ in range(2)] == [5, 6]
        hub.publish("pnl", {"net": Decimal("1.5")})
        live = await recv(ws)
        assert (live.seq, live.type, live.data) == (7, "pnl", {"net": "1.5"})
    async with websockets.connect(f"{url}?since=1", additional_headers=auth) as ws:
        hello = await recv(ws)
        reset = await recv(ws)
        status = await recv(ws)
        assert (hello.type, reset.type, status.type) == ("hello", "reset", "status")
        assert hello.seq == reset.seq == status.seq == 7
        assert hello.data["resumed"] is False


async def test_start_and_kill_are_routes_with_the_token(
    served: tuple[str, str, EventHub, Engine],
) -> None:
    import httpx

    url, token, _, engine = served
    base = url.replace("ws://", "http://").removesuffix("/api/v1/stream")
    async with httpx.AsyncClient(base_url=base, timeout=GUARD) as client:
        assert (await client.post("/api/v1/kill")).status_code == 401
        auth = {"Authorization": f"Bearer {token}"}
        answer = await client.post("/api/v1/kill", json={"reason": "no"}, headers=auth)
        assert answer.status_code == 422  # too short
        answer = await client.post("/api/v1/kill", json={"reasn": "typo"}, headers=auth)
        assert answer.status_code == 422
        answer = await client.post("/api/v1/kill", json={"reason": "drill"}, headers=auth)
        assert KillSwitchResult.model_validate(answer.json()).reason == "drill"
        assert engine.kills == ["drill"]
        await client.post("/api/v1/pause", headers=auth)
        answer = await client.post("/api/v1/start", headers=auth)
        assert StateChange.model_validate(answer.json()).state == "running"
        assert (await client.get("/api/v1/status", headers=auth)).json()["state"] == "running"


async def test_the_fleet_client_streams_starts_and_kills(
    served: tuple[str, str, EventHub, Engine],
) -> None:
    from fleet.control_client import HttpControlClient

    url, token, hub, engine = served
    port = int(url.split(":")[2].split("/")[0])
    client = HttpControlClient("grid-test", port, token)
    hub.publish("fill", {"price": Decimal("1.10")})
    messages = client.stream(since=0)
    hello = await anext(messages)
    fill = await anext(messages)
    await messages.aclose()
    assert (hello.type, fill.type, fill.seq, fill.data) == ("hello", "fill", 1, {"price": "1.10"})
    assert (await client.start()).state == "running"
    assert (await client.kill("fleet drill")).reason == "fleet drill"
    assert engine.kills == ["fleet drill"]
