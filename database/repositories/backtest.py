"""Storing backtest runs and reading them back ranked.

The backtest package maps its result into :class:`NewRun` (this layer does not know it);
trades and equity points are inserted in executemany batches, since a run can hold a year of
equity points and thousands of fills.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from database.models.backtest import BacktestEquityPoint, BacktestRun, BacktestTrade


@dataclass(frozen=True, slots=True)
class TradeRow:
    ts: datetime
    kind: str  # "fill" or "funding"
    venue: str
    symbol: str
    side: str | None = None
    price: Decimal | None = None
    size: Decimal | None = None
    fee: Decimal | None = None
    amount: Decimal | None = None
    order_id: str | None = None


@dataclass
class NewRun:
    bot_name: str
    strategy: str
    params: dict[str, Any]
    period_start: datetime
    period_end: datetime
    data: list[str]
    realism: dict[str, Any]
    metrics: dict[str, Any]
    net_pnl: Decimal
    result_hash: str
    stopped_by: str | None = None
    sweep: str | None = None
    split: str | None = None
    trades: Sequence[TradeRow] = field(default_factory=list)
    equity: Sequence[tuple[datetime, Decimal]] = field(default_factory=list)


async def save_run(session: AsyncSession, run: NewRun) -> int:
    """Insert the run with its trades and equity points; its id."""
    row = BacktestRun(
        bot_name=run.bot_name,
        strategy=run.strategy,
        params=run.params,
        period_start=run.period_start,
        period_end=run.period_end,
        data=run.data,
        realism=run.realism,
        metrics=run.metrics,
        net_pnl=run.net_pnl,
        result_hash=run.result_hash,
        stopped_by=run.stopped_by,
        sweep=run.sweep,
        split=run.split,
    )
    session.add(row)
    await session.flush()
    if run.trades:
        await session.execute(
            insert(BacktestTrade),
            [
                {
                    "run_id": row.id,
                    "ts": t.ts,
                    "kind": t.kind,
                    "venue": t.venue,
                    "symbol": t.symbol,
                    "side": t.side,
                    "price": t.price,
                    "size": t.size,
                    "fee": t.fee,
                    "amount": t.amount,
                    "order_id": t.order_id,
                }
                for t in run.trades
            ],
        )
    if run.equity:
        await session.execute(
            insert(BacktestEquityPoint),
            [{"run_id": row.id, "ts": ts, "equity": equity} for ts, equity in run.equity],
        )
    return row.id


async def runs_ranked(session: AsyncSession, sweep: str) -> list[BacktestRun]:
    """The runs of ``sweep``, best net PnL first (ties: the earlier run)."""
    rows = await session.scalars(select(BacktestRun).where(BacktestRun.sweep == sweep))
    return sorted(rows, key=lambda r: (-r.net_pnl, r.id))


async def run_trades(session: AsyncSession, run_id: int) -> list[BacktestTrade]:
    rows = await session.scalars(
        select(BacktestTrade)
        .where(BacktestTrade.run_id == run_id)
        .order_by(BacktestTrade.ts, BacktestTrade.id)
    )
    return list(rows)


async def run_equity(session: AsyncSession, run_id: int) -> list[BacktestEquityPoint]:
    rows = await session.scalars(
        select(BacktestEquityPoint)
        .where(BacktestEquityPoint.run_id == run_id)
        .order_by(BacktestEquityPoint.ts)
    )
    return list(rows)
