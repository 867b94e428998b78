"""``GET /api/v1/stream``: the bot's events over a WebSocket (see :mod:`bot_runtime.event_stream`).

The conversation, in order:

1. Authentication: the same bearer token as every route, in the ``Authorization`` header of
   the upgrade request. Missing or wrong: the socket is accepted and closed at once with code
   4401 and a one-line reason (never the token); a malformed query closes with 1008.
2. ``hello``: ``seq`` is where this connection's stream continues from (every later message
   has a larger one), ``data`` = ``{"head", "run_id", "resumed", "status"}`` - ``head`` the
   last seq published, ``run_id`` the process's id (a new one: old seqs are void), ``status``
   the same snapshot as ``GET /api/v1/status``.
3. With ``?since=SEQ``: the buffered events after ``SEQ``; or, when ``SEQ`` is no longer
   buffered (or belongs to another run), ``reset`` and a fresh ``status`` snapshot.
4. Live events as they are published, until either side closes. A client that falls
   :data:`~bot_runtime.event_stream.DEFAULT_QUEUE` events behind is closed with 1013 and a
   reason; it resumes with ``?since=`` its last seq. When the bot stops: 1001.

The client never has to send anything; what it sends is read and ignored (so a ping-only or
silent client are alike, and a close from it ends the connection).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from bot_runtime.event_stream import EventHub, Subscription

CLOSE_UNAUTHORIZED = 4401
CLOSE_POLICY = 1008
MAX_SINCE = 2**63 - 1

Snapshot = Callable[[], Awaitable[dict[str, Any]]]


class BadQuery(ValueError):
    """The stream's query string does not parse."""


def parse_since(query: dict[str, str]) -> int | None:
    """``since`` as a non-negative int; None when absent. Any other parameter is refused."""
    unknown = sorted(set(query) - {"since"})
    if unknown:
        raise BadQuery(f"unknown query parameter {unknown[0][:32]!r} (expected since)")
    raw = query.get("since")
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_SINCE:
        raise BadQuery("since must be a non-negative integer (the last seq received)")
    return int(raw)


async def serve_stream(
    websocket: WebSocket,
    hub: EventHub,
    authenticate: Callable[[str | None], None],
    snapshot: Snapshot,
) -> None:
    """Run one subscriber's connection to its end (the route's whole body)."""
    await websocket.accept()
    try:
        authenticate(websocket.headers.get("Authorization"))
    except StarletteHTTPException as exc:
        await websocket.close(CLOSE_UNAUTHORIZED, reason=str(exc.detail)[:120])
        return
    try:
        since = parse_since(dict(websocket.query_params))
    except BadQuery as exc:
        await websocket.close(CLOSE_POLICY, reason=str(exc)[:120])
        return
    head = hub.seq
    status = await snapshot()
    # Events published while the snapshot was read are replayed after it: a fresh client
    # subscribes from the head it saw before reading the snapshot.
    subscription = hub.subscribe(head if since is None else since)
    reader = asyncio.create_task(_drain_client(websocket), name="stream reader")
    try:
        await _send_opening(websocket, hub, subscription, since, status)
        await _send_live(websocket, hub, subscription, reader)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away mid-send
    finally:
        hub.unsubscribe(subscription.subscriber)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader


async def _send_opening(
    websocket: WebSocket,
    hub: EventHub,
    subscription: Subscription,
    since: int | None,
    status: dict[str, Any],
) -> None:
    position = subscription.position
    hello = {
        "head": subscription.head,
        "run_id": hub.run_id,
        "resumed": since is not None and not subscription.reset,
        "status": status,
    }
    await websocket.send_text(hub.frame(position, "hello", hello))
    if subscription.reset:
        await websocket.send_text(
            hub.frame(
                position,
                "reset",
                {
                    "since": since,
                    "head": subscription.head,
                    "why": "the events after since are no longer buffered (or belong to "
                    "another run of the bot): start over from this status",
                },
            )
        )
        await websocket.send_text(hub.frame(position, "status", status))
        return
    for event in subscription.replay:
        await websocket.send_text(event.frame)


async def _send_live(
    websocket: WebSocket,
    hub: EventHub,
    subscription: Subscription,
    reader: asyncio.Task[None],
) -> None:
    subscriber = subscription.subscriber
    while True:
        if not subscriber.pending and subscriber.dropped is None:
            waiter = asyncio.create_task(subscriber.wake.wait())
            done, _ = await asyncio.wait({waiter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if waiter not in done:
                waiter.cancel()
                return  # the client closed
            subscriber.wake.clear()
        if subscriber.dropped is not None:
            if websocket.client_state is WebSocketState.CONNECTED:
                await websocket.close(subscriber.close_code, reason=subscriber.dropped[:120])
            return
        while subscriber.pending:
            await websocket.send_text(subscriber.pending.popleft().frame)


async def _drain_client(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, until it disconnects."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


__all__ = ["CLOSE_POLICY", "CLOSE_UNAUTHORIZED", "BadQuery", "parse_since", "serve_stream"]
