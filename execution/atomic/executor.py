"""Open (or close) hedged legs on several venues as one operation: all of them, or none.

``AtomicMultiOrderExecutor.execute(legs, mode, tolerances)``:

1. **Preflight** (:mod:`.preflight`): sizes on every venue's grid, minimums, depth, leverage,
   margin. A failure sends nothing and is recorded as ``preflight_failed``.
2. **Plan journaled** (:mod:`.operations`) before the first order, with each venue's position.
3. **Entries sent concurrently**, one per leg, in ``mode`` (MARKET, LIMIT post-only at the
   touch, or AGGRESSIVE_LIMIT). Orders are journaled before sending and tracked by events
   (:mod:`execution.order_tracker`), polled when a stream is silent.
4. **Uneven legs** are handled by ``tolerances.imbalance``: a leg still resting
   ``lag_timeout_seconds`` after another completed is cancelled; then lagging legs are
   chased (aggressive limit, then market) — at once when another leg is already complete —
   or the fuller legs are hedged down to the smaller one, or everything is rolled back
   (cancel all, close what filled with reduce-only orders). A chase that cannot fill falls
   back to hedging down (which closes the filled leg when the other never filled); an error
   mid-way rolls everything back.
5. **Verified** from the venues' positions (before vs after), concluded once, journaled. A
   result that leaves net exposure beyond tolerance is ``failed`` and raises an alert.

A process killed anywhere in 3-4 leaves the operation ``running`` with its orders journaled;
:func:`execution.atomic.recovery.recover_operations` finishes it on the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import structlog

from core.clock import Clock, SystemClock
from core.errors import OrderNotFound, RiskLimitBreached
from exchange_clients.base import BaseExchangeClient
from exchange_clients.rounding import round_price, round_to_step
from exchange_clients.types import Order, OrderRequest, OrderStatus, OrderType, opposite
from execution.atomic.gate import SymbolGate
from execution.atomic.legs import Leg, check_legs
from execution.atomic.operations import OperationStore
from execution.atomic.policy import (
    ENTRY_MODES,
    SEQUENCED_MODES,
    AtomicTolerances,
    ImbalancePolicy,
    hedge_limit,
)
from execution.atomic.preflight import PreflightReport, preflight
from execution.atomic.result import AtomicResult, AtomicStatus, LegResult
from execution.client_ids import ClientOrderIds
from execution.fill_history import venue_fills
from execution.journal import OrderJournal
from execution.order_executor import ExecutionMode, ExecutionRequest, ExecutionResult, OrderExecutor
from execution.order_tracker import OrderTracker
from execution.pre_trade import PreTradeGate
from execution.pricing import AggressiveLimitParams, aggressive_limit_price

log = structlog.get_logger(__name__)

ZERO = Decimal(0)
VERIFY_ATTEMPTS = 3
VERIFY_PAUSE_SECONDS = 0.5
MAKER_REPRICES = 3  # a sequenced lead's post-only order re-priced when the book moved under it

Alert = Callable[[AtomicResult], Awaitable[None]]


class AtomicMultiOrderExecutor:
    """Atomic multi-leg execution over one client (and its tracker) per venue."""

    def __init__(
        self,
        clients: Mapping[str, BaseExchangeClient],
        trackers: Mapping[str, OrderTracker],
        journal: OrderJournal,
        operations: OperationStore,
        ids: ClientOrderIds,
        *,
        clock: Clock | None = None,
        alert: Alert | None = None,
        pre_trade: PreTradeGate | None = None,
    ) -> None:
        self._clients = dict(clients)
        # Opening operations meet the pre-trade gate leg by leg before anything is sent; once
        # approved as a whole, the hedging orders that complete them are not re-checked (a
        # refusal half-way would leave a leg naked). Its own executors therefore have no gate.
        self._pre_trade = pre_trade
        self._trackers = dict(trackers)
        self._journal = journal
        self._operations = operations
        self._ids = ids
        self._clock = clock or SystemClock()
        self._alert = alert
        self.gate = SymbolGate()  # symbols recovery is still finishing (see recovery.py)
        self._executors = {
            venue: OrderExecutor(client, journal, self._trackers[venue], ids, clock=self._clock)
            for venue, client in self._clients.items()
        }

    @property
    def clients(self) -> Mapping[str, BaseExchangeClient]:
        return self._clients

    async def _refused_by_gate(self, legs: Sequence[Leg]) -> list[str]:
        """What the pre-trade gate refuses among ``legs`` (each as the order it would be)."""
        if self._pre_trade is None:
            return []
        refused = []
        for leg in legs:
            order = OrderRequest(
                symbol=leg.symbol,
                side=leg.side,
                size=leg.size,
                order_type=OrderType.MARKET,
                client_order_id="pre-trade-check",
                reduce_only=leg.reduce_only,
            )
            try:
                await self._pre_trade.check(self._clients[leg.venue], order)
            except RiskLimitBreached as exc:
                refused.append(str(exc))
        return refused

    def resolving(self, symbol: str) -> bool:
        """True while recovery is still finishing an interrupted operation on ``symbol``:
        an operation on it waits; a strategy may rather skip the symbol for now."""
        return self.gate.resolving(symbol)

    @property
    def journal(self) -> OrderJournal:
        return self._journal

    @property
    def operations(self) -> OperationStore:
        return self._operations

    async def execute(
        self,
        legs: Sequence[Leg],
        mode: ExecutionMode = ExecutionMode.MARKET,
        tolerances: AtomicTolerances | None = None,
        *,
        purpose: str = "atomic",
        closing: bool | None = None,
    ) -> AtomicResult:
        """Run one operation to its end; the result says what happened (see module doc).

        ``closing`` says the operation reduces or closes positions (default: when every leg is
        reduce-only, which a close must be). It is journaled with the plan, so recovery after a
        crash finishes a close the only safe way - toward flat on every leg.
        """
        tolerances = tolerances or AtomicTolerances()
        check_legs(legs)
        sequenced = tolerances.sequenced and mode is not ExecutionMode.MARKET
        if mode not in (SEQUENCED_MODES if sequenced else ENTRY_MODES):
            raise ValueError(
                f"atomic entries are market, limit or aggressive_limit (or, sequenced, "
                f"limit_with_fallback), not {mode}"
            )
        all_reduce_only = all(leg.reduce_only for leg in legs)
        if closing is None:
            closing = all_reduce_only
        elif closing and not all_reduce_only:
            raise ValueError("a closing operation must have reduce-only legs only")
        await self.gate.wait(legs[0].symbol)  # recovery of this symbol finishes first
        operation_id = f"op-{self._ids.next()}"
        report = await preflight(legs, self._clients, tolerances)
        result = AtomicResult(
            operation_id, [_leg_result(leg, report) for leg in report.legs], closing=closing
        )
        plan = _plan(report, mode, tolerances, closing)
        if report.ok and not closing:
            report.problems.extend(await self._refused_by_gate(report.legs))
        if not report.ok:
            result.problems.extend(report.problems)
            result.conclude(AtomicStatus.PREFLIGHT_FAILED)
            await self._operations.refused(operation_id, purpose, plan, result)
            log.warning(
                "atomic preflight failed", operation_id=operation_id, problems=report.problems
            )
            return result
        assert report.step is not None
        await self._operations.begin(operation_id, purpose, plan)
        log.info(
            "atomic operation started",
            operation_id=operation_id,
            mode=mode.value,
            legs=[f"{leg.side} {leg.size} {leg.symbol} on {leg.venue}" for leg in report.legs],
        )
        error: str | None = None
        try:
            if sequenced:
                await self._open_sequenced(result, mode, tolerances, report)
            else:
                await self._open(result, mode, tolerances, report)
            await self.rebalance(result, tolerances, report.step, mode)
        except Exception as exc:  # a venue outage or a bug: never leave a naked leg behind
            error = f"{type(exc).__name__}: {exc}"
            log.exception("atomic operation failed mid-way; unwinding", operation_id=operation_id)
            result.note(f"error: {error}; unwinding")
            await self.unwind_safely(result, tolerances, report.step, mode)
        await self.conclude(result, tolerances, report.step, error)
        return result

    # --- entry -----------------------------------------------------------------------------

    async def _open(
        self,
        result: AtomicResult,
        mode: ExecutionMode,
        tolerances: AtomicTolerances,
        report: PreflightReport,
    ) -> None:
        legs = result.legs
        interrupts = {leg.leg.venue: asyncio.Event() for leg in legs}
        some_leg_complete = asyncio.Event()
        entries_done = asyncio.Event()
        pending_entries = len(legs)
        timers: list[asyncio.Task[None]] = []

        def entry_finished(leg: LegResult) -> None:
            nonlocal pending_entries
            pending_entries -= 1
            if pending_entries == 0:
                entries_done.set()
            if leg.done and not some_leg_complete.is_set():
                some_leg_complete.set()
                for other in legs:
                    if other is not leg:
                        timers.append(
                            asyncio.create_task(
                                self._interrupt_after(
                                    interrupts[other.leg.venue], tolerances.lag_timeout_seconds
                                )
                            )
                        )

        async def run(leg: LegResult) -> None:
            venue = leg.leg.venue
            entry = self._entry_request(leg, mode, tolerances, report, result.operation_id)
            executed = await self._executors[venue].execute(
                entry, interrupt=interrupts[venue], flush=False
            )
            self._absorb(leg, executed)
            entry_finished(leg)
            if leg.done or tolerances.imbalance is not ImbalancePolicy.CHASE:
                return
            # Chase at once when another leg is already complete; otherwise only once every
            # entry has ended and something filled somewhere (chasing a leg whose partner
            # failed too would create the very exposure we are trying to avoid).
            await _first(some_leg_complete.wait(), entries_done.wait())
            if not any(other.net > 0 or other.flat for other in legs):
                return
            result.note(f"{venue}: lagging at {leg.net} of {leg.leg.size}; chasing")
            await self._chase(leg, mode, tolerances, report, result)

        outcomes = await asyncio.gather(*(run(leg) for leg in legs), return_exceptions=True)
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
        await self._refresh(result)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _open_sequenced(
        self,
        result: AtomicResult,
        mode: ExecutionMode,
        tolerances: AtomicTolerances,
        report: PreflightReport,
    ) -> None:
        """Maker entry: the lead leg first, then the others sized and priced to what it did.

        The lead (``legs[0]``) rests post-only inside the spread for
        ``entry_timeout_seconds``; in LIMIT_WITH_FALLBACK its remainder then goes at market,
        in AGGRESSIVE_LIMIT through ``tolerances.chase.attempts`` aggressive limits re-priced
        at the touch and then market. The other legs are sent for what the lead filled
        (never more than their own size), each capped at :func:`.policy.hedge_limit`; in LIMIT
        a hedge is one limit at that cap, otherwise aggressive limits up to it and a market
        order for what they leave (an unhedged leg costs more than a worse price). Whatever
        stays uneven is the imbalance policy's, in :meth:`rebalance`.
        """
        assert report.step is not None
        lead, hedges = result.legs[0], result.legs[1:]
        await self._lead(lead, mode, tolerances, report.step, result.operation_id)
        await self._refresh(result)
        filled = round_to_step(lead.net, report.step)
        if filled <= 0:
            result.note(f"{lead.leg.venue}: the lead leg filled nothing; nothing to follow")
            return
        lead_fill = lead.entry_price if lead.net > 0 else None
        result.note(f"{lead.leg.venue}: lead filled {filled}; following with the other legs")
        await asyncio.gather(
            *(
                self._follow(
                    hedge, min(filled, hedge.leg.size), lead, lead_fill, mode, tolerances, result
                )
                for hedge in hedges
            )
        )
        await self._refresh(result)

    async def _lead(
        self,
        lead: LegResult,
        mode: ExecutionMode,
        tolerances: AtomicTolerances,
        step: Decimal,
        operation_id: str,
    ) -> None:
        """The lead leg: post-only inside the spread, then its remainder per ``mode``.

        A post-only order the venue refuses because the book moved under it (it would have
        crossed) is re-priced from the new book, up to ``MAKER_REPRICES`` times.
        """
        executor = self._executors[lead.leg.venue]
        base: dict[str, Any] = {
            "symbol": lead.leg.symbol,
            "side": lead.leg.side,
            "reduce_only": lead.leg.reduce_only,
            "purpose": "entry",
            "operation_id": operation_id,
        }

        def remaining() -> Decimal:
            return ZERO if lead.done else round_to_step(lead.remaining, step)

        for _ in range(MAKER_REPRICES):
            if remaining() <= 0:
                return
            executed = await executor.execute(
                ExecutionRequest(
                    **base,
                    size=remaining(),
                    mode=ExecutionMode.LIMIT,
                    price=await self._inside_price(lead.leg, tolerances),
                    post_only=True,
                    timeout_seconds=tolerances.entry_timeout_seconds,
                ),
                flush=False,
            )
            self._absorb(lead, executed)
            if executed.orders or not executed.rejected:
                break  # it rested (filled or not): the maker part is over
        if mode is ExecutionMode.LIMIT or remaining() <= 0:
            return
        if mode is ExecutionMode.LIMIT_WITH_FALLBACK:
            fallback = ExecutionRequest(**base, size=remaining(), mode=ExecutionMode.MARKET)
        else:
            fallback = ExecutionRequest(
                **base,
                size=remaining(),
                mode=ExecutionMode.AGGRESSIVE_LIMIT,
                aggressive=tolerances.chase,
                attempt_timeout_seconds=tolerances.chase_attempt_timeout_seconds,
            )
        self._absorb(lead, await executor.execute(fallback, flush=False))

    async def _inside_price(self, leg: Leg, tolerances: AtomicTolerances) -> Decimal:
        """One tick inside the spread on the leg's side (the touch when the spread is a tick)."""
        client = self._clients[leg.venue]
        market = await client.market(leg.symbol)
        bid, ask = await client.best_bid_ask(leg.symbol)
        return aggressive_limit_price(leg.side, 1, bid, ask, market, tolerances.chase).price

    async def _follow(
        self,
        hedge: LegResult,
        size: Decimal,
        lead: LegResult,
        lead_fill: Decimal | None,
        mode: ExecutionMode,
        tolerances: AtomicTolerances,
        result: AtomicResult,
    ) -> None:
        """Send one hedge leg for ``size``, capped at the break-even price against the lead."""
        leg = hedge.leg
        cap: Decimal | None = None
        if (
            lead_fill is not None
            and lead.reference_price is not None
            and hedge.reference_price is not None
        ):
            cap = hedge_limit(lead_fill, lead.reference_price, hedge.reference_price)
        base: dict[str, Any] = {
            "symbol": leg.symbol,
            "side": leg.side,
            "size": size,
            "reduce_only": leg.reduce_only,
            "purpose": "hedge_entry",
            "operation_id": result.operation_id,
        }
        if cap is not None and cap <= 0:
            cap = None  # a nonsensical anchor (no price): fall back to the uncapped path
        if mode is ExecutionMode.LIMIT and cap is not None:
            market = await self._clients[leg.venue].market(leg.symbol)
            request = ExecutionRequest(
                **base,
                mode=ExecutionMode.LIMIT,
                price=round_price(market, cap, leg.side),
                timeout_seconds=tolerances.entry_timeout_seconds,
            )
        else:
            aggressive = tolerances.chase
            if cap is not None:
                aggressive = AggressiveLimitParams(
                    attempts=aggressive.attempts,
                    inside_ticks=aggressive.inside_ticks,
                    through_ticks=aggressive.through_ticks,
                    max_adverse_pct=Decimal(0),
                )
            request = ExecutionRequest(
                **base,
                mode=ExecutionMode.AGGRESSIVE_LIMIT,
                aggressive=aggressive,
                attempt_timeout_seconds=tolerances.chase_attempt_timeout_seconds,
                reference_price=cap,
            )
        result.note(f"{leg.venue}: following {size} capped at {cap}")
        self._absorb(hedge, await self._executors[leg.venue].execute(request, flush=False))

    def _entry_request(
        self,
        leg: LegResult,
        mode: ExecutionMode,
        tolerances: AtomicTolerances,
        report: PreflightReport,
        operation_id: str,
    ) -> ExecutionRequest:
        base: dict[str, Any] = {
            "symbol": leg.leg.symbol,
            "side": leg.leg.side,
            "size": leg.leg.size,
            "reduce_only": leg.leg.reduce_only,
            "purpose": "entry",
            "operation_id": operation_id,
        }
        if mode is ExecutionMode.LIMIT:
            book = report.venues[leg.leg.venue].book
            passive = book.best_bid if leg.leg.side == "buy" else book.best_ask
            return ExecutionRequest(
                **base,
                mode=mode,
                price=passive,
                post_only=True,
                timeout_seconds=tolerances.entry_timeout_seconds,
            )
        if mode is ExecutionMode.AGGRESSIVE_LIMIT:
            return ExecutionRequest(
                **base,
                mode=mode,
                aggressive=tolerances.chase,
                attempt_timeout_seconds=tolerances.chase_attempt_timeout_seconds,
            )
        return ExecutionRequest(**base, mode=ExecutionMode.MARKET)

    async def _chase(
        self,
        leg: LegResult,
        mode: ExecutionMode,
        tolerances: AtomicTolerances,
        report: PreflightReport,
        result: AtomicResult,
    ) -> None:
        assert report.step is not None
        remaining = round_to_step(leg.remaining, report.step)
        if remaining <= 0:
            return
        chase_mode = tolerances.chase_mode_after(mode)
        reference = _reference_price(result, leg)
        aggressive = tolerances.chase
        if reference is not None and aggressive.max_adverse_pct is None:
            aggressive = type(aggressive)(
                attempts=aggressive.attempts,
                inside_ticks=aggressive.inside_ticks,
                through_ticks=aggressive.through_ticks,
                max_adverse_pct=tolerances.max_slippage * 100,
            )
        request = ExecutionRequest(
            symbol=leg.leg.symbol,
            side=leg.leg.side,
            size=remaining,
            mode=chase_mode,
            aggressive=aggressive,
            attempt_timeout_seconds=tolerances.chase_attempt_timeout_seconds,
            reference_price=reference,
            reduce_only=leg.leg.reduce_only,
            purpose="chase",
            operation_id=result.operation_id,
        )
        self._absorb(leg, await self._executors[leg.leg.venue].execute(request, flush=False))

    async def _interrupt_after(self, interrupt: asyncio.Event, seconds: float) -> None:
        await self._clock.sleep(seconds)
        interrupt.set()

    # --- uneven legs -----------------------------------------------------------------------

    async def rebalance(
        self,
        result: AtomicResult,
        tolerances: AtomicTolerances,
        step: Decimal,
        mode: ExecutionMode = ExecutionMode.MARKET,
    ) -> None:
        """Bring uneven legs back to a hedged state.

        An open is hedged down or rolled back by the policy (never chased here: the market may
        have moved, and recovery must not add exposure). A close is finished toward flat on
        every leg whatever the policy: hedging a close "down" or rolling it back means buying
        back what was just sold on a flat leg - an order that re-opens exposure, which a
        reduce-only venue refuses, leaving the other leg naked.
        """
        if result.closing:
            await self._finish_close(result, tolerances, step, mode)
            return
        if all(leg.complete for leg in result.legs):
            return
        if all(leg.net == 0 for leg in result.legs):
            result.note("nothing filled on any leg")
            return
        if tolerances.imbalance is ImbalancePolicy.ROLLBACK:
            await self._unwind(result, tolerances)
            return
        # No rollback after a failed hedge-down: the legs it could not reduce are the fuller
        # ones, and closing the others would only add to the exposure. conclude() reports it.
        await self._hedge_to_smaller(result, tolerances, step)

    async def _hedge_to_smaller(
        self, result: AtomicResult, tolerances: AtomicTolerances, step: Decimal
    ) -> None:
        await self._cancel_resting(result)
        ratio = max(ZERO, min(leg.net / leg.leg.size for leg in result.legs))
        closes = []
        for leg in result.legs:
            excess = leg.net - round_to_step(ratio * leg.leg.size, step)
            if excess > 0:
                result.note(f"{leg.leg.venue}: closing excess {excess} to match the smaller leg")
                closes.append(self._close(leg, excess, "hedge", tolerances, result.operation_id))
        await asyncio.gather(*closes)

    async def _unwind(self, result: AtomicResult, tolerances: AtomicTolerances) -> None:
        """Rollback: cancel everything still resting, close every filled leg (reduce-only)."""
        await self._cancel_resting(result)
        closes = []
        for leg in result.legs:
            if leg.net > 0:
                result.note(f"{leg.leg.venue}: rolling back {leg.net}")
                closes.append(
                    self._close(leg, leg.net, "rollback", tolerances, result.operation_id)
                )
        await asyncio.gather(*closes)

    async def unwind_safely(
        self,
        result: AtomicResult,
        tolerances: AtomicTolerances,
        step: Decimal,
        mode: ExecutionMode = ExecutionMode.MARKET,
    ) -> None:
        """Roll back (a close: finish toward flat) after an error; a failure here is noted,
        the result still concludes."""
        try:
            await self._adopt_journaled(result)
            await self._refresh(result)
            if result.closing:
                await self._finish_close(result, tolerances, step, mode)
            else:
                await self._unwind(result, tolerances)
        except Exception as exc:
            log.exception("unwinding failed", operation_id=result.operation_id)
            result.note(f"unwinding failed: {type(exc).__name__}: {exc}")

    async def _close(
        self,
        leg: LegResult,
        size: Decimal,
        purpose: str,
        tolerances: AtomicTolerances,
        operation_id: str,
    ) -> None:
        """Reduce ``leg`` by ``size`` with reduce-only market orders, a few attempts."""
        target = leg.net - size
        for _ in range(tolerances.close_attempts):
            left = leg.net - target
            if left <= 0:
                return
            request = ExecutionRequest(
                symbol=leg.leg.symbol,
                side=opposite(leg.leg.side),
                size=left,
                mode=ExecutionMode.MARKET,
                reduce_only=True,
                purpose=purpose,
                operation_id=operation_id,
            )
            self._absorb(leg, await self._executors[leg.leg.venue].execute(request, flush=False))
            if leg.flat:
                return  # nothing left on the venue to reduce: never retried

    # --- finishing a close -----------------------------------------------------------------

    async def _finish_close(
        self,
        result: AtomicResult,
        tolerances: AtomicTolerances,
        step: Decimal,
        mode: ExecutionMode,
    ) -> None:
        """Chase every closing leg that is not done to its target or to flat.

        Nothing is done when no leg made progress (nothing closed, no position found gone):
        the legs are still hedged as before and the caller may try again. Otherwise a leg left
        open is naked against the closed ones, so it is closed - aggressive limit, then market,
        reduce-only, never more than the venue still holds.
        """
        await self._cancel_resting(result)
        if all(leg.done for leg in result.legs):
            return
        if not any(leg.net > 0 or leg.flat for leg in result.legs):
            result.note("nothing closed on any leg; the positions are unchanged")
            return
        await asyncio.gather(
            *(
                self._chase_to_flat(leg, tolerances, step, mode, result.operation_id, result)
                for leg in result.legs
                if not leg.done
            )
        )

    async def _chase_to_flat(
        self,
        leg: LegResult,
        tolerances: AtomicTolerances,
        step: Decimal,
        mode: ExecutionMode,
        operation_id: str,
        result: AtomicResult,
    ) -> None:
        client = self._clients[leg.leg.venue]
        first = tolerances.chase_mode_after(mode)
        for attempt in range(tolerances.close_attempts):
            if leg.done:
                return
            position = await client.position(leg.leg.symbol)
            held = -leg.leg.direction * (position.size if position is not None else ZERO)
            if held <= 0:
                leg.flat = True
                result.note(f"{leg.leg.venue}: no position left to close")
                return
            size = round_to_step(min(leg.remaining, held), step)
            if size <= 0:
                return
            result.note(f"{leg.leg.venue}: closing the remaining {size} toward flat")
            request = ExecutionRequest(
                symbol=leg.leg.symbol,
                side=leg.leg.side,
                size=size,
                mode=first if attempt == 0 else ExecutionMode.MARKET,
                aggressive=tolerances.chase,
                attempt_timeout_seconds=tolerances.chase_attempt_timeout_seconds,
                reduce_only=True,
                purpose="close_chase",
                operation_id=operation_id,
            )
            self._absorb(leg, await self._executors[leg.leg.venue].execute(request, flush=False))

    async def _cancel_resting(self, result: AtomicResult) -> None:
        """Cancel every order of the operation that may still fill, and take its final state."""
        for leg in result.legs:
            client = self._clients[leg.leg.venue]
            tracker = self._trackers[leg.leg.venue]
            for client_id in leg.unfinished:
                with contextlib.suppress(KeyError):
                    await tracker.mark_cancel_requested(client_id)
                try:
                    order = await client.cancel_by_client_id(leg.leg.symbol, client_id)
                except OrderNotFound:
                    try:
                        order = await client.order_status(leg.leg.symbol, client_order_id=client_id)
                    except OrderNotFound:
                        continue  # never landed (or lost): the tracker keeps polling it
                await tracker.apply_order(order)
                leg.apply(_tracked(tracker, order))

    # --- bookkeeping -----------------------------------------------------------------------

    def _absorb(self, leg: LegResult, executed: ExecutionResult) -> None:
        tracker = self._trackers[leg.leg.venue]
        for order in executed.orders:
            leg.apply(_tracked(tracker, order))
        leg.rejected.extend(executed.rejected)
        if executed.flat:
            leg.flat = True
        for client_id in executed.unresolved:
            with contextlib.suppress(KeyError):
                leg.apply(tracker.get(client_id).order)

    async def _adopt_journaled(self, result: AtomicResult) -> None:
        """Add the operation's journaled orders the result does not know yet.

        A leg that raised mid-way never handed its orders back; the journal has every one.
        """
        for entry in await self._journal.of_operation(result.operation_id):
            leg = result.leg(entry.venue)
            if entry.client_order_id in leg.orders or entry.client_order_id in leg.rejected:
                continue
            if entry.status in (OrderStatus.REJECTED, OrderStatus.FAILED):
                leg.rejected.append(entry.client_order_id)
                continue
            try:
                order = self._trackers[entry.venue].get(entry.client_order_id).order
            except KeyError:
                order = entry.as_order()
            leg.apply(order)

    async def _refresh(self, result: AtomicResult) -> None:
        """Take the trackers' latest states (fills that arrived after a cancel included)."""
        await asyncio.sleep(0)  # let already-delivered stream events be applied
        for leg in result.legs:
            tracker = self._trackers[leg.leg.venue]
            for client_id in list(leg.orders):
                with contextlib.suppress(KeyError):
                    leg.apply(tracker.get(client_id).order)

    # --- the end ---------------------------------------------------------------------------

    async def conclude(
        self,
        result: AtomicResult,
        tolerances: AtomicTolerances,
        step: Decimal,
        error: str | None = None,
    ) -> None:
        """Verify from venue positions, decide the status once, journal it, alert if needed."""
        await self._refresh(result)
        # The journal catches up while the venues are asked for their positions.
        await asyncio.gather(self._verify(result), *(t.flush() for t in self._trackers.values()))
        limit = tolerances.max_residual if tolerances.max_residual is not None else step / 2
        on_target = False
        if result.closing:
            # A close is measured against its targets (each position moved toward zero by the
            # leg's size, never past it), so a leg found already flat counts as closed.
            residuals = [leg.close_residual() for leg in result.legs]
            known = [r for r in residuals if r is not None]
            residual = sum(known, ZERO) if len(known) == len(residuals) else None
            result.residual_exposure = residual
            exposed = residual is None or abs(residual) > limit
            on_target = residual is not None and all(abs(r) <= limit for r in known)
        else:
            residual = result.residual_exposure
            exposed = residual is None or abs(residual) > limit or abs(result.net_exposure) > limit
        unknown = [cid for leg in result.legs for cid in leg.unfinished]
        if unknown:
            result.note(f"orders still unresolved: {', '.join(unknown)}")
        if exposed or unknown or not result.verified:
            status = AtomicStatus.FAILED
        elif all(leg.complete for leg in result.legs) or on_target:
            status = AtomicStatus.COMPLETED
        elif all(leg.net == 0 for leg in result.legs):
            status = AtomicStatus.ROLLED_BACK  # (a close: nothing closed, still hedged)
        else:
            status = AtomicStatus.PARTIAL
        result.conclude(status)
        await self._complete_fills(result)
        # Fills the trackers received since the first flush are written now too: a process
        # killed after the operation ends would otherwise lose them for good (the orders are
        # final, so no start-up reconciliation looks at them again).
        await asyncio.gather(*(t.flush() for t in self._trackers.values()))
        await self._operations.finish(result, error)
        self._forget_final(result)
        fields = {
            "operation_id": result.operation_id,
            "status": status,
            "net_exposure": str(result.net_exposure),
            "residual_exposure": str(residual),
            "legs": {leg.leg.venue: str(leg.signed_net) for leg in result.legs},
            "orders": result.order_ids,
        }
        if status is AtomicStatus.FAILED:
            log.error("atomic operation left exposure", **fields, events=result.events)
            if self._alert is not None:
                try:
                    await self._alert(result)
                except Exception:
                    log.exception("the atomic-executor alert failed")
        else:
            log.info("atomic operation finished", **fields)

    async def _verify(self, result: AtomicResult) -> None:
        """Compare each venue's position change with the leg's fills; sum the changes."""
        for attempt in range(VERIFY_ATTEMPTS):
            try:
                positions = await asyncio.gather(
                    *(self._clients[leg.leg.venue].position(leg.leg.symbol) for leg in result.legs)
                )
            except Exception as exc:
                result.note(f"verification could not read positions: {exc}")
                result.verified = False
                return
            mismatches = []
            residual = ZERO
            for leg, position in zip(result.legs, positions, strict=True):
                leg.position_after = position.size if position is not None else ZERO
                change = leg.position_after - (leg.position_before or ZERO)
                residual += change
                if change != leg.signed_net:
                    mismatches.append(
                        f"{leg.leg.venue}: position changed by {change}, fills say {leg.signed_net}"
                    )
            result.residual_exposure = residual
            result.verified = not mismatches
            if not mismatches:
                return
            if attempt + 1 < VERIFY_ATTEMPTS:
                await self._clock.sleep(VERIFY_PAUSE_SECONDS)
        result.note("venue positions disagree with fills: " + "; ".join(mismatches))

    async def _complete_fills(self, result: AtomicResult) -> None:
        """Journal the venue's fills of orders whose fills the tracker never saw.

        A silent stream leaves an order's fills known only from polling (a filled size, no
        executions): realised PnL and every analytic built on ``fills`` would miss them. The
        venue's fill history has the real fill ids, so a stream event arriving later is still
        recorded once. Nothing synthetic here: a late stream fill would double it.
        """
        for leg in result.legs:
            tracker = self._trackers[leg.leg.venue]
            client = self._clients[leg.leg.venue]
            for client_id, order in leg.orders.items():
                if not order.filled_size:
                    continue
                try:
                    seen = tracker.get(client_id).filled_from_fills
                except KeyError:
                    seen = ZERO
                if seen >= order.filled_size:
                    continue
                try:
                    fills = await venue_fills(client, order.symbol, client_id)
                    if fills is not None:
                        await self._journal.record_recovered_fills(order, fills, synthetic=False)
                except Exception as exc:  # bookkeeping: never fail the operation over it
                    log.warning("could not complete fills", client_order_id=client_id, error=exc)

    def _forget_final(self, result: AtomicResult) -> None:
        for leg in result.legs:
            tracker = self._trackers[leg.leg.venue]
            for client_id, order in leg.orders.items():
                if order.status.is_final:
                    tracker.forget(client_id)


def _leg_result(leg: Leg, report: PreflightReport) -> LegResult:
    venue = report.venues.get(leg.venue)
    if venue is None:
        return LegResult(leg)
    position = venue.position
    return LegResult(
        leg,
        reference_price=venue.touch(leg),
        position_before=position.size if position is not None else ZERO,
    )


def _plan(
    report: PreflightReport, mode: ExecutionMode, tolerances: AtomicTolerances, closing: bool
) -> dict[str, Any]:
    """What recovery needs: the legs as sent, the policy, each venue's position before, and
    whether it is an open or a close (which decides the only safe direction after a crash)."""
    return {
        "kind": "close" if closing else "open",
        "mode": mode.value,
        "step": report.step,
        "legs": [leg.to_json() for leg in report.legs],
        "tolerances": tolerances.to_json(),
        "positions_before": {
            venue: (snap.position.size if snap.position is not None else ZERO)
            for venue, snap in report.venues.items()
        },
        "reference_prices": {
            leg.venue: report.venues[leg.venue].touch(leg)
            for leg in report.legs
            if leg.venue in report.venues
        },
    }


def _tracked(tracker: OrderTracker, order: Order) -> Order:
    """The tracker's state of ``order`` when it has one (it may be ahead of a reply)."""
    try:
        return tracker.get(order.client_order_id).order
    except KeyError:
        return order


def _reference_price(result: AtomicResult, chasing: LegResult) -> Decimal | None:
    """Average entry of the other legs: the break-even anchor of a chase."""
    size = notional = ZERO
    for leg in result.legs:
        if leg is chasing or leg.entry_price is None:
            continue
        size += leg.opened
        notional += leg.opened * leg.entry_price
    return notional / size if size else None


async def _first(*waits: Awaitable[Any]) -> None:
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
