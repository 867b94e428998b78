"""Backtest runs, their trades and equity curves.

Written by every ``python -m backtest`` run not given --no-store.

A run row holds what identifies and ranks it (bot, strategy, parameters, period, data, what
was simulated, the headline metrics and the result file's hash); trades and equity points
are its children, deleted with it. ``sweep`` groups the runs of one parameter sweep (and
``split`` names a walk-forward window), so a ranked table can be read back.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from database.models.base import Base
from database.types import BigIntId, ExactDecimal, JSONDocument, UTCDateTime, utcnow


class BacktestRun(Base):
    __tablename__ = "backtest_runs"
    __table_args__ = (Index(None, "sweep"), Index(None, "bot_name", "created_at"))

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    bot_name: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[list[str]] = mapped_column(JSONDocument)
    realism: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    net_pnl: Mapped[Decimal] = mapped_column(ExactDecimal())
    result_hash: Mapped[str] = mapped_column(String(64))
    stopped_by: Mapped[str | None] = mapped_column(String(200))
    sweep: Mapped[str | None] = mapped_column(String(64))
    split: Mapped[str | None] = mapped_column(String(32))


class BacktestTrade(Base):
    """A fill (``kind`` fill: side, price, size, fee) or a funding payment (``kind`` funding:
    ``amount`` received, negative when paid) of a run."""

    __tablename__ = "backtest_trades"
    __table_args__ = (Index(None, "run_id", "ts"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("backtest_runs.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(8))
    venue: Mapped[str] = mapped_column(String(32))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str | None] = mapped_column(String(4))
    price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    size: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    fee: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    amount: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    order_id: Mapped[str | None] = mapped_column(String(64))


class BacktestEquityPoint(Base):
    __tablename__ = "backtest_equity_points"
    __table_args__ = (PrimaryKeyConstraint("run_id", "ts"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("backtest_runs.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    equity: Mapped[Decimal] = mapped_column(ExactDecimal())
