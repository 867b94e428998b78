"""A bot's event stream as the control API serves it (``GET /api/v1/stream``, a WebSocket),
small enough to drive the dashboard's relay in tests.

It speaks the protocol the relay is built against: bearer token in the upgrade's
``Authorization`` header (a wrong one: the socket accepted and closed with 4401), then
``hello`` (``seq`` = where the stream continues, ``data`` = head, run_id, resumed, status),
the buffered events after ``?since=SEQ`` (or ``reset`` when that is no longer buffered or
from another run), then live events. :meth:`FakeStream.publish` numbers and fans out an event
like the bot's hub; :meth:`drop_connections` closes every socket (a network cut).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from starlette.websockets import WebSocket, WebSocketDisconnect

from bot_runtime.control_auth import hash_token


@dataclass
class FakeStream:
    bot: str
    token: str
    buffer_size: int = 100
    seq: int = 0
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    buffer: list[tuple[int, str]] = field(default_factory=list)
    queues: set[asyncio.Queue[str | None]] = field(default_factory=set)
    #: ``since`` of every connection, in order (None: a fresh subscriber).
    connections: list[int | None] = field(default_factory=list)

    def frame(self, seq: int, type_: str, data: dict[str, Any]) -> str:
        return json.dumps(
            {
                "seq": seq,
                "type": type_,
                "ts": datetime.now(UTC).isoformat(),
                "bot": self.bot,
                "data": data,
            }
        )

    def publish(self, type_: str, data: dict[str, Any]) -> int:
        self.seq += 1
        text = self.frame(self.seq, type_, data)
        self.buffer = [*self.buffer, (self.seq, text)][-self.buffer_size :]
        for queue in self.queues:
            queue.put_nowait(text)
        return self.seq

    def drop_connections(self) -> None:
        for queue in self.queues:
            queue.put_nowait(None)

    def restart(self) -> None:
        """A new bot process: a new run id, seqs from 0 again, an empty buffer."""
        self.drop_connections()
        self.run_id = uuid.uuid4().hex
        self.seq = 0
        self.buffer = []

    async def serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        if hash_token((websocket.headers.get("Authorization") or "").removeprefix("Bearer ")) != (
            hash_token(self.token)
        ):
            await websocket.close(4401, reason="unauthorized")
            return
        raw = websocket.query_params.get("since")
        since = int(raw) if raw is not None else None
        self.connections.append(since)
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.queues.add(queue)
        try:
            head = self.seq
            oldest = self.buffer[0][0] if self.buffer else head + 1
            reset = since is not None and since != head and (since > head or since < oldest - 1)
            resumed = since is not None and not reset
            await websocket.send_text(
                self.frame(
                    head if not resumed else since or 0,
                    "hello",
                    {
                        "head": head,
                        "run_id": self.run_id,
                        "resumed": resumed,
                        "status": {"name": self.bot, "state": "running"},
                    },
                )
            )
            if reset:
                await websocket.send_text(self.frame(head, "reset", {"reason": "not buffered"}))
            elif resumed:
                for seq, text in self.buffer:
                    if seq > (since or 0) and seq <= head:
                        await websocket.send_text(text)
            while True:
                text = await queue.get()
                if text is None:
                    await websocket.close(1001)
                    return
                await websocket.send_text(text)
        except WebSocketDisconnect:
            return
        finally:
            self.queues.discard(queue)


def install(app: FastAPI, stream: FakeStream) -> None:
    """Add the stream route to a bot's control-API app (until the real one is in the tree)."""
    app.add_api_websocket_route("/api/v1/stream", stream.serve)
