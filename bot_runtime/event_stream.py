"""The live event stream of one bot: numbered events, a bounded replay buffer, subscribers.

Why it looks like this:

* **Publishing never waits.** :meth:`EventHub.publish` is synchronous: it numbers the event,
  renders its JSON frame once, keeps it in a ring buffer and appends it to each subscriber's
  queue. The trading loop calls it (through the runtime's feed) and must never block on a
  dashboard that reads slowly, so a subscriber's queue is bounded: when it is full the
  subscriber is dropped (its connection closed with a reason saying how to resume), never
  waited for.
* **Resumable.** Every event carries ``seq``, strictly increasing within the bot process; the
  last :data:`DEFAULT_BUFFER` events stay in memory. A client that reconnects with
  ``?since=SEQ`` receives the buffered events after ``SEQ`` first; when ``SEQ`` is older than
  the buffer (or from another process: larger than anything published) it is told ``reset``
  and gets a fresh status snapshot instead (:meth:`EventHub.subscribe` says which).
* **Money is exact.** Frames are rendered by the control API's JSON (``Decimal`` as strings).

The frame of every message (the dashboard builds against exactly this)::

    {"seq": 12, "type": "fill", "ts": "2026-12-03T15:41:32.123456+00:00", "bot": "name",
     "data": {...}}
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import decimal
import enum
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot_runtime.control_models import KillSwitchResult, StateChange

EventType = Literal["hello", "status", "order", "fill", "position", "pnl", "risk", "reset"]
EVENT_TYPES: tuple[str, ...] = (
    "hello",
    "status",
    "order",
    "fill",
    "position",
    "pnl",
    "risk",
    "reset",
)

DEFAULT_BUFFER = 2048
"""Events kept for resuming (a few minutes of a busy bot)."""
DEFAULT_QUEUE = 512
"""Events a subscriber may fall behind before it is dropped."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _json_default(value: object) -> object:
    """Exact decimals as strings (every digit, no exponent), times as ISO 8601."""
    if isinstance(value, decimal.Decimal):
        return format(value, "f") if value.is_finite() else str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"cannot render a {type(value).__name__} on the event stream")


def _default_render(content: Any) -> bytes:
    return json.dumps(
        content, default=_json_default, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode()


@dataclass(frozen=True)
class StreamEvent:
    """One published event and its rendered JSON frame."""

    seq: int
    type: str
    frame: str


@dataclass(eq=False)  # hashed by identity: the hub keeps a set of them
class Subscriber:
    """One connected client: its queue of frames not yet sent, and why it was dropped.

    The sender (the WebSocket route) waits on :attr:`wake`, then drains :attr:`pending`;
    :attr:`dropped` set means the hub gave up on it (the queue overflowed).
    """

    limit: int
    pending: collections.deque[StreamEvent] = field(default_factory=collections.deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: str | None = None
    close_code: int = 1013
    """1013 (try again later) when it fell behind, 1001 (going away) when the bot stops."""

    def offer(self, event: StreamEvent) -> bool:
        """Queue ``event``; False (and dropped) when the queue is already full."""
        if self.dropped is not None:
            return False
        if len(self.pending) >= self.limit:
            self.dropped = (
                f"too slow: {self.limit} events waiting; reconnect with ?since=<last seq>"
            )
            self.pending.clear()
            self.wake.set()
            return False
        self.pending.append(event)
        self.wake.set()
        return True


@dataclass(frozen=True)
class Subscription:
    """What a new subscriber gets first: the replay (or a reset), then its live queue.

    ``position`` is the seq the client stands at once the replay is sent: every later event
    has a larger one.
    """

    subscriber: Subscriber
    replay: tuple[StreamEvent, ...]
    reset: bool
    position: int
    head: int


class EventHub:
    """Numbers, buffers and fans out one bot's events (use it from the bot's event loop)."""

    def __init__(
        self,
        bot: str,
        *,
        buffer_size: int = DEFAULT_BUFFER,
        queue_size: int = DEFAULT_QUEUE,
        render: Callable[[Any], bytes] = _default_render,
        now: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        if buffer_size < 1 or queue_size < 1:
            raise ValueError("buffer_size and queue_size must be at least 1")
        self.bot = bot
        self.run_id = uuid.uuid4().hex
        """Differs per process: a client seeing a new one knows its seq numbers are void."""
        self.queue_size = queue_size
        self._render = render
        self._now = now
        self._seq = 0
        self._buffer: collections.deque[StreamEvent] = collections.deque(maxlen=buffer_size)
        self._subscribers: set[Subscriber] = set()
        self.dropped = 0
        """Subscribers dropped for falling behind since the start."""

    @property
    def seq(self) -> int:
        """The seq of the last event published (0 before the first)."""
        return self._seq

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def frame(self, seq: int, type_: str, data: Mapping[str, Any]) -> str:
        """The JSON text of a message (also for the per-connection hello/reset)."""
        message = {
            "seq": seq,
            "type": type_,
            "ts": self._now().isoformat(),
            "bot": self.bot,
            "data": data,
        }
        return self._render(message).decode()

    def publish(self, type_: EventType, data: Mapping[str, Any]) -> int:
        """Number, buffer and fan out one event; returns its seq. Never blocks."""
        self._seq += 1
        event = StreamEvent(self._seq, type_, self.frame(self._seq, type_, data))
        self._buffer.append(event)
        for subscriber in list(self._subscribers):
            if not subscriber.offer(event):
                self._subscribers.discard(subscriber)
                self.dropped += 1
        return self._seq

    def subscribe(self, since: int | None) -> Subscription:
        """Register a subscriber; replay what it missed after ``since`` (None: nothing).

        Synchronous, so no event can slip between the replay and the live queue.
        """
        head = self._seq
        reset = False
        replay: tuple[StreamEvent, ...] = ()
        position = head
        if since is not None and since != head:
            oldest = self._buffer[0].seq if self._buffer else head + 1
            if since > head or since < oldest - 1:
                reset = True
            else:
                replay = tuple(event for event in self._buffer if event.seq > since)
                position = since
        subscriber = Subscriber(limit=self.queue_size)
        self._subscribers.add(subscriber)
        return Subscription(subscriber, replay, reset, position, head)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def close_all(self, reason: str) -> None:
        """Tell every subscriber to go (the bot is stopping)."""
        for subscriber in list(self._subscribers):
            subscriber.dropped = reason
            subscriber.close_code = 1001
            subscriber.wake.set()
        self._subscribers.clear()


class EngineControl(Protocol):
    """What the control API needs for ``/stream``, ``/start`` and ``/kill``."""

    hub: EventHub

    async def start(self) -> StateChange:
        """Trade again after a pause; refused while the kill switch is engaged."""

    async def kill(self, reason: str) -> KillSwitchResult:
        """Cancel everything, flatten every position, stop (the kill switch)."""


__all__ = [
    "DEFAULT_BUFFER",
    "DEFAULT_QUEUE",
    "EVENT_TYPES",
    "EngineControl",
    "EventHub",
    "EventType",
    "StreamEvent",
    "Subscriber",
    "Subscription",
]
