"""Finish the atomic operations a dead process left running, without holding up the start.

For each operation still ``running`` in the journal:

1. every order journaled under its ``operation_id`` is looked up on its venue by client order
   id - the venue's answer is the authority: adopted with its real fills (stored in ``fills``
   from the venue's history, else one synthetic fill), cancelled if it still rests, marked
   ``failed`` if the venue does not know it. Only an intent younger than ``grace`` (a request
   the dead process may still have had on the wire) is asked about again once the grace has
   passed;
2. the legs are rebuilt from those orders and finished by the operation's journaled kind:

   * an **open** is hedged down to the smaller leg (reduce-only) or unwound under
     ``rollback``. It is never chased: the market moved while we were dead, and the strategy
     can decide afresh. Every order recovery sends for an open reduces a leg, so it never
     leaves more net exposure than it found;
   * a **close** is finished toward flat on every leg (aggressive limit, then market,
     reduce-only, at most what the venue still holds) - never hedged "down" or rolled back,
     which would re-open a leg that is already flat and leave the other one naked;

3. positions are verified and the result concluded, exactly as a live operation.

:func:`start_recovery` returns as soon as it knows which operations are unfinished; the work
runs in the background, one task per symbol, and the executor's :class:`~.gate.SymbolGate`
holds those symbols until they are done - operations on them wait, everything else (the
control API, other symbols) goes on. :func:`recover_operations` waits for all of it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

import structlog

from core.clock import Clock, SystemClock
from core.errors import OrderNotFound
from database.types import utcnow
from exchange_clients.types import Order, OrderStatus
from execution.atomic.executor import AtomicMultiOrderExecutor
from execution.atomic.legs import Leg
from execution.atomic.operations import StoredOperation
from execution.atomic.policy import AtomicTolerances
from execution.atomic.result import AtomicResult, LegResult
from execution.journal import DEFAULT_GRACE, JournaledOrder, complete_fills
from execution.order_executor import ExecutionMode

log = structlog.get_logger(__name__)

MAX_POLL_SECONDS = 1.0


class Recovery:
    """Interrupted operations being finished in the background (see :func:`start_recovery`)."""

    def __init__(self, operations: list[StoredOperation], task: asyncio.Task[list[AtomicResult]]):
        self.operations = operations
        self._task = task

    @property
    def done(self) -> bool:
        return self._task.done()

    async def wait(self) -> list[AtomicResult]:
        """Every recovered operation's result (raises what recovery could not get past)."""
        return await asyncio.shield(self._task)

    async def close(self) -> None:
        """Stop (at shutdown): what is unfinished stays ``running`` for the next start."""
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def start_recovery(
    executor: AtomicMultiOrderExecutor,
    *,
    grace: timedelta = DEFAULT_GRACE,
    clock: Clock | None = None,
) -> Recovery:
    """Find the unfinished operations, hold their symbols, finish them in the background.

    ``grace`` is measured on the wall clock against each intent's journaled creation time
    (both are the database's time); ``clock`` only paces the waiting.
    """
    clock = clock or SystemClock()
    unfinished = await executor.operations.unfinished()
    by_symbol: dict[str, list[StoredOperation]] = defaultdict(list)
    for stored in unfinished:
        symbol = _symbol(stored)
        executor.gate.hold(symbol)
        by_symbol[symbol].append(stored)

    async def finish_symbol(symbol: str, operations: list[StoredOperation]) -> list[AtomicResult]:
        results: list[AtomicResult] = []
        for index, stored in enumerate(operations):
            log.warning(
                "recovering an interrupted atomic operation", operation_id=stored.operation_id
            )
            try:
                results.append(await _recover(executor, stored, grace, clock))
            except Exception:
                # The operation stays running and its symbol held (by the ones after it too):
                # trading a symbol whose state is unknown is how a naked leg grows. The next
                # start tries again.
                log.exception(
                    "recovery failed; the symbol stays held",
                    symbol=symbol,
                    operations=[op.operation_id for op in operations[index:]],
                )
                raise
            executor.gate.release(symbol)
        return results

    async def finish_all() -> list[AtomicResult]:
        groups = await asyncio.gather(
            *(finish_symbol(symbol, ops) for symbol, ops in by_symbol.items())
        )
        return [result for group in groups for result in group]

    task = asyncio.create_task(finish_all(), name="atomic-recovery")
    if unfinished:
        log.warning(
            "finishing interrupted atomic operations in the background",
            operations=[stored.operation_id for stored in unfinished],
            symbols=sorted(by_symbol),
        )
    return Recovery(unfinished, task)


async def recover_operations(
    executor: AtomicMultiOrderExecutor,
    *,
    grace: timedelta = DEFAULT_GRACE,
    clock: Clock | None = None,
) -> list[AtomicResult]:
    """Complete or unwind every unfinished operation and wait for it; one result each."""
    return await (await start_recovery(executor, grace=grace, clock=clock)).wait()


async def _recover(
    executor: AtomicMultiOrderExecutor,
    stored: StoredOperation,
    grace: timedelta,
    clock: Clock,
) -> AtomicResult:
    plan = stored.plan
    legs = [_leg_from_plan(data, plan) for data in plan["legs"]]
    result = AtomicResult(stored.operation_id, legs, recovered=True, closing=_closing(plan, legs))
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
    tolerances = AtomicTolerances.from_json(plan["tolerances"])
    step = Decimal(plan["step"])
    mode = ExecutionMode(plan.get("mode", ExecutionMode.MARKET.value))
    error = None
    try:
        await executor.rebalance(result, tolerances, step, mode)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.exception("recovery could not balance the legs", operation_id=stored.operation_id)
        result.note(f"error: {error}; unwinding")
        await executor.unwind_safely(result, tolerances, step, mode)
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
                order = entry.as_order()  # finished long ago; the venue has forgotten it
                await complete_fills(journal, client, order)
                return order
            left = grace - (utcnow() - entry.created_at)
            if left <= timedelta(0):
                await journal.mark(entry.client_order_id, OrderStatus.FAILED, "venue never saw it")
                return None
            # It may still be on the wire: ask again once the grace has passed.
            await clock.sleep(min(left.total_seconds(), MAX_POLL_SECONDS))
    if order.status.is_resting or order.status is OrderStatus.PENDING:
        try:
            order = await client.cancel_by_client_id(entry.symbol, entry.client_order_id)
        except OrderNotFound:
            order = await client.order_status(entry.symbol, client_order_id=entry.client_order_id)
    await journal.record_order(order)
    await complete_fills(journal, client, order)
    return order


def _symbol(stored: StoredOperation) -> str:
    return str(stored.plan["legs"][0]["symbol"])


def _closing(plan: dict[str, Any], legs: list[LegResult]) -> bool:
    """The journaled kind; plans written before it was recorded: a close has only
    reduce-only legs."""
    kind = plan.get("kind")
    if kind is not None:
        return bool(kind == "close")
    return all(leg.leg.reduce_only for leg in legs)


def _leg_from_plan(data: dict[str, Any], plan: dict[str, Any]) -> LegResult:
    leg = Leg.from_json(data)
    before = plan.get("positions_before", {}).get(leg.venue)
    reference = plan.get("reference_prices", {}).get(leg.venue)
    return LegResult(
        leg,
        reference_price=Decimal(reference) if reference is not None else None,
        position_before=Decimal(before) if before is not None else Decimal(0),
    )
