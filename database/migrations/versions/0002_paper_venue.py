"""Paper venue state: simulated accounts, their orders, positions and funding payments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Types are spelled out here (not imported from ``database.types``) for the same reason as in
0001: this migration must create the same schema forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# database.types.ExactDecimal: TEXT on SQLite (its NUMERIC is a float), NUMERIC elsewhere.
EXACT_DECIMAL = sa.Numeric().with_variant(sa.Text(), "sqlite")
# database.types.UTCDateTime
TIMESTAMP = sa.DateTime(timezone=True)
# database.types.JSONDocument
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# database.types.BigIntId
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "paper_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venue", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("wallet", EXACT_DECIMAL, nullable=False),
        sa.Column("leverage", JSON_DOCUMENT, nullable=False),
        sa.Column("next_order_seq", sa.BigInteger(), nullable=False),
        sa.Column("funding_settled_until", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["venue"], ["venues.name"], name=op.f("fk_paper_accounts_venue_venues")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_accounts")),
        sa.UniqueConstraint("venue", "name", name=op.f("uq_paper_accounts_venue_name")),
    )
    op.create_table(
        "paper_funding_payments",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("paid_at", TIMESTAMP, nullable=False),
        sa.Column("rate", EXACT_DECIMAL, nullable=False),
        sa.Column("position_size", EXACT_DECIMAL, nullable=False),
        sa.Column("mark_price", EXACT_DECIMAL, nullable=False),
        sa.Column("amount", EXACT_DECIMAL, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["paper_accounts.id"],
            name=op.f("fk_paper_funding_payments_account_id_paper_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_funding_payments")),
        sa.UniqueConstraint(
            "account_id",
            "symbol",
            "paid_at",
            name=op.f("uq_paper_funding_payments_account_id_symbol_paid_at"),
        ),
    )
    op.create_table(
        "paper_orders",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("venue_order_id", sa.String(length=128), nullable=False),
        sa.Column("client_order_id", sa.String(length=128), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("order_type", sa.String(length=8), nullable=False),
        sa.Column("time_in_force", sa.String(length=3), nullable=False),
        sa.Column("price", EXACT_DECIMAL, nullable=True),
        sa.Column("size", EXACT_DECIMAL, nullable=False),
        sa.Column("filled_size", EXACT_DECIMAL, nullable=False),
        sa.Column("filled_notional", EXACT_DECIMAL, nullable=False),
        sa.Column("fee_paid", EXACT_DECIMAL, nullable=False),
        sa.Column("fill_count", sa.Integer(), nullable=False),
        sa.Column("queue_ahead", EXACT_DECIMAL, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("post_only", sa.Boolean(), nullable=False),
        sa.Column("reduce_only", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "order_type IN ('market', 'limit')", name=op.f("ck_paper_orders_order_type")
        ),
        sa.CheckConstraint("side IN ('buy', 'sell')", name=op.f("ck_paper_orders_side")),
        sa.CheckConstraint(
            "status IN ('pending', 'open', 'partially_filled', 'filled', 'pending_cancel', "
            "'cancelled', 'rejected', 'expired', 'failed', 'lost')",
            name=op.f("ck_paper_orders_status"),
        ),
        sa.CheckConstraint(
            "time_in_force IN ('gtc', 'ioc')", name=op.f("ck_paper_orders_time_in_force")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["paper_accounts.id"],
            name=op.f("fk_paper_orders_account_id_paper_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_orders")),
        sa.UniqueConstraint(
            "account_id", "client_order_id", name=op.f("uq_paper_orders_account_id_client_order_id")
        ),
        sa.UniqueConstraint(
            "account_id", "venue_order_id", name=op.f("uq_paper_orders_account_id_venue_order_id")
        ),
    )
    op.create_index(
        op.f("ix_paper_orders_account_id_status"), "paper_orders", ["account_id", "status"]
    )
    op.create_table(
        "paper_positions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("size", EXACT_DECIMAL, nullable=False),
        sa.Column("entry_notional", EXACT_DECIMAL, nullable=False),
        sa.Column("accrued_funding", EXACT_DECIMAL, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["paper_accounts.id"],
            name=op.f("fk_paper_positions_account_id_paper_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_positions")),
        sa.UniqueConstraint(
            "account_id", "symbol", name=op.f("uq_paper_positions_account_id_symbol")
        ),
    )


def downgrade() -> None:
    op.drop_table("paper_positions")
    op.drop_index(op.f("ix_paper_orders_account_id_status"), table_name="paper_orders")
    op.drop_table("paper_orders")
    op.drop_table("paper_funding_payments")
    op.drop_table("paper_accounts")
