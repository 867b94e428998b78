"""The live event stream and the engine controls of a real ``runbot.py`` process, on both DBs.

An l2_imbalance bot trades the live synthetic market on the paper venue with its control API
on; a real WebSocket client (``websockets``) subscribes with the bearer token. A fill on the
paper venue reaches it; a client that reconnects with ``?since=`` gets exactly the events it
missed; ``POST /kill`` flattens and stops the bot, and the stream says so.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from bot_runtime.control_models import KillSwitchResult, StateChange, StreamMessage
from tests.bot_runtime.test_runbot_e2e import (
    TOKEN,
    api,
    eventually,
    free_port,
    running_bot,
    wait_exit,
)

GUARD = 90.0  # guards a hang; not a speed assertion
NAME = "e2e-l2-stream"


def config(port: int) -> str:
    return f"""\
name: {NAME}
strategy:
  type: l2_imbalance
  params:
    exchange: paper
    tickers: [BTC]
    order_notional_usd: 1000
    buy_ratio: 1.2
    sell_ratio: 0.83
    take_profit_pct: 0.02
    stop_loss_pct: 0.02
    time_stop_seconds: 2
    daily_loss_limit_usd: 500
    max_drawdown_usd: 1000
    resync_quiet_seconds: 0
exchanges:
  paper: {{}}
control_api:
  enabled: true
  port: {port}
"""


def url(port: int, since: int | None = None) -> str:
    query = "" if since is None else f"?since={since}"
    return f"ws://127.0.0.1:{port}/api/v1/stream{query}"


AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def receive(ws: ClientConnection) -> StreamMessage:
    raw = await asyncio.wait_for(ws.recv(), GUARD)
    message = StreamMessage.model_validate_json(raw)
    # Money and sizes are strings on the wire, never floats.
    assert not any(isinstance(v, float) for v in _leaves(json.loads(raw)["data"]))
    return message


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):  # uptime_seconds is the one float of a status: not money
        return [leaf for k, v in value.items() if k != "uptime_seconds" for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


async def read_to_the_end(ws: ClientConnection) -> None:
    while True:
        await receive(ws)


async def until(ws: ClientConnection, type_: str, seen: list[StreamMessage]) -> StreamMessage:
    while True:
        message = await receive(ws)
        seen.append(message)
        if message.type == type_:
            return message


async def test_fills_reach_a_subscriber_resume_replays_what_was_missed_and_kill_flattens(
    migrated_db_url: str, tmp_path: Path
) -> None:
    port = free_port()
    path = tmp_path / "l2.yml"
    path.write_text(config(port))
    with running_bot(path, tmp_path / "var", migrated_db_url, tmp_path / "bot.log") as bot:
        async with api(port) as client:
            await eventually(lambda: client.get("/api/v1/status"), "the control API")

            # No token, a wrong token: closed 4401 before anything is sent.
            for headers in ({}, {"Authorization": "Bearer wrong"}):
                async with websockets.connect(url(port), additional_headers=headers) as ws:
                    with pytest.raises(ConnectionClosed) as closed:
                        await asyncio.wait_for(ws.recv(), GUARD)
                    assert closed.value.rcvd is not None
                    assert closed.value.rcvd.code == 4401
                    assert TOKEN not in closed.value.rcvd.reason

            seen: list[StreamMessage] = []
            async with websockets.connect(url(port), additional_headers=AUTH) as ws:
                hello = await receive(ws)
                assert hello.type == "hello"
                assert hello.bot == NAME
                assert hello.data["status"]["name"] == NAME
                assert hello.data["head"] >= hello.seq
                fill = await until(ws, "fill", seen)
                assert fill.data["venue"] == "paper"
                assert fill.data["symbol"] == "BTC"
                assert Decimal(fill.data["size"]) > 0
                assert Decimal(fill.data["price"]) > 0
                assert fill.data["client_order_id"]
                position = await until(ws, "position", seen)
                assert position.data["symbol"] == "BTC"
                await until(ws, "pnl", seen)
                last = seen[-1].seq
            seqs = [m.seq for m in seen]
            assert seqs == sorted(set(seqs)), "seq strictly increasing"
            assert any(m.type == "order" for m in seen)

            # Away for a while: the bot keeps trading (time stop 2 s) and publishing.
            await asyncio.sleep(5)
            async with websockets.connect(url(port, since=last), additional_headers=AUTH) as ws:
                hello = await receive(ws)
                assert (hello.type, hello.seq, hello.data["resumed"]) == ("hello", last, True)
                missed = hello.data["head"] - last
                assert missed > 0
                replayed = [await receive(ws) for _ in range(missed)]
            assert [m.seq for m in replayed] == list(range(last + 1, last + 1 + missed))
            assert {m.type for m in replayed} & {"fill", "order"}

            # A seq from another run (larger than anything published): reset, then a status.
            future = hello.data["head"] + 10**9
            async with websockets.connect(url(port, since=future), additional_headers=AUTH) as ws:
                assert (await receive(ws)).type == "hello"
                assert (await receive(ws)).type == "reset"
                status = await receive(ws)
                assert (status.type, status.data["name"]) == ("status", NAME)

            # Pause and start are status events; kill flattens and stops.
            async with websockets.connect(url(port), additional_headers=AUTH) as ws:
                assert (await receive(ws)).type == "hello"
                answer = await client.post("/api/v1/pause")
                assert StateChange.model_validate(answer.json()).state == "paused"
                paused: list[StreamMessage] = []
                while (await until(ws, "status", paused)).data["state"] != "paused":
                    pass
                answer = await client.post("/api/v1/start")
                assert StateChange.model_validate(answer.json()).state == "running"
                answer = await client.post("/api/v1/kill", json={"reason": "e2e test"})
                assert answer.status_code == 200, answer.text
                result = KillSwitchResult.model_validate(answer.json())
                assert result.complete
                assert result.state == "stopping"
                risk = await until(ws, "risk", [])
                while not risk.data.get("killed"):
                    risk = await until(ws, "risk", [])
                assert "e2e test" in risk.data["kill_reason"]
                # The bot goes away: the stream is closed by the server.
                with pytest.raises(ConnectionClosed):
                    await read_to_the_end(ws)
        assert await wait_exit(bot, seconds=GUARD) == 0
