"""Equity history: each running bot's equity and PnL sampled into ``pnl_snapshots``.

The bots' control APIs only know the present; the equity curves, drawdowns and today's PnL
the pages draw come from ``pnl_snapshots``. Every bot samples itself (every 300 s,
:mod:`bot_runtime.equity_samples`) and the Telegram service's watcher may too, so a bot is
sampled here only when its newest snapshot is older than the interval: a shorter interval
here adds the samples in between, never a second row for the same moment.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot_runtime.control_models import BotStatus, Pnl
from bot_runtime.equity_samples import sampled_since
from core.errors import TradingError
from dashboard.data import Unanswered, ask
from dashboard.services import DashboardServices
from database.models import Bot, PnlSnapshot
from database.types import utcnow

log = structlog.get_logger(__name__)

DEFAULT_SAMPLE_SECONDS = 300.0


async def sample_once(services: DashboardServices, interval_seconds: float) -> list[str]:
    """Sample every running bot not sampled within ``interval_seconds``; their names."""
    running = [b.name for b in await services.fleet.list_bots() if b.running]
    if not running:
        return []
    since = utcnow() - timedelta(seconds=interval_seconds)

    async def recent(session: AsyncSession) -> set[str]:
        return await sampled_since(session, running, since)

    fresh = await services.transaction(recent)
    sampled = []
    for name in running:
        if name in fresh:
            continue
        try:
            client = services.control(name)
            status, pnl = await asyncio.gather(
                ask(services, client.status(), name), ask(services, client.pnl(), name)
            )
        except (Unanswered, TradingError) as exc:
            log.info("equity sample skipped", bot=name, reason=str(exc))
            continue

        if await _record(services, name, status, pnl):
            sampled.append(name)
    return sampled


async def _record(services: DashboardServices, name: str, status: BotStatus, pnl: Pnl) -> bool:
    """One sample; False when the database does not know the bot."""

    async def write(session: AsyncSession) -> bool:
        bot_id = await session.scalar(select(Bot.id).where(Bot.name == name))
        if bot_id is None:
            return False
        session.add(
            PnlSnapshot(
                bot_id=bot_id,
                ts=utcnow(),
                equity=status.equity,
                realized=pnl.realized,
                unrealized=pnl.unrealized,
                funding=pnl.funding,
            )
        )
        return True

    return await services.transaction(write)


async def run(services: DashboardServices, interval_seconds: float) -> None:
    """Sample every ``interval_seconds`` until cancelled (a failed round is logged, not fatal)."""
    while True:
        try:
            await sample_once(services, interval_seconds)
        except Exception:
            log.exception("equity sampling failed; trying again next interval")
        await asyncio.sleep(interval_seconds)
