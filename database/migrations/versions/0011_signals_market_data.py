"""Signal strategies' market data: candles, Polymarket snapshots, the signals and their trades.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

* ``candles`` is keyed by (venue, asset, interval, open_time): writing a candle again (a
  backfill overlapping the stream, a restarted bot) is an upsert of the one row, and the key
  is the index of the one hot query (an asset's series over a time range).
* ``funding_oi_snapshots``: funding and open interest (USD) keyed by (venue, asset, ts) with
  ts the minute of the reading: a repeated reading within the minute is an upsert.
* ``polymarket_snapshots``: one row per market per poll, indexed by (asset, ts) for "the
  crowd's view of BTC over time" and (market_id, ts) for one market's history.
* ``signals``: every evaluation (passes included: ``direction`` null), indexed by (bot, ts)
  for "the latest signals of a bot" (Telegram ``/signals``) and (strategy, ts) for comparing
  strategies. ``metadata`` is JSON (JSONB on PostgreSQL).
* ``signal_trades``: one row per position a signal opened, updated in place by the 60-second
  mark-to-market and closed with its exit; (bot, status) finds the open ones, (strategy,
  asset) groups PnL.

No foreign keys: market data outlives bots and venues. Types are spelled out, as in 0001, so
this migration creates the same schema forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# database.types.ExactDecimal: TEXT on SQLite (its NUMERIC is a float), NUMERIC elsewhere.
EXACT_DECIMAL = sa.Numeric().with_variant(sa.Text(), "sqlite")
# database.types.UTCDateTime
TIMESTAMP = sa.DateTime(timezone=True)
# database.types.BigIntId
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# database.types.JSONDocument
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "candles",
        sa.Column("venue", sa.String(length=32), nullable=False),
        sa.Column("asset", sa.String(length=32), nullable=False),
        sa.Column("interval", sa.String(length=8), nullable=False),
        sa.Column("open_time", TIMESTAMP, nullable=False),
        sa.Column("open", EXACT_DECIMAL, nullable=False),
        sa.Column("high", EXACT_DECIMAL, nullable=False),
        sa.Column("low", EXACT_DECIMAL, nullable=False),
        sa.Column("close", EXACT_DECIMAL, nullable=False),
        sa.Column("volume", EXACT_DECIMAL, nullable=False),
        sa.Column("trades", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("venue", "asset", "interval", "open_time", name=op.f("pk_candles")),
    )
    op.create_table(
        "funding_oi_snapshots",
        sa.Column("venue", sa.String(length=32), nullable=False),
        sa.Column("asset", sa.String(length=32), nullable=False),
        sa.Column("ts", TIMESTAMP, nullable=False),
        sa.Column("funding_rate", EXACT_DECIMAL, nullable=False),
        sa.Column("open_interest_usd", EXACT_DECIMAL, nullable=True),
        sa.Column("mark_price", EXACT_DECIMAL, nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("venue", "asset", "ts", name=op.f("pk_funding_oi_snapshots")),
    )
    op.create_table(
        "polymarket_snapshots",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("market_id", sa.String(length=80), nullable=False),
        sa.Column("asset", sa.String(length=32), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("yes_is_up", sa.Boolean(), nullable=False),
        sa.Column("yes_price", EXACT_DECIMAL, nullable=False),
        sa.Column("no_price", EXACT_DECIMAL, nullable=False),
        sa.Column("volume_24h", EXACT_DECIMAL, nullable=False),
        sa.Column("liquidity", EXACT_DECIMAL, nullable=False),
        sa.Column("end_time", TIMESTAMP, nullable=True),
        sa.Column("ts", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polymarket_snapshots")),
    )
    op.create_index(
        op.f("ix_polymarket_snapshots_asset_ts"), "polymarket_snapshots", ["asset", "ts"]
    )
    op.create_index(
        op.f("ix_polymarket_snapshots_market_id_ts"), "polymarket_snapshots", ["market_id", "ts"]
    )
    op.create_table(
        "signals",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("bot", sa.String(length=64), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("asset", sa.String(length=32), nullable=False),
        sa.Column("venue", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=True),
        sa.Column("confidence", EXACT_DECIMAL, nullable=True),
        sa.Column("entry_price", EXACT_DECIMAL, nullable=True),
        sa.Column("metadata", JSON_DOCUMENT, nullable=False),
        sa.Column("ts", TIMESTAMP, nullable=False),
        sa.Column("acted_on", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signals")),
    )
    op.create_index(op.f("ix_signals_bot_ts"), "signals", ["bot", "ts"])
    op.create_index(op.f("ix_signals_strategy_ts"), "signals", ["strategy", "ts"])
    op.create_table(
        "signal_trades",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("bot", sa.String(length=64), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("asset", sa.String(length=32), nullable=False),
        sa.Column("venue", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("size", EXACT_DECIMAL, nullable=False),
        sa.Column("entry_price", EXACT_DECIMAL, nullable=False),
        sa.Column("stop_price", EXACT_DECIMAL, nullable=False),
        sa.Column("take_profit_price", EXACT_DECIMAL, nullable=False),
        sa.Column("entry_fee", EXACT_DECIMAL, nullable=False),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("signal_id", BIG_ID, nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("mark_price", EXACT_DECIMAL, nullable=True),
        sa.Column("unrealized_pnl", EXACT_DECIMAL, nullable=True),
        sa.Column("marked_at", TIMESTAMP, nullable=True),
        sa.Column("exit_price", EXACT_DECIMAL, nullable=True),
        sa.Column("exit_reason", sa.String(length=32), nullable=True),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.Column("realized_pnl", EXACT_DECIMAL, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_trades")),
    )
    op.create_index(op.f("ix_signal_trades_bot_status"), "signal_trades", ["bot", "status"])
    op.create_index(op.f("ix_signal_trades_strategy_asset"), "signal_trades", ["strategy", "asset"])


def downgrade() -> None:
    op.drop_index(op.f("ix_signal_trades_strategy_asset"), table_name="signal_trades")
    op.drop_index(op.f("ix_signal_trades_bot_status"), table_name="signal_trades")
    op.drop_table("signal_trades")
    op.drop_index(op.f("ix_signals_strategy_ts"), table_name="signals")
    op.drop_index(op.f("ix_signals_bot_ts"), table_name="signals")
    op.drop_table("signals")
    op.drop_index(op.f("ix_polymarket_snapshots_market_id_ts"), table_name="polymarket_snapshots")
    op.drop_index(op.f("ix_polymarket_snapshots_asset_ts"), table_name="polymarket_snapshots")
    op.drop_table("polymarket_snapshots")
    op.drop_table("funding_oi_snapshots")
    op.drop_table("candles")
