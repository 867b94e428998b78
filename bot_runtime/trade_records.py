"""A bot's journal as analytics records: the one place rows become fills, funding and equity.

:mod:`analytics` imports no database (it sits beside it), so the mapping lives here, above
both. What is read, for one bot (``bots.id``, the same across restarts under one name):

* fills: every ``fills`` row of the bot's ``orders`` (side and symbol from the order; fees are
  taken to be in the quote currency, as every venue we trade settles them);
* funding: ``funding_payments`` rows of the bot's venue accounts, for the symbols it traded,
  since its first fill - that table is per account, so a bot sharing an account with another
  would see its payments too (the config builder gives each bot its own account);
* equity: the bot's ``pnl_snapshots`` (sampled by the Telegram service's watcher), oldest
  first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from analytics.records import EquityPoint, FillRecord, FundingRecord, RecordError
from database.models import Fill as FillRow
from database.models import FundingPayment, PnlSnapshot
from database.models import Order as OrderRow

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class JournalRecords:
    fills: list[FillRecord] = field(default_factory=list)
    funding: list[FundingRecord] = field(default_factory=list)
    equity: list[EquityPoint] = field(default_factory=list)
    skipped: int = 0
    """Journal rows that are not a valid record (a non-positive size or price): left out."""


async def load_records(
    sessions: async_sessionmaker[AsyncSession], bot_id: int, accounts: Mapping[str, int]
) -> JournalRecords:
    """Everything analytics needs about bot ``bot_id`` trading through ``accounts`` (venue
    name -> ``accounts.id``)."""
    async with sessions() as session:
        fills, skipped = await _fills(session, bot_id)
        funding = await _funding(session, accounts, fills)
        equity = await _equity(session, bot_id)
    if skipped:
        log.warning("journal fills left out of the statistics", bot_id=bot_id, count=skipped)
    return JournalRecords(fills, funding, equity, skipped)


async def _fills(session: AsyncSession, bot_id: int) -> tuple[list[FillRecord], int]:
    rows = await session.execute(
        select(FillRow, OrderRow.side, OrderRow.symbol, OrderRow.client_order_id)
        .join(OrderRow, FillRow.order_id == OrderRow.id)
        .where(OrderRow.bot_id == bot_id)
        .order_by(FillRow.ts, FillRow.id)
    )
    found, skipped = [], 0
    for fill, side, symbol, client_order_id in rows:
        try:
            found.append(
                FillRecord(
                    ts=fill.ts,
                    venue=fill.venue,
                    symbol=symbol,
                    side="buy" if side == "buy" else "sell",
                    price=fill.price,
                    size=fill.size,
                    fee=fill.fee,
                    order_id=client_order_id,
                )
            )
        except RecordError:
            skipped += 1
    return found, skipped


async def _funding(
    session: AsyncSession, accounts: Mapping[str, int], fills: list[FillRecord]
) -> list[FundingRecord]:
    if not fills or not accounts:
        return []
    since: datetime = fills[0].ts
    symbols = sorted({f.symbol for f in fills})
    mine = or_(
        *(
            and_(FundingPayment.venue == venue, FundingPayment.account_id == account)
            for venue, account in accounts.items()
        )
    )
    rows = await session.scalars(
        select(FundingPayment)
        .where(mine, FundingPayment.symbol.in_(symbols), FundingPayment.paid_at >= since)
        .order_by(FundingPayment.paid_at, FundingPayment.id)
    )
    return [FundingRecord(r.paid_at, r.venue, r.symbol, r.amount) for r in rows]


async def _equity(session: AsyncSession, bot_id: int) -> list[EquityPoint]:
    rows = await session.scalars(
        select(PnlSnapshot).where(PnlSnapshot.bot_id == bot_id).order_by(PnlSnapshot.ts)
    )
    return [EquityPoint(r.ts, r.equity) for r in rows]
