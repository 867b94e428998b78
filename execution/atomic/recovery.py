"""Finish the atomic operations a dead process left running (run at start, before trading).

For each operation still ``running`` in the journal:

1. every order journaled under its ``operation_id`` is looked up on its venue by client order
   id: adopted with its real fills, cancelled if it still rests, marked ``failed`` if the venue
   never saw it (an order too recent to be sure is polled until ``grace`` has passed);
2. the legs are rebuilt from those orders and brought back to a hedged state: the fuller legs
   are closed down to the smaller one (reduce-only), or everything is unwound under the
   ``rollback`` policy. Recovery never chases (adds exposure): the market moved while we were
   dead, and the strategy can decide afresh whether it still wants the position;
3. positions are verified and the result concluded, exactly as a live operation.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog

from exchange_clients.clock import Clock, SystemClock
from exchange_clients.errors import OrderNotFound
from exchange_clients.types import Order, OrderStatus
from execution.atomic.executor import AtomicMultiOrderExecutor
from execution.atomic.legs import Leg
from execution.atomic.operations import StoredOperation
from execution.atomic.policy import AtomicTolerances, ImbalancePolicy
from execution.atomic.result import AtomicResult, LegResult
from execution.journal import JournaledOrder

log = structlog.get_logger(__name__)

POLL_SECONDS = 1.0


async def recover_operations(
    executor: AtomicMultiOrderExecutor,
    *,
    grace: timedelta = timedelta(seconds=30),
    clock: Clock | None = None,
) -> list[AtomicResult]:
    """Complete or unwind every unfinished operation; one result per operation."""
    clock = clock or SystemClock()
    results = []
    for stored in await executor.operations.unfinished():
        log.warning("recovering an interrupted atomic operation", operation_id=stored.operation_id)
        results.append(await _recover(executor, stored, grace, clock))
    return results


async def _recover(
    executor: AtomicMultiOrderExecutor,
    stored: StoredOperation,
    grace: timedelta,
    clock: Clock,
) -> AtomicResult:
    plan = stored.plan
    result = AtomicResult(
        stored.operation_id,
        [_leg_from_plan(data, plan) for data in plan["legs"]],
        recovered=True,
    )
    for entry in await executor.journal.of_operation(stored.operation_id):
        order = await _settle_order(executor, entry, grace, clock)
        leg = result.leg(entry.venue)
        if order is None:
            leg.rejected.append(entry.client_order_id)
        else:
            leg.apply(order)
    result.note(
        "recovered after a restart: "
        + ", ".join(f"{leg.leg.venue} holds {leg.net} of {leg.leg.size}" for leg in result.legs)
    )
    tolerances = _tolerances(plan["tolerances"])
    step = Decimal(plan["step"])
    error = None
    try:
        await executor.rebalance(result, tolerances, step)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.exception("recovery could not balance the legs", operation_id=stored.operation_id)
        result.note(f"error: {error}; unwinding")
        await executor.unwind_safely(result, tolerances)
    await executor.conclude(result, tolerances, step, error)
    return result


async def _settle_order(
    executor: AtomicMultiOrderExecutor,
    entry: JournaledOrder,
    grace: timedelta,
    clock: Clock,
) -> Order | None:
    """The order's true final state from its venue; None when it never reached the venue."""
    if entry.status in (OrderStatus.REJECTED, OrderStatus.FAILED):
        return None
    client = executor.clients[entry.venue]
    journal = executor.journal
    while True:
        try:
            order = await client.order_status(entry.symbol, client_order_id=entry.client_order_id)
            break
        except OrderNotFound:
            if entry.status.is_final:
                return entry.as_order()  # finished long ago; the venue has forgotten it
            if _age(entry.created_at, clock) > grace:
                await journal.mark(entry.client_order_id, OrderStatus.FAILED, "venue never saw it")
                return None
            await clock.sleep(POLL_SECONDS)
    if order.status.is_resting or order.status is OrderStatus.PENDING:
        try:
            order = await client.cancel_by_client_id(entry.symbol, entry.client_order_id)
        except OrderNotFound:
            order = await client.order_status(entry.symbol, client_order_id=entry.client_order_id)
    await journal.record_order(order)
    return order


def _age(created_at: datetime, clock: Clock) -> timedelta:
    return clock.now() - created_at


def _leg_from_plan(data: dict[str, Any], plan: dict[str, Any]) -> LegResult:
    leg = Leg.from_json(data)
    before = plan.get("positions_before", {}).get(leg.venue)
    reference = plan.get("reference_prices", {}).get(leg.venue)
    return LegResult(
        leg,
        reference_price=Decimal(reference) if reference is not None else None,
        position_before=Decimal(before) if before is not None else Decimal(0),
    )


def _tolerances(data: dict[str, Any]) -> AtomicTolerances:
    residual = data.get("max_residual")
    return AtomicTolerances(
        imbalance=ImbalancePolicy(data["imbalance"]),
        max_residual=Decimal(residual) if residual is not None else None,
        max_slippage=Decimal(data["max_slippage"]),
        close_attempts=int(data["close_attempts"]),
    )
