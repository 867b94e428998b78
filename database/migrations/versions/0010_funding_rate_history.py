"""Funding-rate history: one row per venue/symbol/funding time, and the latest row per pair.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

``funding_rates`` (0001) was never written; it is recreated in the shape the funding-rate
service stores: keyed by (venue, symbol, funding_time) so that collecting the same interval
again, or backfilling it from the venue's history, updates the one row (upsert) instead of
adding another. The primary key is also the index of the two hot queries (history of one
pair over a time range, and its newest row). ``funding_time`` gets a second index for the
queries across pairs (retention deletes, "everything since"): a B-tree on both databases.
BRIN was measured and refused (bench/funding_service.py, 1.05 M rows): it is 24 KiB against
10 MiB, but a backfill writes pair after pair, so the table's physical order does not follow
``funding_time`` and the last day of every pair took 85-130 ms through BRIN against 0.6 ms
through the B-tree.

``funding_rates_latest`` holds the newest row of each pair, written in the same transaction
as the history: "latest of every pair" is then a scan of a few hundred rows rather than a
DISTINCT ON over years of history. No foreign key to ``venues``: history outlives a venue's
removal from the catalogue, and paper/synthetic venues are collected too. Types are spelled
out, as in 0001, so this migration creates the same schema forever.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# database.types.ExactDecimal: TEXT on SQLite (its NUMERIC is a float), NUMERIC elsewhere.
EXACT_DECIMAL = sa.Numeric().with_variant(sa.Text(), "sqlite")
# database.types.UTCDateTime
TIMESTAMP = sa.DateTime(timezone=True)
# database.types.BigIntId
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _funding_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("venue", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("funding_time", TIMESTAMP, nullable=False),
        sa.Column("rate_per_interval", EXACT_DECIMAL, nullable=False),
        sa.Column("interval_hours", EXACT_DECIMAL, nullable=False),
        sa.Column("hourly_rate", EXACT_DECIMAL, nullable=False),
        sa.Column("predicted_rate", EXACT_DECIMAL, nullable=True),
        sa.Column("mark_price", EXACT_DECIMAL, nullable=True),
        sa.Column("index_price", EXACT_DECIMAL, nullable=True),
        sa.Column("open_interest_usd", EXACT_DECIMAL, nullable=True),
        sa.Column("volume_24h_usd", EXACT_DECIMAL, nullable=True),
        sa.Column("next_funding_time", TIMESTAMP, nullable=True),
        sa.Column("maker_fee", EXACT_DECIMAL, nullable=True),
        sa.Column("taker_fee", EXACT_DECIMAL, nullable=True),
        sa.Column("fee_source", sa.String(length=16), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("observed_at", TIMESTAMP, nullable=False),
    ]


def upgrade() -> None:
    op.drop_index(op.f("ix_funding_rates_venue_symbol_observed_at"), table_name="funding_rates")
    op.drop_table("funding_rates")
    op.create_table(
        "funding_rates",
        *_funding_columns(),
        sa.PrimaryKeyConstraint("venue", "symbol", "funding_time", name=op.f("pk_funding_rates")),
    )
    op.create_index(op.f("ix_funding_rates_funding_time"), "funding_rates", ["funding_time"])
    op.create_table(
        "funding_rates_latest",
        *_funding_columns(),
        sa.PrimaryKeyConstraint("venue", "symbol", name=op.f("pk_funding_rates_latest")),
    )


def downgrade() -> None:
    op.drop_table("funding_rates_latest")
    op.drop_index(op.f("ix_funding_rates_funding_time"), table_name="funding_rates")
    op.drop_table("funding_rates")
    op.create_table(
        "funding_rates",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("venue", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("rate_per_interval", EXACT_DECIMAL, nullable=False),
        sa.Column("interval_hours", sa.Integer(), nullable=False),
        sa.Column("predicted_rate", EXACT_DECIMAL, nullable=True),
        sa.Column("next_funding_time", TIMESTAMP, nullable=True),
        sa.Column("observed_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["venue"], ["venues.name"], name=op.f("fk_funding_rates_venue_venues")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_rates")),
    )
    op.create_index(
        op.f("ix_funding_rates_venue_symbol_observed_at"),
        "funding_rates",
        ["venue", "symbol", "observed_at"],
    )
