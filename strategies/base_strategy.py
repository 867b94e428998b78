"""The base of every strategy, and the context the runtime hands it.

A strategy decides; it never talks to a venue's order endpoints itself. Orders go through the
context's executors (journaled, tracked), hedged multi-venue operations through the atomic
executor, and every entry is first put to the risk manager. The runtime calls, in a loop:

* :meth:`BaseStrategy.should_execute` - cheap: is there anything to do now (paused, stopped,
  cooling down)?
* :meth:`BaseStrategy.execute_strategy` - one decision step;

and :meth:`BaseStrategy.start` once (restore saved state, adopt resting orders) and
:meth:`BaseStrategy.cleanup` on the way out. State is a JSON document saved to the database
(:class:`~strategies.state_store.StrategyStateStore`) whenever the strategy says it changed.

Positions closed from outside the strategy's own decisions (the control API's close and
close-all, ``fleet stop --close``) still go through it: :meth:`BaseStrategy.operator_close` and
:meth:`BaseStrategy.operator_close_all` call :meth:`BaseStrategy.close_position`, which a
strategy that keeps positions in its state overrides, so it books what the close realised and
forgets what it held. (Closed behind its back, funding arbitrage kept a pair the venues no
longer held and never re-entered that symbol; the grid's realised PnL ignored the close.)
Both run under :attr:`BaseStrategy.step_lock`, which the runtime holds around every step.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

import structlog

from core.clock import Clock
from exchange_clients.base import BaseExchangeClient
from exchange_clients.market_data.events import MarketFeed
from execution.atomic import AtomicMultiOrderExecutor
from execution.journal import JournaledOrder, OrderJournal
from execution.order_executor import ExecutionRequest, ExecutionResult, OrderExecutor
from execution.order_tracker import OrderTracker
from strategies.risk import RiskManager
from strategies.state_store import StrategyStateStore
from trading_config.schema import BotConfig
from trading_config.strategy_params import StrategyParams

P = TypeVar("P", bound=StrategyParams)


@dataclass
class StrategyContext:
    """Everything a strategy may use, built by the runtime (or a test) around real parts."""

    bot_name: str
    config: BotConfig
    clients: Mapping[str, BaseExchangeClient]
    executors: Mapping[str, OrderExecutor]
    trackers: Mapping[str, OrderTracker]
    atomic: AtomicMultiOrderExecutor
    journal: OrderJournal
    risk: RiskManager
    state_store: StrategyStateStore
    clock: Clock
    paused: asyncio.Event = field(default_factory=asyncio.Event)  # set = no new entries
    stop_requested: asyncio.Event = field(default_factory=asyncio.Event)
    # A backtest's market, per venue: a fresh feed of its history on the simulated clock.
    # A strategy that reads market data beyond its venue clients (the signal portfolio's
    # trade stream for candles) reads it from here instead of the live hosts; None when live.
    market_replay: Callable[[str], MarketFeed] | None = None


class BaseStrategy(ABC, Generic[P]):
    """One strategy instance of one bot."""

    name: ClassVar[str]
    interval_seconds: float = 1.0  # the runtime's loop period for this strategy

    def __init__(self, context: StrategyContext, params: P) -> None:
        self.context = context
        self.params = params
        self.log = structlog.get_logger(f"strategies.{self.name}").bind(bot=context.bot_name)
        # Held by the runtime around each step and by the operator's closes: a close never
        # runs half-way through a step (which would re-cover a position being closed).
        self.step_lock = asyncio.Lock()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Restore saved state; subclasses adopt their resting orders here (call super)."""
        saved = await self.context.state_store.load(self.name)
        if saved is not None:
            self.restore(saved.get("strategy", {}))
            self.context.risk.restore(saved.get("risk", {}))
            self.log.info("strategy state restored", keys=sorted(saved.get("strategy", {})))

    @abstractmethod
    async def should_execute(self) -> bool:
        """Whether :meth:`execute_strategy` has anything to do now."""

    @abstractmethod
    async def execute_strategy(self) -> None:
        """One decision step."""

    async def wait_next_step(self, sleep: Callable[[float], Awaitable[None]]) -> None:
        """Wait until the next step is due; the runtime calls it between steps with its own
        ``sleep`` (which returns early when the bot stops). A strategy that reacts to the
        book overrides it to also return when the book moves."""
        await sleep(self.interval_seconds)

    async def cleanup(self, *, cancel_orders: bool) -> list[str]:
        """On stop: cancel this strategy's resting orders unless told to keep them; save.
        The client ids cancelled (the runtime's stop summary counts them)."""
        cancelled = await self.cancel_resting() if cancel_orders else []
        await self.save_state()
        return cancelled

    # --- state -----------------------------------------------------------------------------

    @abstractmethod
    def state(self) -> dict[str, Any]:
        """JSON-ready state to resume from (Decimals and ISO datetimes are fine)."""

    @abstractmethod
    def restore(self, state: Mapping[str, Any]) -> None: ...

    async def save_state(self) -> None:
        """Save the strategy's state and the risk manager's (peak equity, pauses, kill)."""
        await self.context.state_store.save(
            self.name, {"strategy": self.state(), "risk": self.context.risk.state()}
        )

    # --- orders ----------------------------------------------------------------------------

    def keeps_resting(self, order: JournaledOrder) -> bool:
        """Whether a resting order found at start-up is still wanted (else it is cancelled)."""
        return False

    async def cancel_resting(self) -> list[str]:
        """Cancel every resting order this strategy placed; the client ids cancelled."""
        cancelled = []
        for venue, tracker in self.context.trackers.items():
            for client_id, tracked in tracker.unfinished().items():
                if tracked.status.is_resting or tracked.status.value == "pending":
                    await self.context.executors[venue].cancel(tracked.order.symbol, client_id)
                    cancelled.append(client_id)
        return cancelled

    # --- closes asked from outside ------------------------------------------------------

    async def close_position(self, venue: str, request: ExecutionRequest) -> ExecutionResult:
        """Close the ``request.symbol`` position on ``venue`` on the operator's word.

        ``request`` is reduce-only, built by whoever asked (market, or a limit with fallback).
        The default just executes it; a strategy that holds positions in its state overrides
        this to close through its own path, book the realised PnL and forget what it held.
        Called under :attr:`step_lock` (through :meth:`operator_close` and
        :meth:`operator_close_all`); the state is saved after it.
        """
        return await self.context.executors[venue].execute(request)

    async def operator_close(self, venue: str, request: ExecutionRequest) -> ExecutionResult:
        """One position closed from outside (the control API), through the strategy."""
        async with self.step_lock:
            result = await self.close_position(venue, request)
            await self.save_state()
        return result

    async def operator_close_all(self, purpose: str) -> tuple[list[str], list[str]]:
        """Cancel every resting order and close every position at market, through the
        strategy; the client ids cancelled and the ``venue:symbol`` positions closed.

        Positions are listed first and each re-read before its close: closing one may close
        another with it (a funding-arbitrage pair's second leg).
        """
        async with self.step_lock:
            cancelled = await self.cancel_resting()
            held = [
                (venue, position.symbol)
                for venue, client in self.context.clients.items()
                for position in await client.positions()
                if position.size != 0
            ]
            closed = []
            for venue, symbol in held:
                position = await self.context.clients[venue].position(symbol)
                if position is not None and position.size != 0:
                    await self.close_position(venue, ExecutionRequest.closing(position, purpose))
                closed.append(f"{venue}:{symbol}")
            await self.save_state()
        return cancelled, closed

    def reload_problems(self, params: P) -> list[str]:
        """Why ``params`` cannot replace the running ones (empty: they can, at the next step)."""
        return []

    # --- what the control API shows ------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """Strategy-specific status for the control API and the status line."""
        return {}
