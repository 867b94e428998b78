"""A strategy on real parts: scripted paper venues, a manual clock, the journal on both DBs.

Builds the same :class:`StrategyContext` the runtime builds (executors, trackers, atomic
executor, risk manager, state store) around :mod:`tests.execution.atomic.rig`'s venues, so a
test drives the market (``feeds[venue].move/trade/set_funding``) and the clock, calls
``step()`` and checks orders, positions and the journal.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from database.models import Order as OrderRow
from execution.client_ids import ClientOrderIds
from execution.journal import reconcile
from execution.order_executor import OrderExecutor
from strategies.base_strategy import BaseStrategy, StrategyContext
from strategies.factory import create_strategy
from strategies.risk import RiskManager
from strategies.state_store import StrategyStateStore
from tests.exchange_clients.paper.helpers import START
from tests.execution.atomic.rig import AtomicRig, create_bot, make_clients, running_stack
from trading_config.schema import BotConfig


@dataclass
class StrategyRig:
    venues: AtomicRig
    context: StrategyContext
    strategy: BaseStrategy[Any]
    bot_id: int

    async def step(self, times: int = 1) -> None:
        """Run ``execute_strategy`` ``times`` times, flushing the journal after each."""
        for _ in range(times):
            if await self.strategy.should_execute():
                await self.strategy.execute_strategy()
            for tracker in self.context.trackers.values():
                await tracker.flush()

    async def advance(self, seconds: float) -> None:
        """Move venue time (and let stream events be handled)."""
        clock = self.venues.clock
        assert isinstance(clock, ManualClock)
        await clock.advance(seconds)
        await asyncio.sleep(0.01)

    async def orders(self, **where: Any) -> list[OrderRow]:
        async with self.venues.sessions() as session:
            rows = await session.scalars(select(OrderRow).order_by(OrderRow.id))
            return [r for r in rows if all(getattr(r, k) == v for k, v in where.items())]


@asynccontextmanager
async def strategy_rig(
    sessions: async_sessionmaker[AsyncSession],
    config: BotConfig,
    *,
    bot: tuple[int, dict[str, int]] | None = None,
    database_url: str | None = None,
) -> AsyncIterator[StrategyRig]:
    """The strategy of ``config`` on its (paper) venues, started like the runtime starts it.

    Pass ``bot`` (from a previous rig) and ``database_url`` to restart on the same state.
    """
    venues = tuple(config.exchanges)
    clock = ManualClock(START)
    bot_id, accounts = bot if bot is not None else await create_bot(sessions, venues)
    feeds, clients = make_clients(clock, venues=venues, database_url=database_url)
    async with running_stack(sessions, clock, bot_id, accounts, feeds, clients) as stack:
        ids = ClientOrderIds(config.name)
        executors = {
            venue: OrderExecutor(
                client, stack.executor.journal, stack.trackers[venue], ids, clock=clock
            )
            for venue, client in clients.items()
        }
        context = StrategyContext(
            bot_name=config.name,
            config=config,
            clients=clients,
            executors=executors,
            trackers=stack.trackers,
            atomic=stack.executor,
            journal=stack.executor.journal,
            risk=RiskManager(config.risk, clock, bot=config.name),
            state_store=StrategyStateStore(sessions, bot_id, stack.executor.journal.committer),
            clock=clock,
        )
        strategy = create_strategy(config.strategy.type, context, config.strategy.params)
        await reconcile(context.journal, clients, keep_resting=strategy.keeps_resting)
        await strategy.start()
        yield StrategyRig(stack, context, strategy, bot_id)
