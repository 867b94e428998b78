"""The relay: one subscription per bot over a real WebSocket, fanned out to browsers over
server-sent events, resumed after a cut without losing or repeating an event."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from dashboard.relay import Event, StreamEndpoint, StreamRelay, parse
from tests.dashboard.conftest import Dashboard, ServedFleet
from tests.dashboard.fake_stream import FakeStream


async def next_of(queue: asyncio.Queue[Event], kind: str, seconds: float = 10) -> dict[str, Any]:
    """The next message of ``kind`` (others skipped)."""
    async with asyncio.timeout(seconds):
        while True:
            message: dict[str, Any] = json.loads((await queue.get()).text)
            if message["type"] == kind:
                return message


async def connected(queue: asyncio.Queue[Event]) -> None:
    async with asyncio.timeout(10):
        while True:
            message = json.loads((await queue.get()).text)
            if message["type"] == "relay" and message["data"]["connected"]:
                return


async def test_a_fill_reaches_every_subscriber_once() -> None:
    fleet = ServedFleet()
    try:
        await fleet.serve_bot("grid-a", fake_stream=True)
        relay = StreamRelay(fleet.locate)
        stream = fleet.streams["grid-a"]
        assert isinstance(stream, FakeStream)
        async with relay.subscribe("grid-a") as first, relay.subscribe("grid-a") as second:
            await connected(first)
            await next_of(first, "hello")
            stream.publish("fill", {"symbol": "BTC", "price": "100.10", "size": "0.001"})
            for queue in (first, second):
                fill = await next_of(queue, "fill")
                assert fill["data"]["price"] == "100.10"  # decimal strings pass untouched
                assert fill["bot"] == "grid-a"
        assert stream.connections == [None]  # one connection to the bot for both browsers
        await relay.close()
    finally:
        await fleet.aclose()


async def test_a_cut_connection_resumes_from_the_last_seq_without_loss() -> None:
    fleet = ServedFleet()
    try:
        await fleet.serve_bot("grid-a", fake_stream=True)
        relay = StreamRelay(fleet.locate)
        stream = fleet.streams["grid-a"]
        assert isinstance(stream, FakeStream)
        async with relay.subscribe("grid-a") as queue:
            await connected(queue)
            stream.publish("fill", {"n": 1})
            assert (await next_of(queue, "fill"))["data"] == {"n": 1}
            stream.drop_connections()
            stream.publish("fill", {"n": 2})  # while the relay is away: buffered by the bot
            stream.publish("fill", {"n": 3})
            got = [(await next_of(queue, "fill"))["data"]["n"] for _ in range(2)]
            assert got == [2, 3]
            assert stream.connections == [None, 1]  # resumed with since = the last seq seen
        await relay.close()
    finally:
        await fleet.aclose()


async def test_a_browser_resuming_with_its_last_id_gets_only_what_it_missed() -> None:
    fleet = ServedFleet()
    try:
        await fleet.serve_bot("grid-a", fake_stream=True)
        relay = StreamRelay(fleet.locate)
        stream = fleet.streams["grid-a"]
        assert isinstance(stream, FakeStream)
        async with relay.subscribe("grid-a") as queue:
            await connected(queue)
            for n in range(3):
                stream.publish("fill", {"n": n})
            ids = []
            for _ in range(3):
                event = await queue.get()
                while json.loads(event.text)["type"] != "fill":
                    event = await queue.get()
                ids.append(event.seq)
            async with relay.subscribe("grid-a", since=ids[0]) as again:
                replayed = [json.loads((await again.get()).text) for _ in range(3)]
            assert [m["data"].get("n") for m in replayed if m["type"] == "fill"] == [1, 2]
        await relay.close()
    finally:
        await fleet.aclose()


async def test_a_wrong_token_is_reported_not_retried_silently() -> None:
    fleet = ServedFleet()
    try:
        await fleet.serve_bot("grid-a", fake_stream=True)
        port = fleet.ports["grid-a"]

        async def wrong(name: str) -> StreamEndpoint:
            return StreamEndpoint(f"ws://127.0.0.1:{port}/api/v1/stream", "not-the-token")

        relay = StreamRelay(wrong)
        async with relay.subscribe("grid-a") as queue:
            async with asyncio.timeout(10):
                while True:
                    message = json.loads((await queue.get()).text)
                    if message["type"] == "relay" and message["data"]["detail"]:
                        break
            assert "4401" in message["data"]["detail"]
            assert "not-the-token" not in message["data"]["detail"]
            assert fleet.streams["grid-a"].connections == []
        await relay.close()
    finally:
        await fleet.aclose()


async def test_a_restarted_bot_is_followed_and_browsers_are_told_to_reload() -> None:
    fleet = ServedFleet()
    try:
        await fleet.serve_bot("grid-a", fake_stream=True)
        relay = StreamRelay(fleet.locate)
        stream = fleet.streams["grid-a"]
        assert isinstance(stream, FakeStream)
        async with relay.subscribe("grid-a") as queue:
            await connected(queue)
            for n in range(5):
                stream.publish("fill", {"n": n})
            for _ in range(5):
                await next_of(queue, "fill")
            stream.restart()  # seqs start again at 0: the relay's since (5) is void
            await next_of(queue, "reset")
            stream.publish("fill", {"n": "after"})
            assert (await next_of(queue, "fill"))["data"] == {"n": "after"}
        await relay.close()
    finally:
        await fleet.aclose()


def test_messages_of_another_shape_or_bot_are_dropped() -> None:
    good = {"seq": 1, "type": "fill", "ts": "t", "bot": "a", "data": {}}
    assert parse(json.dumps(good), "a") == good
    assert parse("not json", "a") is None
    assert parse(json.dumps({**good, "seq": "1"}), "a") is None
    assert parse(json.dumps({**good, "type": "launch-missiles"}), "a") is None
    assert parse(json.dumps({**good, "bot": "b"}), "a") is None


async def test_server_sent_events_carry_a_fill_to_a_logged_in_browser(
    dashboard: Dashboard,
) -> None:
    client = await dashboard.client("vic")
    stream = dashboard.fleet.streams["grid-a"]
    async with client.stream("GET", "/events/grid-a") as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        lines = answer.aiter_lines()
        async with asyncio.timeout(10):
            async for line in lines:
                if line.startswith("data:") and '"connected":true' in line:
                    break
            stream.publish("fill", {"symbol": "BTC", "price": "64000.5"})
            async for line in lines:
                if line.startswith("data:") and '"type":"fill"' in line:
                    assert json.loads(line.removeprefix("data: "))["data"]["price"] == "64000.5"
                    break


async def test_events_need_a_session(dashboard: Dashboard) -> None:
    anonymous = httpx.AsyncClient(base_url=dashboard.url)
    try:
        assert (await anonymous.get("/events/grid-a")).status_code == 401
        assert (await anonymous.get("/events")).status_code == 401
    finally:
        await anonymous.aclose()
