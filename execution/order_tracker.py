"""What each order of one venue is doing right now, from streams first and polling second.

The venue's order-update and fill streams are the fast path. Streams go quiet (dropped
socket, venue hiccup, a venue without a private stream), so a poller asks the venue by
client order id about every unfinished order that has been silent for ``silence_seconds``.
Reports are merged by :func:`execution.order_state.merge_order_state` (a final status
stays, ``pending_cancel`` yields only to a final status, fills never shrink). Also:

* fills arriving after a cancel are still applied, once (a cancel races with executions on
  every venue);
* an order the venue answers "not found" ``lost_after`` times in a row becomes *lost*, and is
  still polled: if it appears later (late indexing, a partitioned venue), it is adopted;
* a finished order stays readable (:meth:`OrderTracker.get`, late fills still applied) for
  ``keep_final_seconds`` after it finished, then is dropped: a bot that runs for months does
  not hold, nor walk on every poll, every order it ever placed. The poller only ever looks at
  unfinished orders.

Changes are journaled right behind the in-memory state, in order, batched into one
transaction per burst (write-behind): a fill wakes its waiters at once, without waiting for
the database - reacting fast is what hedges a leg - and :meth:`OrderTracker.flush` is the
barrier a caller awaits before relying on the journal. A crash between a change and its write
loses nothing that matters: the venue has the truth, and start-up reconciliation re-reads it
by client order id. What must be durable *before* acting - the intent of an order - is
written synchronously by the executor before it sends.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

import structlog

from core.clock import Clock, SystemClock
from core.errors import ExchangeError, OrderNotFound
from core.tasks import TaskSupervisor
from exchange_clients.base import BaseExchangeClient
from exchange_clients.streams import Subscription
from exchange_clients.types import Fill, Order, OrderStatus
from execution.journal import OrderJournal
from execution.order_state import is_stale_status, merge_order_state
from execution.venue_lookup import order_on_venue

log = structlog.get_logger(__name__)

WRITE_RETRY_SECONDS = 0.1
MAX_WRITE_RETRY_SECONDS = 5.0
KEEP_FINAL_SECONDS = 86_400.0
"""How long a finished order stays tracked. Callers read a final order right after waiting on
it, strategies at their next step (seconds later; a backtest's hourly step at most), and late
fills arrive within seconds of a cancel: a day covers all of them with a wide margin, while a
bot placing an order a second still holds a bounded number."""


@dataclass
class TrackedOrder:
    """The tracker's view of one order: the latest state plus the fills it has seen."""

    order: Order
    fills: dict[str, Fill] = field(default_factory=dict)
    last_heard: datetime | None = None
    not_found: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def status(self) -> OrderStatus:
        return self.order.status

    @property
    def filled_from_fills(self) -> Decimal:
        return sum((fill.size for fill in self.fills.values()), Decimal(0))


class OrderTracker:
    """Tracks the orders of one client (one account on one venue)."""

    def __init__(
        self,
        client: BaseExchangeClient,
        journal: OrderJournal | None = None,
        *,
        clock: Clock | None = None,
        use_streams: bool = True,
        poll_interval: float = 1.0,
        silence_seconds: float = 2.0,
        lost_after: int = 3,
        keep_final_seconds: float = KEEP_FINAL_SECONDS,
    ) -> None:
        self._client = client
        self._journal = journal
        self._clock = clock or SystemClock()
        self._use_streams = use_streams
        self._poll_interval = poll_interval
        self._silence_seconds = silence_seconds
        self._lost_after = lost_after
        self._keep_final = timedelta(seconds=keep_final_seconds)
        self._orders: dict[str, TrackedOrder] = {}
        # The poller's round: the orders not final yet, in the order they were tracked (the
        # order the venue is asked in, as when it walked every order and skipped the final).
        self._unfinished: dict[str, TrackedOrder] = {}
        # When each tracked order became final, oldest first: what the poller drops.
        self._finished_at: dict[str, datetime] = {}
        # Orders the venue finds by venue id only (adopted ones: execution.venue_lookup).
        self._by_venue_id: set[str] = set()
        # Stream consumers and the poller change the same orders; each change is computed
        # and journaled under this lock so a slower writer can't overwrite a newer state.
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        # Consumers, poller and journal writer: one that dies is logged with its traceback
        # (a tracker that silently stopped consuming fills would leave executions waiting).
        self._supervisor = TaskSupervisor(f"tracker:{client.name}")
        self._subscriptions: list[Subscription[Order] | Subscription[Fill]] = []
        # Write-behind journal queue: fills in arrival order, the latest state per order.
        self._unwritten_fills: list[Fill] = []
        self._unwritten_orders: dict[str, Order] = {}
        self._dirty = asyncio.Event()
        self._written = asyncio.Event()
        self._written.set()
        self._writer: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self._use_streams:
            updates, fills = self._client.order_updates(), self._client.fills()
            self._subscriptions = [updates, fills]
            self._tasks += [
                self._supervisor.spawn(self._consume_updates(updates), name="order updates"),
                self._supervisor.spawn(self._consume_fills(fills), name="fills"),
            ]
        self._tasks.append(self._supervisor.spawn(self._poll_forever(), name="poller"))

    async def stop(self, flush_timeout: float = 10.0) -> None:
        """Stop listening and polling; pending journal writes are finished first."""
        try:
            await asyncio.wait_for(self.flush(), flush_timeout)
        except TimeoutError:
            log.error(
                "journal writes still pending at stop; reconciliation will re-read them",
                orders=sorted(self._unwritten_orders),
            )
        if self._writer is not None:
            self._tasks.append(self._writer)
            self._writer = None
        for subscription in self._subscriptions:
            subscription.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def abandon(self) -> None:
        """Stop at once, dropping every change not yet journaled: what a killed process does.

        For crash tests and the recovery benchmark, which kill a stack in-process and start a
        fresh one on the same database and venues. :meth:`stop` afterwards does nothing.
        """
        for subscription in self._subscriptions:
            subscription.close()
        for task in [*self._tasks, *([self._writer] if self._writer is not None else [])]:
            task.cancel()
        self._subscriptions, self._tasks, self._writer = [], [], None
        self._unwritten_fills, self._unwritten_orders = [], {}
        self._written.set()

    # --- what callers use ------------------------------------------------------------------

    def track(self, order: Order) -> TrackedOrder:
        """Start tracking an order (as returned by the venue, or a pending placeholder)."""
        client_order_id = order.client_order_id
        tracked = self._orders.get(client_order_id)
        if tracked is None:
            now = self._clock.now()
            tracked = self._orders[client_order_id] = TrackedOrder(order=order, last_heard=now)
            if order.status.is_final:
                self._finished_at[client_order_id] = now
            else:
                self._unfinished[client_order_id] = tracked
        return tracked

    async def flush(self) -> None:
        """Return once every change seen so far is in the journal."""
        if self._journal is not None and not self._written.is_set():
            self._journal.expedite()
        await self._written.wait()

    def forget(self, client_order_id: str) -> None:
        """Stop tracking an order (the venue refused it, or its owner is done with it)."""
        self._orders.pop(client_order_id, None)
        self._unfinished.pop(client_order_id, None)
        self._finished_at.pop(client_order_id, None)
        self._by_venue_id.discard(client_order_id)

    def orders(self) -> dict[str, TrackedOrder]:
        """Every order tracked now, by client order id (a copy: safe to iterate and change):
        the unfinished ones and those finished less than ``keep_final_seconds`` ago."""
        return dict(self._orders)

    def unfinished(self) -> dict[str, TrackedOrder]:
        """The tracked orders not final yet - pending, resting, being cancelled - by client
        order id (a copy: safe to iterate and change). What a cancel-all, a kill or a count of
        resting orders needs, without copying the finished ones :meth:`orders` still keeps."""
        return dict(self._unfinished)

    def get(self, client_order_id: str) -> TrackedOrder:
        """A tracked order; KeyError once forgotten or finished ``keep_final_seconds`` ago."""
        return self._orders[client_order_id]

    def is_tracked(self, client_order_id: str) -> bool:
        """Whether the order is tracked now (without copying :meth:`orders`)."""
        return client_order_id in self._orders

    async def wait_final(self, client_order_id: str) -> Order:
        """Wait until the order is final; callers bound it with their own timeout."""
        tracked = self._orders[client_order_id]
        while not tracked.status.is_final:
            tracked.changed.clear()
            await tracked.changed.wait()
        return tracked.order

    async def apply_order(self, reported: Order) -> None:
        """Apply a state reported by the venue (stream, poll or request reply)."""
        async with self._lock:
            await self._apply_order(reported)

    async def _apply_order(self, reported: Order) -> None:
        tracked = self._orders.get(reported.client_order_id)
        if tracked is None:
            return  # not ours to track (another component's order on the same account)
        tracked.last_heard = self._clock.now()
        tracked.not_found = 0
        current = tracked.order
        if reported == current:
            # What a poll of a quiet order mostly hears: the merge would give it back unchanged.
            return
        if is_stale_status(current, reported):
            log.info(
                "late state for a finished order kept as-is",
                client_order_id=current.client_order_id,
                kept=current.status,
                reported=reported.status,
            )
        await self._set(tracked, merge_order_state(current, reported))

    async def apply_fill(self, fill: Fill) -> None:
        """Apply one execution, once, even when it arrives after the order was cancelled."""
        async with self._lock:
            await self._apply_fill(fill)

    async def _apply_fill(self, fill: Fill) -> None:
        tracked = self._orders.get(fill.client_order_id or "")
        if tracked is None or fill.fill_id in tracked.fills:
            return
        tracked.fills[fill.fill_id] = fill
        tracked.last_heard = self._clock.now()
        if self._journal is not None:
            self._unwritten_fills.append(fill)
            self._schedule_write()
        filled = tracked.filled_from_fills
        current = tracked.order
        if filled > current.filled_size:
            notional = sum((f.price * f.size for f in tracked.fills.values()), Decimal(0))
            status = current.status
            if not status.is_final:
                status = (
                    OrderStatus.FILLED if filled >= current.size else OrderStatus.PARTIALLY_FILLED
                )
            await self._set(
                tracked,
                replace(
                    current,
                    filled_size=filled,
                    avg_fill_price=notional / filled,
                    fee_paid=sum((f.fee for f in tracked.fills.values()), Decimal(0)),
                    status=status,
                ),
            )

    async def mark_cancel_requested(self, client_order_id: str) -> None:
        async with self._lock:
            tracked = self._orders[client_order_id]
            if tracked.status.is_resting or tracked.status is OrderStatus.PENDING:
                await self._set(tracked, replace(tracked.order, status=OrderStatus.PENDING_CANCEL))

    # --- internals -------------------------------------------------------------------------

    async def _set(self, tracked: TrackedOrder, order: Order) -> None:
        """Publish the new state and queue it for the journal (see :meth:`flush`)."""
        if order == tracked.order:
            return
        finishes = order.status.is_final and not tracked.order.status.is_final
        tracked.order = order
        if finishes and self._unfinished.pop(order.client_order_id, None) is not None:
            self._finished_at[order.client_order_id] = self._clock.now()
        tracked.changed.set()
        if self._journal is not None:
            self._unwritten_orders[order.client_order_id] = order
            self._schedule_write()

    def _schedule_write(self) -> None:
        self._written.clear()
        self._dirty.set()
        if self._writer is None or self._writer.done():
            self._writer = self._supervisor.spawn(self._write_forever(), name="journal writer")

    async def _write_forever(self) -> None:
        """Write queued changes in order, one transaction per batch; retry until written."""
        assert self._journal is not None
        backoff = WRITE_RETRY_SECONDS
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            fills, orders = self._unwritten_fills, self._unwritten_orders
            self._unwritten_fills, self._unwritten_orders = [], {}
            try:
                await self._journal.record_changes(fills, list(orders.values()), deferred=True)
                backoff = WRITE_RETRY_SECONDS
            except Exception:
                # Keep them, older under newer, and try again: a journal write is never dropped.
                log.exception("journal write failed; retrying", orders=sorted(orders))
                self._unwritten_fills = fills + self._unwritten_fills
                self._unwritten_orders = {**orders, **self._unwritten_orders}
                self._dirty.set()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_WRITE_RETRY_SECONDS)
                continue
            if not self._unwritten_fills and not self._unwritten_orders:
                self._written.set()

    async def _consume_updates(self, updates: Subscription[Order]) -> None:
        async for order in updates:
            try:
                await self.apply_order(order)
            except Exception:
                # One update that cannot be applied must not stop the stream: the poller
                # re-reads the order from the venue once it has been silent long enough.
                log.exception("order update not applied", client_order_id=order.client_order_id)

    async def _consume_fills(self, fills: Subscription[Fill]) -> None:
        async for fill in fills:
            try:
                await self.apply_fill(fill)
            except Exception:
                log.exception("fill not applied", client_order_id=fill.client_order_id)

    async def _poll_forever(self) -> None:
        while True:
            await self._clock.sleep(self._poll_interval)
            await self.poll_once()

    async def poll_once(self) -> None:
        """Ask the venue about every unfinished order that has been silent too long; drop
        the orders finished more than ``keep_final_seconds`` ago."""
        now = self._clock.now()
        self._drop_finished(now - self._keep_final)
        for tracked in list(self._unfinished.values()):
            if tracked.status.is_final:
                continue
            silent_for = (now - tracked.last_heard).total_seconds() if tracked.last_heard else None
            if silent_for is not None and silent_for < self._silence_seconds:
                continue
            order = tracked.order
            try:
                reported = await order_on_venue(
                    self._client,
                    order.symbol,
                    order.client_order_id,
                    order.venue_order_id,
                    by_venue_id=self._by_venue_id,
                )
            except OrderNotFound:
                async with self._lock:
                    tracked.not_found += 1
                    if tracked.not_found >= self._lost_after and tracked.status in (
                        OrderStatus.PENDING,
                        OrderStatus.OPEN,
                        OrderStatus.PARTIALLY_FILLED,
                        OrderStatus.PENDING_CANCEL,
                    ):
                        log.warning("order lost", client_order_id=order.client_order_id)
                        await self._set(tracked, replace(tracked.order, status=OrderStatus.LOST))
                continue
            except ExchangeError as exc:
                log.warning("poll failed", client_order_id=order.client_order_id, error=str(exc))
                continue
            await self.apply_order(reported)

    def _drop_finished(self, before: datetime) -> None:
        """Forget the orders that became final before ``before`` (oldest first, so the walk
        stops at the first one still kept)."""
        finished = self._finished_at
        while finished:
            client_order_id, at = next(iter(finished.items()))
            if at >= before:
                return
            del finished[client_order_id]
            self._orders.pop(client_order_id, None)
            self._by_venue_id.discard(client_order_id)
