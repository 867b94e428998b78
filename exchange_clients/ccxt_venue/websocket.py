"""Fills and order updates from a ccxt venue: ``watch_*`` streams where ccxt has them, polling
where it does not, and recovery of whatever was missed while a stream was down.

ccxt's ``watch_my_trades``/``watch_orders`` reconnect by themselves but do not replay what
happened while they were disconnected. After every stream failure this module polls
``fetch_my_trades`` for each symbol the account traded since it started (from the last fill
time seen, minus a margin) and publishes the trades not yet published: fills are
deduplicated by trade id, so a fill is delivered exactly once whichever path saw it first.

The stream loops run under a :class:`~core.tasks.TaskSupervisor`. Each loop survives its
stream's failures by itself; should the loop itself die (an error outside the stream call,
say while publishing), the supervisor logs it by name and the stream is started again after
a backoff, followed by the same recovery poll and reconnect notice as any stream failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import decimal
import itertools
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from core.errors import ExchangeError
from core.logging_setup import get_logger
from core.tasks import TaskSupervisor
from exchange_clients.ccxt_venue.mapping import Unified, fill_from_ccxt
from exchange_clients.types import Fill, Market, Order
from networking.backoff import Backoff

log = get_logger(__name__)

RECOVERY_MARGIN_MS = 60_000
"""Trades are re-read from this long before the last one seen: venue clocks and delivery
order differ, and duplicates are dropped by id anyway."""


class StreamedClient(Protocol):
    """What the streams need of their client (the ccxt venue client): the ccxt exchange, the
    symbol and client-id mapping, and the hubs to publish into. A protocol, so this module and
    the client do not import each other."""

    exchange: Any

    @property
    def name(self) -> str: ...

    def ccxt_symbol(self, symbol: str) -> str: ...

    def symbol_of(self, ccxt_symbol: str) -> Market | None: ...

    def client_id_of(self, raw: Unified) -> str | None: ...

    async def client_id_for_venue_order(self, symbol: str, venue_order_id: str) -> str | None: ...

    def _order(
        self, raw: Unified, market: Market, client_order_id: str, reduce_only: bool = False
    ) -> Order: ...

    def _publish_fill(self, fill: Fill) -> None: ...

    def _publish_order(self, order: Order) -> None: ...

    def _publish_reconnect(self) -> None: ...


class CcxtStreams:
    """Background tasks feeding a ccxt venue client's fill and order hubs."""

    def __init__(self, client: StreamedClient, *, poll_seconds: float = 2.0) -> None:
        self.client = client
        self.poll_seconds = poll_seconds
        self.backoff = Backoff(initial=0.2, maximum=10.0)
        self.failures = 0
        """Stream failures so far (each one triggers a recovery poll)."""
        self._tasks = self._supervisor()
        self._bodies: dict[str, Callable[[], Awaitable[None]]] = {}
        self._restarts = itertools.count()
        self.restarts = 0
        """Stream loops that died and were started again."""
        self._symbols: set[str] = set()
        self._seen_fills: set[str] = set()
        self._last_orders: dict[str, tuple[object, ...]] = {}
        self._since_ms = 0

    def watch_symbol(self, symbol: str) -> None:
        """Include ``symbol`` in fill recovery (the account trades it)."""
        self._symbols.add(symbol)

    async def start(self) -> None:
        exchange = self.client.exchange
        self._since_ms = int(exchange.milliseconds()) - RECOVERY_MARGIN_MS
        if exchange.has.get("watchMyTrades"):
            self._spawn("fills", self._watch_trades)
        else:
            self._spawn("fills-poll", self._poll_trades)
        if exchange.has.get("watchOrders"):
            self._spawn("orders", self._watch_orders)

    async def stop(self) -> None:
        """Cancel and await every stream loop (a fresh supervisor serves a later start)."""
        tasks, self._tasks = self._tasks, self._supervisor()
        self._bodies = {}
        await tasks.aclose()

    def _supervisor(self) -> TaskSupervisor:
        return TaskSupervisor(f"{self.client.name}-streams", on_failure=self._loop_died)

    def _spawn(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        self._bodies[name] = body
        self._tasks.spawn(self._keep_running(name, body), name=name)

    def _loop_died(self, name: str, error: BaseException) -> None:
        """A stream loop died (logged with its traceback): start it again after a backoff."""
        body = self._bodies.get(name)
        if body is None:
            return
        self.restarts += 1
        delay = self.backoff.delay(next(self._restarts))
        log.warning("ccxt_stream_restarted", venue=self.client.name, stream=name, retry_in=delay)
        self._tasks.spawn(self._restart(name, body, delay), name=name)

    async def _restart(self, name: str, body: Callable[[], Awaitable[None]], delay: float) -> None:
        await asyncio.sleep(delay)
        with contextlib.suppress(Exception):
            await self.recover()
        self.client._publish_reconnect()
        await self._keep_running(name, body)

    async def _keep_running(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        # ccxt mutates the current decimal context (see errors.translated): give this task,
        # and the WebSocket tasks ccxt starts from it, a copy of their own.
        decimal.setcontext(decimal.getcontext().copy())
        attempt = 0
        while True:
            try:
                await body()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a stream died: back off, then recover what it missed
                self.failures += 1
                delay = self.backoff.delay(attempt)
                log.warning(
                    "ccxt_stream_failed",
                    venue=self.client.name,
                    stream=name,
                    error=type(exc).__name__,
                    retry_in=round(delay, 3),
                )
                attempt += 1
                await asyncio.sleep(delay)
                with contextlib.suppress(Exception):
                    await self.recover()
                self.client._publish_reconnect()
            else:
                attempt = 0

    async def _watch_trades(self) -> None:
        exchange = self.client.exchange
        while True:
            for trade in await exchange.watch_my_trades():
                await self.publish_trade(trade)

    async def _watch_orders(self) -> None:
        exchange = self.client.exchange
        while True:
            for order in await exchange.watch_orders():
                self.publish_order(order)

    async def _poll_trades(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            await self.recover()

    async def recover(self) -> None:
        """Publish every trade since the last one seen that has not been published yet."""
        exchange = self.client.exchange
        since = self._since_ms
        for symbol in sorted(self._symbols):
            try:
                trades = await exchange.fetch_my_trades(self.client.ccxt_symbol(symbol), since)
            except ExchangeError:
                raise
            for trade in trades:
                await self.publish_trade(trade)

    async def publish_trade(self, trade: Unified) -> None:
        trade_id = str(trade.get("id"))
        if trade_id in self._seen_fills:
            return
        market = self.client.symbol_of(str(trade.get("symbol")))
        if market is None:
            return
        self._seen_fills.add(trade_id)
        self._symbols.add(market.symbol)
        order_id = trade.get("order")
        client_id = (
            await self.client.client_id_for_venue_order(market.symbol, str(order_id))
            if order_id is not None
            else None
        )
        fill = fill_from_ccxt(self.client.name, trade, market, client_id)
        timestamp = trade.get("timestamp")
        if timestamp is not None:
            self._since_ms = max(self._since_ms, int(str(timestamp)) - RECOVERY_MARGIN_MS)
        self.client._publish_fill(fill)

    def publish_order(self, raw: Unified) -> None:
        market = self.client.symbol_of(str(raw.get("symbol")))
        client_id = self.client.client_id_of(raw)
        if market is None or not client_id:
            return
        order = self.client._order(raw, market, client_id)
        state: tuple[Any, ...] = (order.status, order.filled_size, order.avg_fill_price)
        if self._last_orders.get(client_id) == state:
            return  # a repeated event: nothing changed
        self._last_orders[client_id] = state
        self.client._publish_order(order)
