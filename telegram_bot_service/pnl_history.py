"""PnL snapshots: recording a bot's numbers over time and reading them back for charts.

The bots' control APIs only know the present; the history behind ``/pnl`` charts is sampled
into ``pnl_snapshots`` (by :mod:`telegram_bot_service.watcher`) and read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from database.models import Bot, PnlSnapshot
from database.types import utcnow

DEFAULT_HISTORY_POINTS = 2000


@dataclass(frozen=True)
class PnlPoint:
    ts: datetime
    equity: Decimal
    realized: Decimal
    unrealized: Decimal
    funding: Decimal


async def bot_id(session: AsyncSession, name: str) -> int | None:
    found: int | None = await session.scalar(select(Bot.id).where(Bot.name == name))
    return found


async def record_snapshot(
    session: AsyncSession,
    bot_name: str,
    *,
    equity: Decimal,
    realized: Decimal,
    unrealized: Decimal,
    funding: Decimal,
    ts: datetime | None = None,
) -> bool:
    """Add one sample for ``bot_name``; False when the database does not know the bot."""
    found = await bot_id(session, bot_name)
    if found is None:
        return False
    session.add(
        PnlSnapshot(
            bot_id=found,
            ts=ts or utcnow(),
            equity=equity,
            realized=realized,
            unrealized=unrealized,
            funding=funding,
        )
    )
    await session.flush()
    return True


async def history(
    session: AsyncSession, bot_name: str, *, limit: int = DEFAULT_HISTORY_POINTS
) -> list[PnlPoint]:
    """The bot's most recent ``limit`` samples, oldest first."""
    rows = await session.scalars(
        select(PnlSnapshot)
        .join(Bot, Bot.id == PnlSnapshot.bot_id)
        .where(Bot.name == bot_name)
        .order_by(PnlSnapshot.ts.desc(), PnlSnapshot.id.desc())
        .limit(limit)
    )
    points = [
        PnlPoint(row.ts, row.equity, row.realized, row.unrealized, row.funding) for row in rows
    ]
    points.reverse()
    return points


async def bots_with_history(session: AsyncSession) -> list[str]:
    rows = await session.scalars(
        select(Bot.name).where(Bot.id.in_(select(PnlSnapshot.bot_id).distinct())).order_by(Bot.name)
    )
    return list(rows)
