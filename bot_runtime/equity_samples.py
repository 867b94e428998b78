"""The bot's own equity samples (``pnl_snapshots``): the curve its ``/stats`` is computed from.

``/stats`` reports return, Sharpe, Sortino and drawdown from the bot's equity over time, which
the journal does not hold (it holds orders and fills). The samples used to come only from
the Telegram watcher and the dashboard, which sample running bots through their control
APIs: a bot run without either had one point - its equity now - so no return, no ratios, a
drawdown of zero and a starting equity equal to the current one. The bot now samples itself:
when it starts trading, every :data:`SAMPLE_SECONDS` while it runs, and once more when it
stops, so the curve covers each run from start to stop. The watcher and the dashboard skip a
bot sampled within their interval (:func:`sampled_since`), so the series keeps about one row
per interval however many of them watch.

A sample holds what the watcher's does: the equity across the bot's venues, the strategy's
realized PnL, and the open positions' unrealized PnL and accrued funding.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.models import Bot, PnlSnapshot
from database.types import utcnow
from exchange_clients.base import BaseExchangeClient

SAMPLE_SECONDS = 300.0
"""Between two samples of a running bot: the watcher's and the dashboard's default too."""


async def record_sample(
    sessions: async_sessionmaker[AsyncSession],
    bot_id: int,
    clients: Mapping[str, BaseExchangeClient],
    realized: Decimal,
) -> PnlSnapshot:
    """Read the venues now and store one sample; the row written."""
    equity = unrealized = funding = Decimal(0)
    for client in clients.values():
        equity += (await client.balance()).equity
        for position in await client.positions():
            unrealized += position.unrealized_pnl
            funding += position.accrued_funding
    sample = PnlSnapshot(
        bot_id=bot_id,
        ts=utcnow(),
        equity=equity,
        realized=realized,
        unrealized=unrealized,
        funding=funding,
    )
    async with sessions.begin() as session:
        session.add(sample)
    return sample


async def sampled_since(session: AsyncSession, names: Collection[str], since: datetime) -> set[str]:
    """The bots among ``names`` with a sample newer than ``since`` (another sampler's, or
    the bot's own): a sampler that runs on an interval skips them."""
    if not names:
        return set()
    rows = await session.execute(
        select(Bot.name)
        .join(PnlSnapshot, PnlSnapshot.bot_id == Bot.id)
        .where(Bot.name.in_(names))
        .group_by(Bot.name)
        .having(func.max(PnlSnapshot.ts) > since)
    )
    return {name for (name,) in rows}


__all__ = ["SAMPLE_SECONDS", "record_sample", "sampled_since"]
