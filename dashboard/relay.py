"""Each bot's event stream, subscribed once by the server and relayed to every browser.

A bot's control API streams JSON messages on ``GET /api/v1/stream`` (WebSocket, bearer token):
``{"seq", "type", "ts", "bot", "data"}`` with ``type`` one of :data:`EVENT_TYPES`, resumable
with ``?since=SEQ``. Browsers never see a bot's token or port: the dashboard holds one
connection per watched bot (opened when the first browser asks, closed a while after the last
one left), keeps the last :data:`BUFFER` messages so a browser that reconnects with its last
seq misses nothing, and reconnects to the bot with ``since`` = the last seq it saw. A bot that
cannot resume answers ``reset``; browsers then reload what they show.

Besides the bot's own messages the relay sends ``{"type": "relay", "bot", "data":
{"connected": bool, "detail"}}`` (no seq) when its connection to a bot changes, so a page can
say "live" or "reconnecting".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from core.tasks import TaskSupervisor

log = structlog.get_logger(__name__)

EVENT_TYPES = frozenset({"hello", "status", "order", "fill", "position", "pnl", "risk", "reset"})
BUFFER = 500
QUEUE_SIZE = 1000
LINGER_SECONDS = 60.0
BACKOFF_START, BACKOFF_MAX = 0.2, 5.0
STREAM_PATH = "/api/v1/stream"
CLOSE_UNAUTHORIZED = 4401


@dataclass(frozen=True)
class StreamEndpoint:
    """Where a bot streams and the token it answers to."""

    url: str  # ws://127.0.0.1:PORT/api/v1/stream
    token: str


Locate = Callable[[str], Awaitable[StreamEndpoint]]


@dataclass(frozen=True)
class Event:
    """One message for browsers: ``seq`` (the relay's numbering; None for its own notices)
    and its JSON text."""

    seq: int | None
    text: str


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


OVERFLOW = Event(None, dumps({"type": "reset", "data": {"reason": "browser too slow"}}))


def parse(raw: str, bot: str) -> dict[str, Any] | None:
    """A bot message when it is one (int seq, known type, this bot), else None (logged)."""
    try:
        message = json.loads(raw)
    except ValueError:
        log.warning("stream message is not JSON", bot=bot)
        return None
    if (
        not isinstance(message, dict)
        or not isinstance(message.get("seq"), int)
        or message.get("type") not in EVENT_TYPES
    ):
        log.warning("stream message of an unknown shape dropped", bot=bot)
        return None
    if message.get("bot") not in (None, bot):
        log.warning("stream message names another bot: dropped", bot=bot)
        return None
    return message


class BotStream:
    """One bot's connection, its buffer and its subscribers."""

    def __init__(self, bot: str, locate: Locate) -> None:
        self.bot = bot
        self._locate = locate
        self.last_seq: int | None = None
        #: The bot process's run id (hello): a new one voids the old seqs.
        self.run_id: str | None = None
        #: Resets and new runs seen: browsers reload what they show on each.
        self.gaps = 0
        #: The relay's own numbering (SSE ids): never restarts while the dashboard runs, so a
        #: browser's Last-Event-ID stays meaningful across bot restarts.
        self.counter = 0
        self.connected = False
        self.recent: deque[Event] = deque(maxlen=BUFFER)
        self.subscribers: set[asyncio.Queue[Event]] = set()
        self.task: asyncio.Task[None] | None = None
        self.linger: asyncio.TimerHandle | None = None

    def publish(self, event: Event) -> None:
        if event.seq is not None:
            self.recent.append(event)
        for queue in list(self.subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A browser that cannot keep up is told to reload instead of growing memory.
                self.subscribers.discard(queue)
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(OVERFLOW)

    def _relay_state(self, connected: bool, detail: str) -> None:
        if connected == self.connected and not detail:
            return
        self.connected = connected
        text = dumps(
            {"type": "relay", "bot": self.bot, "data": {"connected": connected, "detail": detail}}
        )
        self.publish(Event(None, text))

    async def run(self) -> None:
        """Connect, relay, reconnect with backoff until cancelled."""
        backoff = BACKOFF_START
        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    endpoint = await self._locate(self.bot)
                    url = endpoint.url
                    if self.last_seq is not None:
                        url += f"?since={self.last_seq}"
                    async with http.ws_connect(
                        url,
                        headers={"Authorization": f"Bearer {endpoint.token}"},
                        heartbeat=20,
                        max_msg_size=4 * 1024 * 1024,
                    ) as ws:
                        self._relay_state(True, "")
                        backoff = BACKOFF_START
                        async for frame in ws:
                            if frame.type != aiohttp.WSMsgType.TEXT:
                                continue
                            self._receive(frame.data)
                        code = ws.close_code
                    reason = " (refused: unauthorized)" if code == CLOSE_UNAUTHORIZED else ""
                    self._relay_state(False, f"the bot closed its stream: code {code}{reason}")
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # any failure: say so, wait, reconnect
                    detail = _describe(exc)
                    log.info("bot stream unavailable", bot=self.bot, detail=detail)
                    self._relay_state(False, detail)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)

    def _receive(self, raw: str) -> None:
        message = parse(raw, self.bot)
        if message is None:
            return
        seq: int = message["seq"]
        kind = message["type"]
        if kind in ("hello", "reset"):
            # Per connection: the seq the stream continues from (a new run starts again low).
            run_id = message.get("data", {}).get("run_id") if kind == "hello" else None
            if kind == "reset" or (run_id is not None and run_id != self.run_id):
                if self.run_id is not None or kind == "reset":
                    self.gaps += 1
                self.run_id = run_id or self.run_id
        elif self.last_seq is not None and seq <= self.last_seq:
            return  # already relayed (a resume may repeat the last one)
        self.last_seq = seq
        message["bot"] = self.bot
        self.counter += 1
        self.publish(Event(self.counter, dumps(message)))


def _describe(exc: Exception) -> str:
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return f"the bot refused the stream (HTTP {exc.status})"
    if isinstance(exc, aiohttp.ClientError | OSError):
        return f"stream unreachable ({type(exc).__name__})"
    return str(exc) or type(exc).__name__


class StreamRelay:
    """Every watched bot's :class:`BotStream`."""

    def __init__(self, locate: Locate, *, linger_seconds: float = LINGER_SECONDS) -> None:
        self._locate = locate
        self._linger = linger_seconds
        self._streams: dict[str, BotStream] = {}
        self._tasks = TaskSupervisor("dashboard-relay")

    @contextlib.asynccontextmanager
    async def subscribe(
        self, bot: str, since: int | None = None
    ) -> AsyncIterator[asyncio.Queue[Event]]:
        """A queue of ``bot``'s events; first the buffered ones after ``since`` (when given)."""
        stream = self._streams.get(bot)
        if stream is None:
            stream = self._streams[bot] = BotStream(bot, self._locate)
        if stream.linger is not None:
            stream.linger.cancel()
            stream.linger = None
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        if since is not None:
            oldest = stream.recent[0].seq if stream.recent else None
            if oldest is not None and oldest > since + 1:
                queue.put_nowait(OVERFLOW)  # the gap is older than the buffer: reload
            for event in stream.recent:
                if event.seq is not None and event.seq > since:
                    queue.put_nowait(event)
        state = {"connected": stream.connected, "detail": ""}
        queue.put_nowait(Event(None, dumps({"type": "relay", "bot": bot, "data": state})))
        stream.subscribers.add(queue)
        if stream.task is None or stream.task.done():
            stream.task = self._tasks.spawn(stream.run(), name=f"stream-{bot}")
        try:
            yield queue
        finally:
            stream.subscribers.discard(queue)
            if not stream.subscribers:
                loop = asyncio.get_running_loop()
                stream.linger = loop.call_later(self._linger, self._stop, bot)

    def _stop(self, bot: str) -> None:
        stream = self._streams.get(bot)
        if stream is None or stream.subscribers:
            return
        if stream.task is not None:
            stream.task.cancel()
        del self._streams[bot]

    def watched(self) -> list[str]:
        return sorted(self._streams)

    async def close(self) -> None:
        for stream in self._streams.values():
            if stream.linger is not None:
                stream.linger.cancel()
        await self._tasks.aclose()
        self._streams.clear()
