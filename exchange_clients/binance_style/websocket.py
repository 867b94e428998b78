"""The two Binance-style WebSockets: the diff-depth book stream and the user-data stream.

## Depth

Local order books from the ``<symbol>@depth@100ms`` diff stream, kept the documented way.

Binance "How to manage a local order book correctly" (USD-M futures; Aster documents the same
procedure): open the stream and buffer its events, take a REST snapshot, drop events with
``u`` < ``lastUpdateId``, the first applied event straddles the snapshot (``U <= lastUpdateId
<= u``), and from then on every event's ``pu`` must equal the previous event's ``u``; anything
else is a gap and the book is rebuilt from a new snapshot. :class:`OrderBook` enforces the
sequence rules; this module does the buffering, the snapshots and the resyncs.

Symbols are subscribed lazily (the first time their book is asked for) with the live
``{"method": "SUBSCRIBE"}`` request, and re-subscribed and re-snapshotted on every reconnect.

## User data

The user-data stream: listenKey lifecycle and the WebSocket that carries account events.

Binance "User Data Streams" (USD-M futures; Aster's is the same): ``POST listenKey`` creates
(or returns the active) key, valid 60 minutes; ``PUT listenKey`` extends it (we do so every
``keepalive_seconds``, 30 min by default); the stream lives at ``/ws/<listenKey>``. When the
key lapses the venue sends ``listenKeyExpired`` and the keepalive answers ``-1125``: we then
take a new key and reconnect to it.

Every reconnection runs ``on_reconnect`` before the new connection's events are delivered, so
the client can recover fills and order states missed while it was away (REST ``userTrades``
and order queries) without racing the stream.

The keepalive loop and the one-off renewals run under a :class:`~core.tasks.TaskSupervisor`:
one that dies of an error the code does not expect is logged by name; a dead keepalive loop is
started again (without it the key would lapse within the hour), and a renewal or check that
died is retried by the next keepalive round (or the next disconnection).

``stop()`` does not ``DELETE`` the key: the venue hands the same active key to every process
using the same API key (or signer), so closing it would cut another bot's stream; an unused
key simply lapses after 60 minutes.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from core.errors import ExchangeError
from core.logging_setup import get_logger
from core.redaction import Secret
from core.tasks import TaskSupervisor
from exchange_clients import book_sync
from exchange_clients.binance_style.rest import BinanceStyleRest
from exchange_clients.binance_style.wire import LISTEN_KEY_MISSING_CODE, VenueError
from exchange_clients.book_sync import BookStream, Snapshot
from exchange_clients.order_book import OrderBook
from networking.backoff import Backoff
from networking.websocket import ReconnectingWebSocket

log = get_logger(__name__)

SNAPSHOT_WAIT_SECONDS = book_sync.SNAPSHOT_WAIT_SECONDS


def depth_stream(contract_id: str) -> str:
    return f"{contract_id.lower()}@depth@100ms"


def apply_depth_update(book: OrderBook, event: dict[str, Any]) -> None:
    """One ``depthUpdate``: ``U``/``u`` bound it, ``pu`` must be the previous event's ``u``."""
    book.apply_wire_update(
        event["b"],
        event["a"],
        first_sequence=int(event["U"]),
        last_sequence=int(event["u"]),
        previous_sequence=int(event["pu"]),
    )


MAX_MESSAGE_BYTES = 1024 * 1024
"""A diff-depth event lists the levels changed in 100-250 ms: tens of kB on the busiest books."""


class DepthStream(BookStream):
    """Every streamed book of one client, on one WebSocket connection."""

    def __init__(
        self,
        *,
        venue: str,
        ws_url: str,
        snapshot: Snapshot,
        proxy_url: Secret | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self._ids = itertools.count(1)
        super().__init__(
            venue=venue,
            url=f"{ws_url.rstrip('/')}/ws",
            name="depth",
            max_message_bytes=MAX_MESSAGE_BYTES,
            snapshot=snapshot,
            apply_delta=apply_depth_update,
            proxy_url=proxy_url,
            backoff=backoff,
        )

    def _subscribe_message(self, contract_ids: list[str]) -> dict[str, Any]:
        return {
            "method": "SUBSCRIBE",
            "params": [depth_stream(cid) for cid in contract_ids],
            "id": next(self._ids),
        }

    def _on_message(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        event = message.get("data", message)
        if not isinstance(event, dict) or event.get("e") != "depthUpdate":
            return
        self.books.on_delta(str(event.get("s")), event)

    async def _on_connect(self, ws: ReconnectingWebSocket) -> None:
        contracts = self.books.contracts
        if not contracts:
            return
        self.books.start_buffering()
        await ws.send(self._subscribe_message(contracts))
        await self.books.snapshot_all()

    def _on_disconnect(self) -> None:
        self.books.invalidate("depth stream disconnected")


DEFAULT_KEEPALIVE_SECONDS = 30 * 60.0


class UserStream:
    """One account's user-data stream."""

    def __init__(
        self,
        *,
        rest: BinanceStyleRest,
        ws_url: str,
        listen_key_path: str,
        on_event: Callable[[dict[str, Any]], None],
        on_reconnect: Callable[[], Awaitable[None]],
        keepalive_seconds: float = DEFAULT_KEEPALIVE_SECONDS,
        proxy_url: Secret | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self._rest = rest
        self._ws_url = ws_url.rstrip("/")
        self._path = listen_key_path
        self._on_event = on_event
        self._on_reconnect = on_reconnect
        self.keepalive_seconds = keepalive_seconds
        self._proxy_url = proxy_url
        self._backoff = backoff
        self._ws: ReconnectingWebSocket | None = None
        self._tasks: TaskSupervisor | None = None  # while started
        self._keepalive: asyncio.Task[None] | None = None
        self._renewing: asyncio.Task[None] | None = None
        self.restarts = 0
        """Keepalive loops that died and were started again."""
        self.listen_key: str | None = None
        self.keepalives = 0
        """Successful ``PUT listenKey`` calls so far."""
        self.renewals = 0
        """New listen keys taken after one expired."""

    @property
    def websocket(self) -> ReconnectingWebSocket:
        if self._ws is None:
            raise ExchangeError("user stream not started", venue=self._rest.venue)
        return self._ws

    async def start(self) -> None:
        self.listen_key = await self._new_key()
        self._ws = ReconnectingWebSocket(
            self._url(self.listen_key),
            venue=self._rest.venue,
            on_message=self._on_message,
            on_connect=self._on_connect,
            on_disconnect=self._on_disconnect,
            heartbeat=20.0,
            idle_timeout=None,
            backoff=self._backoff,
            proxy_url=self._proxy_url,
            name="user",
            max_message_bytes=MAX_MESSAGE_BYTES,
        )
        await self._ws.start()
        self._tasks = TaskSupervisor(f"{self._rest.venue}-user-stream", on_failure=self._died)
        self._keepalive = self._tasks.spawn(self._keep_alive(), name="listenkey-keepalive")

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, None
        if tasks is not None:
            await tasks.aclose()
        self._keepalive = self._renewing = None
        if self._ws is not None:
            await self._ws.stop()
            self._ws = None

    def _url(self, key: str) -> str:
        return f"{self._ws_url}/ws/{key}"

    async def _new_key(self) -> str:
        answer = await self._rest.user_stream("POST", self._path)
        return str(answer["listenKey"])

    def _died(self, task: str, error: BaseException) -> None:
        """Logged with its traceback already. The keepalive loop must go on: start it again
        (it waits a whole interval first, so a loop that keeps dying cannot spin); a renewal or
        check is retried by that loop's next round."""
        if task == "listenkey-keepalive" and self._tasks is not None:
            self.restarts += 1
            log.warning("listenkey_keepalive_restarted", venue=self._rest.venue, error=repr(error))
            self._keepalive = self._tasks.spawn(self._keep_alive(), name=task)

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self.keepalive_seconds)
            await self.keepalive_once()

    async def keepalive_once(self) -> None:
        """Extend the key; take a new one when the venue says it no longer exists."""
        try:
            await self._rest.user_stream("PUT", self._path)
            self.keepalives += 1
        except VenueError as exc:
            if exc.code == LISTEN_KEY_MISSING_CODE:
                await self.renew()
            else:
                log.warning("listenkey_keepalive_failed", venue=self._rest.venue, error=str(exc))
        except ExchangeError as exc:
            log.warning("listenkey_keepalive_failed", venue=self._rest.venue, error=str(exc))

    async def renew(self) -> None:
        """A new listen key, and a reconnection to it (missed events recovered on connect)."""
        self.listen_key = await self._new_key()
        self.renewals += 1
        if self._ws is not None:
            self._ws.url = self._url(self.listen_key)
            await self._ws.reconnect()

    def _schedule_renew(self) -> None:
        if self._tasks is not None and (self._renewing is None or self._renewing.done()):
            self._renewing = self._tasks.spawn(self._renew_logged(), name="listenkey-renew")

    async def _renew_logged(self) -> None:
        try:
            await self.renew()
        except ExchangeError as exc:
            log.warning("listenkey_renew_failed", venue=self._rest.venue, error=str(exc))

    def _on_message(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        event = message.get("data", message)
        if not isinstance(event, dict):
            return
        if event.get("e") == "listenKeyExpired":
            log.info("listenkey_expired", venue=self._rest.venue)
            self._schedule_renew()
            return
        self._on_event(event)

    async def _on_connect(self, ws: ReconnectingWebSocket) -> None:
        if ws.connections > 1:
            await self._on_reconnect()

    def _on_disconnect(self) -> None:
        # The key may have lapsed while we were away: check it before the next attempt.
        if self._keepalive is not None:
            self._schedule_check()

    def _schedule_check(self) -> None:
        if self._tasks is not None and (self._renewing is None or self._renewing.done()):
            self._renewing = self._tasks.spawn(self.keepalive_once(), name="listenkey-check")
