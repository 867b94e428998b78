"""One facade for placing an order the way a strategy asks, safely.

Modes (``ExecutionMode``):

* ``MARKET`` — one market order.
* ``LIMIT`` — one limit order (optionally post-only) at the caller's price; what has not filled
  after ``timeout_seconds`` is cancelled.
* ``LIMIT_WITH_FALLBACK`` — ``LIMIT``, then a market order for the unfilled remainder only.
* ``AGGRESSIVE_LIMIT`` — limit attempts re-priced by :mod:`execution.pricing` (touch, inside the
  spread, through it; capped at break-even against ``reference_price``), each kept for
  ``attempt_timeout_seconds``; fills are kept between attempts; a final market order takes the
  remainder.

Every order goes through the same path: a fresh client order id, the intent committed to the
journal (or a client order id the journal committed ahead, :mod:`execution.reserved_ids`), the
send, then the tracker (journaled states). A send that times out is resolved by
asking the venue for that client order id — never by sending again under a new one. Fills are
counted from the tracker, so executions that race a cancel are still in the result.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

import structlog

from core.clock import Clock, SystemClock
from core.errors import (
    OrderNotFound,
    OrderRejected,
    PostOnlyWouldCross,
    ReduceOnlyRejected,
    RequestTimeout,
)
from exchange_clients.base import BaseExchangeClient
from exchange_clients.rounding import round_size
from exchange_clients.types import (
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TimeInForce,
)
from execution.client_ids import ClientOrderIds
from execution.journal import OrderIntent, OrderJournal
from execution.order_tracker import OrderTracker
from execution.pre_trade import PreTradeGate
from execution.pricing import AggressiveLimitParams, aggressive_limit_price
from execution.venue_lookup import cancel_on_venue, order_on_venue

log = structlog.get_logger(__name__)

ZERO = Decimal(0)
_DEFAULT_AGGRESSIVE = AggressiveLimitParams()


class ExecutionMode(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    LIMIT_WITH_FALLBACK = "limit_with_fallback"
    AGGRESSIVE_LIMIT = "aggressive_limit"


@dataclass(frozen=True)
class ExecutionRequest:
    symbol: str
    side: Side
    size: Decimal
    mode: ExecutionMode
    price: Decimal | None = None  # LIMIT and LIMIT_WITH_FALLBACK
    post_only: bool = False
    reduce_only: bool = False
    timeout_seconds: float = 30.0
    attempt_timeout_seconds: float = 5.0
    # Frozen, so one default serves every request (none built per order on the hot path).
    aggressive: AggressiveLimitParams = _DEFAULT_AGGRESSIVE
    reference_price: Decimal | None = None
    purpose: str | None = None
    operation_id: str | None = None

    @classmethod
    def closing(cls, position: Position, purpose: str) -> ExecutionRequest:
        """A reduce-only market order that closes ``position``."""
        return cls(
            position.symbol,
            "sell" if position.size > 0 else "buy",
            abs(position.size),
            ExecutionMode.MARKET,
            reduce_only=True,
            purpose=purpose,
        )

    def __post_init__(self) -> None:
        if self.size <= 0:
            raise ValueError(f"size must be positive, not {self.size}")
        needs_price = self.mode in (ExecutionMode.LIMIT, ExecutionMode.LIMIT_WITH_FALLBACK)
        if needs_price and (self.price is None or self.price <= 0):
            raise ValueError(f"{self.mode} needs a positive price")


@dataclass
class ExecutionResult:
    """What happened: every order sent (final states) and the totals over them."""

    request: ExecutionRequest
    orders: list[Order] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # client ids the venue refused
    unresolved: list[str] = field(default_factory=list)  # timed out, not found: tracked as lost
    # The venue refused a reduce-only order as one that would open or increase the position:
    # there is nothing left to reduce in this direction. Not a failure, and never retried.
    flat: bool = False
    # The venue refused a post-only order because the market had already moved through its
    # price: the limit could not rest, but the price it wanted is there to take.
    crossed: bool = False
    # Set by the caller to stop early: what rests is cancelled and nothing more is sent.
    interrupt: asyncio.Event = field(default_factory=asyncio.Event, repr=False, compare=False)

    @property
    def interrupted(self) -> bool:
        return self.interrupt.is_set()

    @property
    def filled_size(self) -> Decimal:
        return sum((o.filled_size for o in self.orders), ZERO)

    @property
    def remaining_size(self) -> Decimal:
        return self.request.size - self.filled_size

    @property
    def average_price(self) -> Decimal | None:
        filled = self.filled_size
        if not filled:
            return None
        notional = sum(
            (o.filled_size * o.avg_fill_price for o in self.orders if o.avg_fill_price), ZERO
        )
        return notional / filled

    @property
    def complete(self) -> bool:
        return self.remaining_size <= 0


class OrderExecutor:
    """Executes requests on one venue client, journaled and tracked."""

    def __init__(
        self,
        client: BaseExchangeClient,
        journal: OrderJournal,
        tracker: OrderTracker,
        ids: ClientOrderIds,
        *,
        clock: Clock | None = None,
        timeout_resolution_attempts: int = 5,
        gate: PreTradeGate | None = None,
    ) -> None:
        self._client = client
        # Every order this executor sends meets the gate first (risk limits in the order path).
        self.gate = gate
        self._journal = journal
        self._tracker = tracker
        self._ids = ids
        self._clock = clock or SystemClock()
        self._resolution_attempts = timeout_resolution_attempts

    async def execute(
        self,
        request: ExecutionRequest,
        *,
        interrupt: asyncio.Event | None = None,
        flush: bool = True,
    ) -> ExecutionResult:
        """Run ``request`` to its end; setting ``interrupt`` ends it early (see the result).

        With ``flush`` (the default) every state in the result is journaled when this returns;
        a caller that flushes the tracker itself later (the atomic executor) passes False.
        """
        result = ExecutionResult(request, interrupt=interrupt or asyncio.Event())
        if request.mode is ExecutionMode.MARKET:
            await self._market(result, request.size)
        elif request.mode is ExecutionMode.AGGRESSIVE_LIMIT:
            await self._aggressive(result)
        else:
            assert request.price is not None
            order = await self._limit(
                result, request.size, request.price, request.post_only, request.timeout_seconds
            )
            fallback = request.mode is ExecutionMode.LIMIT_WITH_FALLBACK
            # The remainder goes to market after a limit that rested and timed out, or one a
            # post-only check refused (the book moved through it); never after any other
            # refusal, nor after a send whose outcome is unknown (it may still fill).
            settled = order is not None or (result.crossed and not result.unresolved)
            if fallback and settled and not result.interrupted and not result.flat:
                await self._market(result, result.remaining_size)
        if flush:
            await self._tracker.flush()
        log.info(
            "execution finished",
            symbol=request.symbol,
            mode=request.mode,
            requested=str(request.size),
            filled=str(result.filled_size),
            orders=[o.client_order_id for o in result.orders],
        )
        return result

    # --- resting orders (strategies that manage their own orders, e.g. a grid) -------------

    async def submit(
        self,
        symbol: str,
        side: Side,
        size: Decimal,
        *,
        price: Decimal | None = None,
        post_only: bool = False,
        reduce_only: bool = False,
        purpose: str | None = None,
        operation_id: str | None = None,
    ) -> Order | None:
        """Journal, send and track one order without waiting for it to finish.

        A limit order when ``price`` is given (GTC), else a market order. None when the venue
        refused it (journaled as rejected). The tracker keeps its state from then on.
        """
        request = ExecutionRequest(
            symbol,
            side,
            size,
            ExecutionMode.LIMIT if price is not None else ExecutionMode.MARKET,
            price=price,
            post_only=post_only,
            reduce_only=reduce_only,
            purpose=purpose,
            operation_id=operation_id,
        )
        order_type = OrderType.LIMIT if price is not None else OrderType.MARKET
        return await self._send(
            ExecutionResult(request), order_type, size, price, post_only=post_only
        )

    async def place_stop(
        self,
        symbol: str,
        side: Side,
        size: Decimal,
        trigger_price: Decimal,
        *,
        purpose: str | None = None,
    ) -> Order | None:
        """Rest a reduce-only STOP_MARKET on the venue (a stop-loss that outlives this process).

        The same path as every order (client id journaled before it is sent, tracked after);
        None when the venue refused it. The caller checks ``supports_trigger_orders`` first:
        a venue without triggers refuses with ``InvalidOrder``.
        """
        request = ExecutionRequest(
            symbol, side, size, ExecutionMode.MARKET, reduce_only=True, purpose=purpose
        )
        return await self._send(
            ExecutionResult(request),
            OrderType.STOP_MARKET,
            size,
            None,
            post_only=False,
            trigger_price=trigger_price,
        )

    async def replace_stop(
        self,
        old_client_order_id: str,
        symbol: str,
        side: Side,
        size: Decimal,
        trigger_price: Decimal,
        *,
        purpose: str | None = None,
    ) -> Order | None:
        """Move a resting stop: the new one is placed first, then the old one cancelled.

        In that order the position is never without a stop; a crash in between leaves two
        reduce-only stops (the venue fills at most the position), which the owner's next
        sync cancels. When the new one is refused, the old one stays.
        """
        placed = await self.place_stop(symbol, side, size, trigger_price, purpose=purpose)
        if placed is not None:
            await self.cancel(symbol, old_client_order_id)
        return placed

    async def cancel(self, symbol: str, client_order_id: str) -> Order:
        """Cancel one tracked order and return its final state (fills included)."""
        tracker = self._tracker
        await tracker.mark_cancel_requested(client_order_id)
        # An adopted order may be known to the venue by its venue id only (venue_lookup).
        venue_id = (
            tracker.get(client_order_id).order.venue_order_id
            if tracker.is_tracked(client_order_id)
            else None
        )
        try:
            order = await cancel_on_venue(self._client, symbol, client_order_id, venue_id)
        except OrderNotFound:  # finished already: its final state
            order = await order_on_venue(self._client, symbol, client_order_id, venue_id)
        await tracker.apply_order(order)
        return tracker.get(client_order_id).order

    # --- modes -----------------------------------------------------------------------------

    async def _market(self, result: ExecutionResult, size: Decimal) -> None:
        if result.flat:
            return
        market = await self._client.market(result.request.symbol)
        size = round_size(market, size)
        if size < max(market.min_size, market.step_size):
            return  # nothing tradable left; the result reports the remainder
        order = await self._send(result, OrderType.MARKET, size, None, post_only=False)
        if order is not None:
            await self._settle(result, order, wait_seconds=result.request.attempt_timeout_seconds)

    async def _limit(
        self,
        result: ExecutionResult,
        size: Decimal,
        price: Decimal,
        post_only: bool,
        wait_seconds: float,
    ) -> Order | None:
        order = await self._send(result, OrderType.LIMIT, size, price, post_only=post_only)
        if order is not None:
            await self._settle(result, order, wait_seconds=wait_seconds)
        return order

    async def _aggressive(self, result: ExecutionResult) -> None:
        request = result.request
        market = await self._client.market(request.symbol)
        for attempt in range(request.aggressive.attempts):
            if result.interrupted or result.flat:
                return
            remaining = round_size(market, result.remaining_size)
            if remaining < max(market.min_size, market.step_size):
                return
            bid, ask = await self._client.best_bid_ask(request.symbol)
            decision = aggressive_limit_price(
                request.side, attempt, bid, ask, market, request.aggressive, request.reference_price
            )
            await self._limit(
                result,
                remaining,
                decision.price,
                decision.post_only,
                request.attempt_timeout_seconds,
            )
        if not result.interrupted and not result.flat:
            await self._market(result, result.remaining_size)

    # --- one order -------------------------------------------------------------------------

    async def _send(
        self,
        result: ExecutionResult,
        order_type: OrderType,
        size: Decimal,
        price: Decimal | None,
        *,
        post_only: bool,
        trigger_price: Decimal | None = None,
    ) -> Order | None:
        """Journal, send and start tracking one order; None when the venue refused it."""
        request = result.request
        # A client order id committed ahead when one is held for this kind of order: then no
        # database write stands between the decision and the send (execution.reserved_ids).
        # Never for an operation's leg or a trigger order (see there).
        reserved = self._journal.reserved_ids
        venue, purpose = self._client.name, request.purpose
        taken = None
        if reserved is not None and request.operation_id is None and trigger_price is None:
            taken = reserved.take(venue, request.symbol, purpose)
        client_id = taken or self._ids.next()
        venue_request = OrderRequest(
            symbol=request.symbol,
            side=request.side,
            size=size,
            order_type=order_type,
            client_order_id=client_id,
            price=price,
            post_only=post_only,
            reduce_only=request.reduce_only,
            time_in_force=TimeInForce.IOC if order_type is OrderType.MARKET else TimeInForce.GTC,
            trigger_price=trigger_price,
        )
        if self.gate is not None:  # refuses by raising RiskLimitBreached: nothing journaled
            try:
                await self.gate.check(self._client, venue_request)
            except BaseException:
                if taken is not None and reserved is not None:
                    reserved.give_back(venue, request.symbol, purpose, taken)
                raise
        intent = OrderIntent.for_request(
            venue_request, venue=venue, purpose=purpose, operation_id=request.operation_id
        )
        if taken is not None:
            self._journal.record_taken_intent(intent)
        else:
            await self._journal.record_intent(intent)
        # Tracked before sending: stream events can arrive before place_order returns.
        self._tracker.track(Order.pending(venue_request))
        try:
            order = await self._client.place_order(venue_request)
        except RequestTimeout:
            landed = await self._resolve_timeout(request.symbol, client_id)
            if landed is None:
                result.unresolved.append(client_id)
                return None  # still tracked (lost): the poller adopts it if it ever appears
            order = landed
        except OrderRejected as exc:
            self._tracker.forget(client_id)
            await self._journal.mark(client_id, OrderStatus.REJECTED, str(exc))
            result.rejected.append(client_id)
            if isinstance(exc, ReduceOnlyRejected):
                # Understood, not an error: the position this order would reduce is gone.
                result.flat = True
                log.info("reduce-only order found the position flat", client_order_id=client_id)
                return None
            result.crossed = isinstance(exc, PostOnlyWouldCross)
            level = "info" if result.crossed else "warning"
            getattr(log, level)("order rejected", client_order_id=client_id, reason=str(exc))
            return None
        await self._tracker.apply_order(order)
        return order

    async def _resolve_timeout(self, symbol: str, client_id: str) -> Order | None:
        """Find out whether a timed-out order landed, by its client order id."""
        for _ in range(self._resolution_attempts):
            try:
                return await self._client.order_status(symbol, client_order_id=client_id)
            except OrderNotFound:
                await self._clock.sleep(1)
        # Neither found nor refused: the tracker keeps polling it as lost.
        await self._journal.mark(client_id, OrderStatus.LOST, "send timed out, not found since")
        log.error("order outcome unknown after a timeout", client_order_id=client_id)
        return None

    async def _settle(self, result: ExecutionResult, order: Order, *, wait_seconds: float) -> None:
        """Wait for ``order`` to finish, cancelling what still rests after ``wait_seconds``."""
        client_id = order.client_order_id
        if not await self._wait_final(client_id, wait_seconds, result.interrupt):
            await self._tracker.mark_cancel_requested(client_id)
            try:
                cancelled = await self._client.cancel_by_client_id(order.symbol, client_id)
            except OrderNotFound:
                cancelled = await self._client.order_status(order.symbol, client_order_id=client_id)
            await self._tracker.apply_order(cancelled)
            await self._wait_final(client_id, wait_seconds, None)
        result.orders.append(self._tracker.get(client_id).order)

    async def _wait_final(
        self, client_id: str, wait_seconds: float, interrupt: asyncio.Event | None
    ) -> bool:
        """True when the order became final within ``wait_seconds`` of venue-clock time
        (and before ``interrupt`` was set).

        The venue's clock, not ``asyncio.timeout``: paper venues and tests run on a manual clock.
        """
        waiter = asyncio.ensure_future(self._tracker.wait_final(client_id))
        timer = asyncio.ensure_future(self._clock.sleep(wait_seconds))
        tasks: set[asyncio.Future[Any]] = {waiter, timer}
        if interrupt is not None:
            tasks.add(asyncio.ensure_future(interrupt.wait()))
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            return waiter.done()
        finally:
            for task in tasks:
                task.cancel()
            # Not ``suppress(CancelledError): await task``: that also swallows a cancellation
            # of *this* task arriving meanwhile, and a killed execution would trade on.
            await asyncio.gather(*tasks, return_exceptions=True)
