"""Trigger orders: ``stop_market`` order type and a ``trigger_price`` on both order tables.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

A bot's stop-loss can rest on the venue as a reduce-only STOP_MARKET order, so the journal
(``orders``) and the paper venue's own book (``paper_orders``) must be able to hold one:
``order_type`` widens to 16 characters and its CHECK admits ``stop_market``; the price that
arms the order goes in ``trigger_price`` (NULL for market and limit orders). Batch mode so
SQLite recreates the tables (its named CHECKs are carried over); types are spelled out, as
in 0001, so this migration creates the same schema forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# database.types.ExactDecimal: TEXT on SQLite (its NUMERIC is a float), NUMERIC elsewhere.
EXACT_DECIMAL = sa.Numeric().with_variant(sa.Text(), "sqlite")
TABLES = ("orders", "paper_orders")
BEFORE = "order_type IN ('market', 'limit')"
AFTER = "order_type IN ('market', 'limit', 'stop_market')"


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_order_type"), type_="check")
            batch.alter_column(
                "order_type", existing_type=sa.String(length=8), type_=sa.String(length=16)
            )
            batch.add_column(sa.Column("trigger_price", EXACT_DECIMAL, nullable=True))
            batch.create_check_constraint(op.f(f"ck_{table}_order_type"), sa.text(AFTER))


def downgrade() -> None:
    for table in TABLES:
        # The old schema has no trigger orders: a stop executes as a market order, so that is
        # what it becomes (its fills still reference it).
        rows = sa.table(table, sa.column("order_type", sa.String))
        op.execute(
            rows.update().where(rows.c.order_type == "stop_market").values(order_type="market")
        )
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_order_type"), type_="check")
            batch.drop_column("trigger_price")
            batch.alter_column(
                "order_type", existing_type=sa.String(length=16), type_=sa.String(length=8)
            )
            batch.create_check_constraint(op.f(f"ck_{table}_order_type"), sa.text(BEFORE))
