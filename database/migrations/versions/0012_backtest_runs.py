"""Backtest runs, their trades and equity points.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

``backtest_runs`` holds one row per stored backtest (every ``python -m backtest`` run not
given --no-store): what was run (bot, strategy, parameters as JSON, period, data, what the
simulation modelled), the headline metrics (JSON, with ``net_pnl`` as a column to sort by) and the SHA-256 of the
result file, which identifies a run exactly. ``sweep`` groups the runs of one sweep and
``split`` names a walk-forward window; both are indexed for the ranked table.
``backtest_trades`` keeps fills and funding payments (``kind``) and
``backtest_equity_points`` the equity curve, both deleted with their run. Types are spelled
out, as in 0001, so this migration creates the same schema forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
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
        "backtest_runs",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("bot_name", sa.String(length=64), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("params", JSON_DOCUMENT, nullable=False),
        sa.Column("period_start", TIMESTAMP, nullable=False),
        sa.Column("period_end", TIMESTAMP, nullable=False),
        sa.Column("data", JSON_DOCUMENT, nullable=False),
        sa.Column("realism", JSON_DOCUMENT, nullable=False),
        sa.Column("metrics", JSON_DOCUMENT, nullable=False),
        sa.Column("net_pnl", EXACT_DECIMAL, nullable=False),
        sa.Column("result_hash", sa.String(length=64), nullable=False),
        sa.Column("stopped_by", sa.String(length=200), nullable=True),
        sa.Column("sweep", sa.String(length=64), nullable=True),
        sa.Column("split", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backtest_runs")),
    )
    op.create_index(op.f("ix_backtest_runs_sweep"), "backtest_runs", ["sweep"])
    op.create_index(
        op.f("ix_backtest_runs_bot_name_created_at"), "backtest_runs", ["bot_name", "created_at"]
    )
    op.create_table(
        "backtest_trades",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("run_id", BIG_ID, nullable=False),
        sa.Column("ts", TIMESTAMP, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("venue", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=True),
        sa.Column("price", EXACT_DECIMAL, nullable=True),
        sa.Column("size", EXACT_DECIMAL, nullable=True),
        sa.Column("fee", EXACT_DECIMAL, nullable=True),
        sa.Column("amount", EXACT_DECIMAL, nullable=True),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["backtest_runs.id"],
            name=op.f("fk_backtest_trades_run_id_backtest_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backtest_trades")),
    )
    op.create_index(op.f("ix_backtest_trades_run_id_ts"), "backtest_trades", ["run_id", "ts"])
    op.create_table(
        "backtest_equity_points",
        sa.Column("run_id", BIG_ID, nullable=False),
        sa.Column("ts", TIMESTAMP, nullable=False),
        sa.Column("equity", EXACT_DECIMAL, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["backtest_runs.id"],
            name=op.f("fk_backtest_equity_points_run_id_backtest_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "ts", name=op.f("pk_backtest_equity_points")),
    )


def downgrade() -> None:
    op.drop_table("backtest_equity_points")
    op.drop_index(op.f("ix_backtest_trades_run_id_ts"), table_name="backtest_trades")
    op.drop_table("backtest_trades")
    op.drop_index(op.f("ix_backtest_runs_bot_name_created_at"), table_name="backtest_runs")
    op.drop_index(op.f("ix_backtest_runs_sweep"), table_name="backtest_runs")
    op.drop_table("backtest_runs")
