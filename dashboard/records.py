"""What other parts of the product left in the database: signals and signal trades (the
signal_portfolio bots), backtest runs with their equity and trades (``python -m backtest``).
Read-only, newest first, bounded."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.records import EquityPoint
from database.models.backtest import BacktestEquityPoint, BacktestRun, BacktestTrade
from database.models.signals import SignalRecord, SignalTrade

MAX_SIGNALS = 200
MAX_RUNS = 200
MAX_TRADES = 500


async def signals(session: AsyncSession, bot: str = "") -> list[SignalRecord]:
    query = select(SignalRecord).order_by(SignalRecord.ts.desc()).limit(MAX_SIGNALS)
    if bot:
        query = query.where(SignalRecord.bot == bot)
    return list(await session.scalars(query))


@dataclass(frozen=True)
class SignalStrategyRow:
    """One signal strategy's closed trades, across the bots that ran it."""

    strategy: str
    trades: int
    wins: int
    net: Decimal
    open_trades: int

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.trades if self.trades else None

    @property
    def expectancy(self) -> Decimal | None:
        return self.net / self.trades if self.trades else None


async def signal_strategies(session: AsyncSession) -> list[SignalStrategyRow]:
    totals: dict[str, list[Decimal | int]] = defaultdict(lambda: [0, 0, Decimal(0), 0])
    rows = await session.execute(
        select(SignalTrade.strategy, SignalTrade.status, SignalTrade.realized_pnl)
    )
    for strategy, status, realized in rows:
        entry = totals[strategy]
        if status == "closed" and realized is not None:
            entry[0] = int(entry[0]) + 1
            entry[1] = int(entry[1]) + (1 if realized > 0 else 0)
            entry[2] = Decimal(entry[2]) + realized
        else:
            entry[3] = int(entry[3]) + 1
    return [
        SignalStrategyRow(name, int(t[0]), int(t[1]), Decimal(t[2]), int(t[3]))
        for name, t in sorted(totals.items())
    ]


async def backtest_runs(session: AsyncSession) -> list[BacktestRun]:
    return list(
        await session.scalars(select(BacktestRun).order_by(BacktestRun.id.desc()).limit(MAX_RUNS))
    )


@dataclass
class BacktestReport:
    run: BacktestRun
    equity: list[EquityPoint]
    trades: list[BacktestTrade]


async def backtest_report(session: AsyncSession, run_id: int) -> BacktestReport | None:
    run = await session.get(BacktestRun, run_id)
    if run is None:
        return None
    points = await session.execute(
        select(BacktestEquityPoint.ts, BacktestEquityPoint.equity)
        .where(BacktestEquityPoint.run_id == run_id)
        .order_by(BacktestEquityPoint.ts)
    )
    trades = await session.scalars(
        select(BacktestTrade)
        .where(BacktestTrade.run_id == run_id)
        .order_by(BacktestTrade.ts)
        .limit(MAX_TRADES)
    )
    return BacktestReport(run, [EquityPoint(ts, eq) for ts, eq in points], list(trades))
