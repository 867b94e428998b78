"""A WebSocket that stays connected: reconnect with jittered backoff, resubscribe, resync.

A venue stream dies for many reasons (venue restarts, idle timeouts, our network, a proxy).
:class:`ReconnectingWebSocket` owns the connection; the client gives it three callbacks:

* ``on_connect(ws)`` after every successful (re)connection, before any message of that
  connection is handed over: subscribe, fetch REST snapshots, poll for fills missed while
  disconnected. Messages arriving meanwhile wait in the socket's buffer, so the client sees
  them after its snapshot (the documented local-book procedure of Binance-style venues).
  It must not wait for a WebSocket reply itself (nothing is read until it returns).
* ``on_message(message)`` for every message, parsed (fractional numbers as ``Decimal``).
* ``on_disconnect()`` when a connection ends (mark books stale, stop quoting from them).

The first connection is made by :meth:`start` itself, so a client's ``connect()`` fails with
a clear error when the venue cannot be reached; later drops reconnect in the background.
A connection that receives nothing for ``idle_timeout`` seconds is treated as dead.

Size and depth are bounded: a message longer than ``max_message_bytes`` (set per venue, from
the largest payload it documents) ends the connection (aiohttp closes it with 1009, message too
big) and the stream reconnects, instead of buffering whatever a broken or hostile peer sends;
a message nested deeper than :data:`networking.json_codec.MAX_DEPTH` is dropped with a warning.

Through an account's :class:`~networking.proxy_pool.ProxyPool` (passed as ``proxy_url``) every
connection goes through the pool's current proxy. A connection the proxy cannot make, or a
handshake the venue answers with 403/451 (a ban of the proxy's address), is reported to the pool
and the next connection goes through the next proxy at once, :meth:`start`'s first one included.
A stream dropped by a dying proxy reconnects the usual way; that reconnection finds the proxy
gone and fails over.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp_socks import ProxyError

from core.errors import VenueUnavailable
from core.logging_setup import get_logger
from core.redaction import Secret
from core.tasks import TaskSupervisor
from networking.backoff import Backoff
from networking.http import (
    BANNED,
    PROXY_UNREACHABLE,
    proxy_connector,
    proxy_failure_reason,
)
from networking.json_codec import JSONTooDeep, dumps, loads
from networking.proxy_pool import PooledProxy, ProxyPool

log = get_logger(__name__)

OnConnect = Callable[["ReconnectingWebSocket"], Awaitable[None]]
OnMessage = Callable[[Any], Awaitable[None] | None]
OnDisconnect = Callable[[], Awaitable[None] | None]

DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""aiohttp's own default; a venue whose snapshots are larger passes its own bound."""


class ReconnectingWebSocket:
    """One logical stream to ``url`` that survives any number of physical connections."""

    def __init__(
        self,
        url: str,
        *,
        venue: str,
        on_message: OnMessage,
        on_connect: OnConnect | None = None,
        on_disconnect: OnDisconnect | None = None,
        ping_message: Callable[[], Any] | None = None,
        ping_interval: float = 20.0,
        heartbeat: float | None = None,
        idle_timeout: float | None = 60.0,
        backoff: Backoff | None = None,
        proxy_url: Secret | None = None,
        name: str = "ws",
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        if max_message_bytes <= 0:
            raise ValueError("max_message_bytes must be positive (0 would mean unbounded)")
        self.url = url
        self.venue = venue
        self.name = name
        self._on_message = on_message
        self._on_connect = on_connect
        self._on_disconnect = on_disconnect
        self._ping_message = ping_message
        self._ping_interval = ping_interval
        self._heartbeat = heartbeat
        self._idle_timeout = idle_timeout
        self.backoff = backoff or Backoff()
        self._proxy_url = proxy_url
        self.pool = proxy_url if isinstance(proxy_url, ProxyPool) else None
        self._session_proxy: PooledProxy | None = None
        self._pool_acquired = False
        self.max_message_bytes = max_message_bytes
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task[None] | None = None
        # The reader and the pinger: a task that dies is logged with its traceback, not lost.
        self._tasks = TaskSupervisor(f"{venue}-{name}")
        self._stopping = False
        self.connected = asyncio.Event()
        self.connections = 0
        """Successful connections so far (1 after start; each reconnect adds one)."""
        self._log = log.bind(venue=venue, stream=name)

    @property
    def is_connected(self) -> bool:
        return self.connected.is_set()

    async def start(self) -> None:
        """Connect (raising ``VenueUnavailable`` if that fails), then keep the stream alive."""
        if self._task is not None:
            return
        self._stopping = False
        if self.pool is not None:
            await self.pool.ensure_checked()  # health check before first use
            self.pool.acquire()
            self._pool_acquired = True
        try:
            while True:
                try:
                    await self._connect()
                    break
                except _FailedOver:
                    continue  # through the next proxy, at once
        except BaseException:
            await self._close_session()
            await self._release_pool()
            raise
        self._task = self._tasks.spawn(self._run(), name="reader")

    async def stop(self) -> None:
        self._stopping = True
        # Close first: the read loop then ends by itself. Cancelling a task blocked in
        # ``wait_for(ws.receive())`` alone could lose the cancellation (seen with aiohttp 3.14
        # on Python 3.11) and hang here forever.
        await self._close_socket()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close_socket()
        await self._close_session()
        await self._release_pool()

    async def _release_pool(self) -> None:
        if self.pool is not None and self._pool_acquired:
            self._pool_acquired = False
            await self.pool.release()

    async def _close_session(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, message: Any) -> None:
        """Send one JSON message on the current connection."""
        ws = self._ws
        if ws is None or ws.closed:
            raise VenueUnavailable(f"{self.name} stream is not connected", venue=self.venue)
        await ws.send_str(message if isinstance(message, str) else dumps(message))

    async def reconnect(self) -> None:
        """Drop the current connection; the background loop reconnects and resyncs."""
        await self._close_socket()

    async def _open_session(self) -> aiohttp.ClientSession:
        """The session to connect with: through the pool's current proxy, new after a failover."""
        if self.pool is not None and self.pool.current is not self._session_proxy:
            await self._close_session()
        if self._session is None:
            self._session_proxy = self.pool.current if self.pool is not None else None
            route = self._session_proxy.url if self._session_proxy else self._proxy_url
            self._session = aiohttp.ClientSession(connector=proxy_connector(route))
        return self._session

    async def _connect(self) -> None:
        session = await self._open_session()
        proxy = self._session_proxy
        try:
            self._ws = await session.ws_connect(
                self.url,
                heartbeat=self._heartbeat,
                autoping=True,
                max_msg_size=self.max_message_bytes,
            )
        except (*PROXY_UNREACHABLE, ProxyError) as exc:
            reason = f"proxy: {proxy_failure_reason(exc)}"
            if await self._proxy_failed(proxy, exc, ban=False):
                raise _FailedOver(reason) from None
            raise VenueUnavailable(
                f"{self.name} stream: cannot connect ({reason})", venue=self.venue
            ) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            # The URL is left out on purpose: a user stream's URL carries its listen key.
            banned = isinstance(exc, aiohttp.WSServerHandshakeError) and exc.status in BANNED
            reason = (
                f"HTTP {exc.status}"
                if isinstance(exc, aiohttp.WSServerHandshakeError)
                else type(exc).__name__
            )
            if await self._proxy_failed(proxy, exc, ban=banned):
                raise _FailedOver(reason) from None
            raise VenueUnavailable(
                f"{self.name} stream: cannot connect ({reason})", venue=self.venue
            ) from None
        self.connections += 1
        if self._on_connect is not None:
            try:
                await self._on_connect(self)
            except BaseException:
                await self._close_socket()
                raise
        self.connected.set()

    async def _proxy_failed(
        self, proxy: PooledProxy | None, exc: BaseException, *, ban: bool
    ) -> bool:
        """Tell the pool (a ban, or a connection failure); True when traffic moved."""
        if self.pool is None or proxy is None:
            return False
        if ban:
            return await self.pool.report_ban(proxy, f"{self.name} stream handshake refused")
        return await self.pool.report_connection_failure(
            proxy,
            proxy_failure_reason(exc),
            verify=not isinstance(exc, PROXY_UNREACHABLE),
        )

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            if self._ws is None:
                try:
                    await self._connect()
                except _FailedOver:
                    continue  # through the next proxy, at once
                except Exception as exc:  # any failure means "try again later"
                    delay = self.backoff.delay(attempt)
                    self._log.warning(
                        "ws_reconnect_failed", error=str(exc), attempt=attempt + 1, retry_in=delay
                    )
                    attempt += 1
                    await asyncio.sleep(delay)
                    continue
                self._log.info("ws_reconnected", connections=self.connections)
            attempt = 0
            try:
                await self._read()
            except Exception:
                # A message the venue handler could not take (a bug, or a payload it does not
                # know) must not end the stream for good with nobody told: log it, drop the
                # connection and reconnect - on_connect resubscribes and resyncs the state
                # that message may have left half-applied.
                self._log.exception("ws_handler_failed; reconnecting to resync")
            finally:
                await self._close_socket()
                await self._notify_disconnect()
            if not self._stopping:
                await asyncio.sleep(self.backoff.delay(0))

    async def _read(self) -> None:
        ws = self._ws
        assert ws is not None
        pinger = (
            self._tasks.spawn(self._ping(ws), name="ping")
            if self._ping_message is not None
            else None
        )
        try:
            while True:
                try:
                    raw = await asyncio.wait_for(ws.receive(), self._idle_timeout)
                except TimeoutError:
                    self._log.warning("ws_idle", seconds=self._idle_timeout)
                    return
                if raw.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    try:
                        message = loads(raw.data)
                    except JSONTooDeep as exc:
                        self._log.warning("ws_message_refused", reason=str(exc))
                        continue
                    except ValueError:
                        message = raw.data
                    outcome = self._on_message(message)
                    if outcome is not None:
                        await outcome
                elif raw.type in (
                    aiohttp.WSMsgType.CLOSE,
                    aiohttp.WSMsgType.CLOSING,
                    aiohttp.WSMsgType.CLOSED,
                    aiohttp.WSMsgType.ERROR,
                ):
                    if raw.type == aiohttp.WSMsgType.ERROR:
                        # e.g. a message over max_message_bytes (aiohttp closed with 1009)
                        self._log.warning("ws_error", code=ws.close_code, error=str(raw.data))
                    else:
                        self._log.info("ws_closed", code=ws.close_code)
                    return
        finally:
            if pinger is not None:
                pinger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pinger

    async def _ping(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        assert self._ping_message is not None
        while not ws.closed:
            await asyncio.sleep(self._ping_interval)
            with contextlib.suppress(ConnectionError, RuntimeError, aiohttp.ClientError):
                await ws.send_str(dumps(self._ping_message()))

    async def _close_socket(self) -> None:
        ws, self._ws = self._ws, None
        self.connected.clear()
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close()

    async def _notify_disconnect(self) -> None:
        if self._on_disconnect is not None and not self._stopping:
            outcome = self._on_disconnect()
            if outcome is not None:
                await outcome


class _FailedOver(VenueUnavailable):
    """A connection failed through a proxy and the pool moved on: connect again, at once."""
