"""Queries and writes of the signal strategies' tables (see :mod:`database.models.signals`).

Every function works in the caller's session and transaction. Candles are upserted (the key
is venue/asset/interval/open time: writing one again updates it, never adds a row); the rest
are plain inserts and updates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from database.models import (
    Candle,
    FundingOiSnapshot,
    PolymarketSnapshot,
    SignalRecord,
    SignalTrade,
)

_ZERO = Decimal(0)


class CandleLike(Protocol):
    """A candle as the market-data layer holds it (read-only attributes)."""

    @property
    def venue(self) -> str: ...
    @property
    def asset(self) -> str: ...
    @property
    def interval(self) -> str: ...
    @property
    def open_time(self) -> datetime: ...
    @property
    def open(self) -> Decimal: ...
    @property
    def high(self) -> Decimal: ...
    @property
    def low(self) -> Decimal: ...
    @property
    def close(self) -> Decimal: ...
    @property
    def volume(self) -> Decimal: ...
    @property
    def trades(self) -> int: ...


_CANDLE_VALUES = ("open", "high", "low", "close", "volume", "trades")


def _insert(session: AsyncSession, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"candle storage supports SQLite and PostgreSQL, not {dialect}")


async def upsert_candles(session: AsyncSession, candles: Iterable[CandleLike]) -> int:
    """Insert or update ``candles`` (idempotent); the rows written."""
    rows = {
        (c.venue, c.asset, c.interval, c.open_time): {
            "venue": c.venue,
            "asset": c.asset,
            "interval": c.interval,
            "open_time": c.open_time,
            **{name: getattr(c, name) for name in _CANDLE_VALUES},
        }
        for c in candles
    }
    if not rows:
        return 0
    table = Candle.__table__
    assert isinstance(table, Table)
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["venue", "asset", "interval", "open_time"],
        set_={name: stmt.excluded[name] for name in _CANDLE_VALUES},
    )
    await session.execute(stmt, list(rows.values()))
    return len(rows)


async def candles(
    session: AsyncSession, venue: str, asset: str, interval: str, since: datetime
) -> Sequence[Candle]:
    """The stored candles of one series opened at or after ``since``, oldest first."""
    result = await session.scalars(
        select(Candle)
        .where(
            Candle.venue == venue,
            Candle.asset == asset,
            Candle.interval == interval,
            Candle.open_time >= since,
        )
        .order_by(Candle.open_time)
    )
    return result.all()


_FUNDING_VALUES = ("funding_rate", "open_interest_usd", "mark_price", "source")


async def upsert_funding_oi(session: AsyncSession, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert or update funding/OI readings keyed by venue, asset and ts (idempotent)."""
    keyed = {(row["venue"], row["asset"], row["ts"]): dict(row) for row in rows}
    if not keyed:
        return 0
    table = FundingOiSnapshot.__table__
    assert isinstance(table, Table)
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["venue", "asset", "ts"],
        set_={name: stmt.excluded[name] for name in _FUNDING_VALUES},
    )
    await session.execute(stmt, list(keyed.values()))
    return len(keyed)


async def add_polymarket_snapshots(session: AsyncSession, rows: Iterable[Mapping[str, Any]]) -> int:
    """One row per market per poll (keys: the columns of ``polymarket_snapshots``)."""
    added = [PolymarketSnapshot(**row) for row in rows]
    session.add_all(added)
    await session.flush()
    return len(added)


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of a signal strategy on an asset, as recorded."""

    bot: str
    strategy: str
    asset: str
    venue: str
    ts: datetime
    acted_on: bool
    reason: str | None
    direction: str | None = None
    confidence: Decimal | None = None
    entry_price: Decimal | None = None
    metadata: Mapping[str, Any] | None = None


async def add_signals(session: AsyncSession, evaluations: Iterable[Evaluation]) -> list[int]:
    """Record ``evaluations``; their row ids, in order."""
    records = [
        SignalRecord(
            bot=e.bot,
            strategy=e.strategy,
            asset=e.asset,
            venue=e.venue,
            direction=e.direction,
            confidence=e.confidence,
            entry_price=e.entry_price,
            details=dict(e.metadata or {}),
            ts=e.ts,
            acted_on=e.acted_on,
            reason=(e.reason or "")[:300] or None,
        )
        for e in evaluations
    ]
    session.add_all(records)
    await session.flush()
    return [record.id for record in records]


async def latest_signals(
    session: AsyncSession,
    *,
    bot: str | None = None,
    limit: int = 20,
    include_passes: bool = False,
) -> Sequence[SignalRecord]:
    """The newest recorded signals (of ``bot``), newest first; passes only when asked."""
    query = select(SignalRecord)
    if bot is not None:
        query = query.where(SignalRecord.bot == bot)
    if not include_passes:
        query = query.where(SignalRecord.direction.is_not(None))
    result = await session.scalars(
        query.order_by(SignalRecord.ts.desc(), SignalRecord.id.desc()).limit(limit)
    )
    return result.all()


async def open_trade(session: AsyncSession, trade: SignalTrade) -> int:
    trade.status = "open"
    session.add(trade)
    await session.flush()
    return trade.id


async def mark_trade(
    session: AsyncSession, trade_id: int, mark: Decimal, unrealized: Decimal, ts: datetime
) -> None:
    await session.execute(
        update(SignalTrade)
        .where(SignalTrade.id == trade_id)
        .values(mark_price=mark, unrealized_pnl=unrealized, marked_at=ts)
    )


async def close_trade(
    session: AsyncSession,
    trade_id: int,
    *,
    exit_price: Decimal,
    reason: str,
    realized: Decimal,
    ts: datetime,
) -> None:
    await session.execute(
        update(SignalTrade)
        .where(SignalTrade.id == trade_id)
        .values(
            status="closed",
            exit_price=exit_price,
            exit_reason=reason,
            realized_pnl=realized,
            closed_at=ts,
            unrealized_pnl=_ZERO,
        )
    )


@dataclass(frozen=True)
class StrategyStats:
    """One signal strategy's (or asset's) record: evaluations, signals, trades and PnL."""

    name: str
    signals: int
    acted: int
    trades: int
    wins: int
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    open_trades: int

    @property
    def win_rate(self) -> float | None:
        closed = self.trades - self.open_trades
        return self.wins / closed if closed > 0 else None


async def strategy_stats(
    session: AsyncSession, bot: str, *, by: str = "strategy"
) -> list[StrategyStats]:
    """Per strategy (``by="strategy"``) or per asset (``by="asset"``) of ``bot``."""
    if by not in ("strategy", "asset"):
        raise ValueError(f"stats are grouped by strategy or asset, not {by!r}")
    signal_key = getattr(SignalRecord, by)
    signal_rows = await session.execute(
        select(
            signal_key,
            func.count(SignalRecord.direction),
            func.count().filter(SignalRecord.acted_on.is_(True)),
        )
        .where(SignalRecord.bot == bot)
        .group_by(signal_key)
    )
    counted = {str(row[0]): (int(row[1]), int(row[2])) for row in signal_rows}
    trades = await session.scalars(select(SignalTrade).where(SignalTrade.bot == bot))
    totals: dict[str, list[Any]] = {}
    for trade in trades:
        name = str(getattr(trade, by))
        entry = totals.setdefault(name, [0, 0, _ZERO, _ZERO, 0])
        entry[0] += 1
        if trade.status == "open":
            entry[4] += 1
            entry[3] += trade.unrealized_pnl or _ZERO
        else:
            realized = trade.realized_pnl or _ZERO
            entry[2] += realized
            entry[1] += 1 if realized > 0 else 0
    names = sorted(set(counted) | set(totals))
    return [
        StrategyStats(
            name,
            counted.get(name, (0, 0))[0],
            counted.get(name, (0, 0))[1],
            *(totals.get(name, [0, 0, _ZERO, _ZERO, 0])),
        )
        for name in names
    ]
