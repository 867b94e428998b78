"""Signal strategies' data: candles, Polymarket snapshots, every evaluation, every trade.

* ``candles``: OHLCV per venue/asset/interval/open time (the key: writing a candle again -
  a backfill overlapping the stream, a restart - updates the one row).
* ``funding_oi_snapshots``: funding and open interest (USD) per venue/asset/minute (the key:
  a second reading within the minute updates the row).
* ``polymarket_snapshots``: one row per directional market per poll (YES/NO prices, 24 h
  volume, liquidity), the crowd's view over time.
* ``signals``: one row per evaluation of a signal strategy on an asset - passes included
  (``direction`` null) - with ``acted_on`` and, when not acted on, the ``reason``.
* ``signal_trades``: each position a signal opened, marked to market while open (``mark_price``,
  ``unrealized_pnl``, ``marked_at``) and closed with its exit price, reason and realised PnL:
  PnL per strategy and per asset is a GROUP BY.

Shapes and indexes are explained in migration 0011.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Index, Integer, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from database.models.base import Base
from database.types import BigIntId, ExactDecimal, JSONDocument, UTCDateTime


class Candle(Base):
    __tablename__ = "candles"
    __table_args__ = (PrimaryKeyConstraint("venue", "asset", "interval", "open_time"),)

    venue: Mapped[str] = mapped_column(String(32))
    asset: Mapped[str] = mapped_column(String(32))
    interval: Mapped[str] = mapped_column(String(8))
    open_time: Mapped[datetime] = mapped_column(UTCDateTime())
    open: Mapped[Decimal] = mapped_column(ExactDecimal())
    high: Mapped[Decimal] = mapped_column(ExactDecimal())
    low: Mapped[Decimal] = mapped_column(ExactDecimal())
    close: Mapped[Decimal] = mapped_column(ExactDecimal())
    volume: Mapped[Decimal] = mapped_column(ExactDecimal())
    trades: Mapped[int] = mapped_column(Integer)


class FundingOiSnapshot(Base):
    __tablename__ = "funding_oi_snapshots"
    __table_args__ = (PrimaryKeyConstraint("venue", "asset", "ts"),)

    venue: Mapped[str] = mapped_column(String(32))
    asset: Mapped[str] = mapped_column(String(32))
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    funding_rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    open_interest_usd: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    mark_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    source: Mapped[str] = mapped_column(String(16))


class PolymarketSnapshot(Base):
    __tablename__ = "polymarket_snapshots"
    __table_args__ = (Index(None, "asset", "ts"), Index(None, "market_id", "ts"))

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    market_id: Mapped[str] = mapped_column(String(80))
    asset: Mapped[str] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(Text)
    yes_is_up: Mapped[bool] = mapped_column(Boolean)
    yes_price: Mapped[Decimal] = mapped_column(ExactDecimal())
    no_price: Mapped[Decimal] = mapped_column(ExactDecimal())
    volume_24h: Mapped[Decimal] = mapped_column(ExactDecimal())
    liquidity: Mapped[Decimal] = mapped_column(ExactDecimal())
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ts: Mapped[datetime] = mapped_column(UTCDateTime())


class SignalRecord(Base):
    __tablename__ = "signals"
    __table_args__ = (Index(None, "bot", "ts"), Index(None, "strategy", "ts"))

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    bot: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str] = mapped_column(String(64))
    asset: Mapped[str] = mapped_column(String(32))
    venue: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str | None] = mapped_column(String(8))
    confidence: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    entry_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    # "metadata" is reserved on declarative classes: the attribute is named for what it holds.
    details: Mapped[dict[str, Any]] = mapped_column("metadata", JSONDocument)
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    acted_on: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(300))


class SignalTrade(Base):
    __tablename__ = "signal_trades"
    __table_args__ = (Index(None, "bot", "status"), Index(None, "strategy", "asset"))

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    bot: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str] = mapped_column(String(64))
    asset: Mapped[str] = mapped_column(String(32))
    venue: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))
    size: Mapped[Decimal] = mapped_column(ExactDecimal())
    entry_price: Mapped[Decimal] = mapped_column(ExactDecimal())
    stop_price: Mapped[Decimal] = mapped_column(ExactDecimal())
    take_profit_price: Mapped[Decimal] = mapped_column(ExactDecimal())
    entry_fee: Mapped[Decimal] = mapped_column(ExactDecimal())
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signal_id: Mapped[int | None] = mapped_column(BigIntId)
    status: Mapped[str] = mapped_column(String(8))  # open | closed
    mark_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    unrealized_pnl: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    exit_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    exit_reason: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    realized_pnl: Mapped[Decimal | None] = mapped_column(ExactDecimal())
