"""Initial schema: reference data, accounts and secrets, bots, trading records, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-21

Types are spelled out here (not imported from ``database.types``) so this
migration keeps creating the same schema even if the application's types
change later; they compile to exactly what the models' types compile to.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
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

# core.venues.VENUES as of this revision. Literal rows, not an import: a migration
# must insert the same rows forever; a venue added to the catalogue later gets its own migration
# (tests/database/test_migrations.py fails until it does).
VENUE_ROWS = [
    {
        "name": "paper",
        "display_name": "Paper (simulated)",
        "kind": "paper",
        "funding_interval_hours": 1,
    },
    {
        "name": "paper_a",
        "display_name": "Paper A (simulated, hourly funding)",
        "kind": "paper",
        "funding_interval_hours": 1,
    },
    {
        "name": "paper_b",
        "display_name": "Paper B (simulated, 8-hourly funding)",
        "kind": "paper",
        "funding_interval_hours": 8,
    },
    {
        "name": "hyperliquid",
        "display_name": "Hyperliquid",
        "kind": "dex",
        "funding_interval_hours": 1,
    },
    {"name": "aster", "display_name": "Aster", "kind": "dex", "funding_interval_hours": 8},
    {
        "name": "binance",
        "display_name": "Binance USD-M Futures",
        "kind": "cex",
        "funding_interval_hours": 8,
    },
    {"name": "backpack", "display_name": "Backpack", "kind": "cex", "funding_interval_hours": 1},
    {"name": "lighter", "display_name": "Lighter", "kind": "dex", "funding_interval_hours": 1},
]


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("name", name=op.f("uq_accounts_name")),
    )
    op.create_table(
        "app_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_settings")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("ts", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("details", JSON_DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_ts"), "audit_log", ["ts"])
    op.create_table(
        "bots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("config", JSON_DOCUMENT, nullable=False),
        sa.Column("config_path", sa.Text(), nullable=True),
        sa.Column("supervisor_program", sa.String(length=128), nullable=True),
        sa.Column("control_port", sa.Integer(), nullable=True),
        sa.Column("control_token_hash", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_heartbeat_at", TIMESTAMP, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "status IN ('created', 'starting', 'running', 'stopping', 'stopped', 'crashed')",
            name=op.f("ck_bots_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bots")),
        sa.UniqueConstraint("control_port", name=op.f("uq_bots_control_port")),
        sa.UniqueConstraint("name", name=op.f("uq_bots_name")),
        sa.UniqueConstraint("supervisor_program", name=op.f("uq_bots_supervisor_program")),
    )
    op.create_table(
        "proxies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=True),
        sa.Column("scheme", sa.String(length=8), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("auth_blob", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "scheme IN ('http', 'https', 'socks4', 'socks5', 'socks5h')",
            name=op.f("ck_proxies_scheme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proxies")),
        sa.UniqueConstraint("label", name=op.f("uq_proxies_label")),
    )
    op.create_table(
        "venues",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("funding_interval_hours", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('paper', 'cex', 'dex')", name=op.f("ck_venues_kind")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_venues")),
    )
    venues = sa.table(
        "venues",
        sa.column("name", sa.String),
        sa.column("display_name", sa.String),
        sa.column("kind", sa.String),
        sa.column("funding_interval_hours", sa.Integer),
    )
    op.bulk_insert(venues, VENUE_ROWS)
    op.create_table(
        "account_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("venue", sa.String(length=32), nullable=False),
        sa.Column("sub_account", sa.String(length=64), nullable=False),
        sa.Column("public_fields", JSON_DOCUMENT, nullable=False),
        sa.Column("secret_fields", JSON_DOCUMENT, nullable=False),
        sa.Column("secrets_blob", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_credentials_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["venue"], ["venues.name"], name=op.f("fk_account_credentials_venue_venues")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_credentials")),
        sa.UniqueConstraint(
            "account_id",
            "venue",
            "sub_account",
            name=op.f("uq_account_credentials_account_id_venue_sub_account"),
        ),
    )
    op.create_table(
        "account_proxy_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("proxy_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("last_checked_at", TIMESTAMP, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'standby', 'burned')",
            name=op.f("ck_account_proxy_assignments_status"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_proxy_assignments_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proxy_id"],
            ["proxies.id"],
            name=op.f("fk_account_proxy_assignments_proxy_id_proxies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_proxy_assignments")),
        sa.UniqueConstraint(
            "account_id", "proxy_id", name=op.f("uq_account_proxy_assignments_account_id_proxy_id")
        ),
    )
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
    op.create_table(
        "orders",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("venue_order_id", sa.String(length=128), nullable=True),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("venue", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("order_type", sa.String(length=8), nullable=False),
        sa.Column("price", EXACT_DECIMAL, nullable=True),
        sa.Column("size", EXACT_DECIMAL, nullable=False),
        sa.Column("filled_size", EXACT_DECIMAL, nullable=False),
        sa.Column("avg_fill_price", EXACT_DECIMAL, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reduce_only", sa.Boolean(), nullable=False),
        sa.Column("post_only", sa.Boolean(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=True),
        sa.Column("operation_id", sa.String(length=64), nullable=True),
        sa.Column("raw", JSON_DOCUMENT, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("order_type IN ('market', 'limit')", name=op.f("ck_orders_order_type")),
        sa.CheckConstraint("side IN ('buy', 'sell')", name=op.f("ck_orders_side")),
        sa.CheckConstraint(
            "status IN ('pending', 'open', 'partially_filled', 'filled', 'pending_cancel', 'cancelled', 'rejected', 'expired', 'failed', 'lost')",
            name=op.f("ck_orders_status"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_orders_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["bot_id"], ["bots.id"], name=op.f("fk_orders_bot_id_bots")),
        sa.ForeignKeyConstraint(["venue"], ["venues.name"], name=op.f("fk_orders_venue_venues")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("client_order_id", name=op.f("uq_orders_client_order_id")),
    )
    op.create_index(op.f("ix_orders_bot_id_status"), "orders", ["bot_id", "status"])
    op.create_index(op.f("ix_orders_operation_id"), "orders", ["operation_id"])
    op.create_index(op.f("ix_orders_venue_venue_order_id"), "orders", ["venue", "venue_order_id"])
    op.create_table(
        "positions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("operation_id", sa.String(length=64), nullable=True),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.Column("realized_pnl", EXACT_DECIMAL, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "status IN ('opening', 'open', 'closing', 'closed', 'failed')",
            name=op.f("ck_positions_status"),
        ),
        sa.ForeignKeyConstraint(["bot_id"], ["bots.id"], name=op.f("fk_positions_bot_id_bots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_positions")),
    )
    op.create_index(op.f("ix_positions_bot_id"), "positions", ["bot_id"])
    op.create_index(op.f("ix_positions_operation_id"), "positions", ["operation_id"])
    op.create_table(
        "fills",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("venue", sa.String(length=32), nullable=False),
        sa.Column("venue_fill_id", sa.String(length=128), nullable=False),
        sa.Column("order_id", BIG_ID, nullable=False),
        sa.Column("price", EXACT_DECIMAL, nullable=False),
        sa.Column("size", EXACT_DECIMAL, nullable=False),
        sa.Column("fee", EXACT_DECIMAL, nullable=False),
        sa.Column("fee_asset", sa.String(length=16), nullable=True),
        sa.Column("liquidity", sa.String(length=8), nullable=False),
        sa.Column("ts", TIMESTAMP, nullable=False),
        sa.CheckConstraint("liquidity IN ('maker', 'taker')", name=op.f("ck_fills_liquidity")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_fills_order_id_orders")),
        sa.ForeignKeyConstraint(["venue"], ["venues.name"], name=op.f("fk_fills_venue_venues")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fills")),
        sa.UniqueConstraint("venue", "venue_fill_id", name=op.f("uq_fills_venue_venue_fill_id")),
    )
    op.create_index(op.f("ix_fills_order_id"), "fills", ["order_id"])
    op.create_table(
        "position_legs",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("position_id", BIG_ID, nullable=False),
        sa.Column("venue", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=5), nullable=False),
        sa.Column("size", EXACT_DECIMAL, nullable=False),
        sa.Column("entry_price", EXACT_DECIMAL, nullable=True),
        sa.Column("exit_price", EXACT_DECIMAL, nullable=True),
        sa.Column("fees", EXACT_DECIMAL, nullable=False),
        sa.Column("funding", EXACT_DECIMAL, nullable=False),
        sa.Column("opened_at", TIMESTAMP, nullable=True),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("side IN ('long', 'short')", name=op.f("ck_position_legs_side")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_position_legs_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["positions.id"],
            name=op.f("fk_position_legs_position_id_positions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["venue"], ["venues.name"], name=op.f("fk_position_legs_venue_venues")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position_legs")),
        sa.UniqueConstraint(
            "position_id",
            "venue",
            "account_id",
            "symbol",
            name=op.f("uq_position_legs_position_id_venue_account_id_symbol"),
        ),
    )
    op.create_table(
        "funding_payments",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("venue", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("position_leg_id", BIG_ID, nullable=True),
        sa.Column("amount", EXACT_DECIMAL, nullable=False),
        sa.Column("asset", sa.String(length=16), nullable=False),
        sa.Column("rate", EXACT_DECIMAL, nullable=True),
        sa.Column("position_size", EXACT_DECIMAL, nullable=True),
        sa.Column("paid_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_funding_payments_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["position_leg_id"],
            ["position_legs.id"],
            name=op.f("fk_funding_payments_position_leg_id_position_legs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["venue"], ["venues.name"], name=op.f("fk_funding_payments_venue_venues")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_payments")),
        sa.UniqueConstraint(
            "venue",
            "account_id",
            "symbol",
            "paid_at",
            name=op.f("uq_funding_payments_venue_account_id_symbol_paid_at"),
        ),
    )
    op.create_index(
        op.f("ix_funding_payments_position_leg_id"), "funding_payments", ["position_leg_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_funding_payments_position_leg_id"), table_name="funding_payments")
    op.drop_table("funding_payments")
    op.drop_table("position_legs")
    op.drop_index(op.f("ix_fills_order_id"), table_name="fills")
    op.drop_table("fills")
    op.drop_index(op.f("ix_positions_operation_id"), table_name="positions")
    op.drop_index(op.f("ix_positions_bot_id"), table_name="positions")
    op.drop_table("positions")
    op.drop_index(op.f("ix_orders_venue_venue_order_id"), table_name="orders")
    op.drop_index(op.f("ix_orders_operation_id"), table_name="orders")
    op.drop_index(op.f("ix_orders_bot_id_status"), table_name="orders")
    op.drop_table("orders")
    op.drop_index(op.f("ix_funding_rates_venue_symbol_observed_at"), table_name="funding_rates")
    op.drop_table("funding_rates")
    op.drop_table("account_proxy_assignments")
    op.drop_table("account_credentials")
    op.drop_table("venues")
    op.drop_table("proxies")
    op.drop_table("bots")
    op.drop_index(op.f("ix_audit_log_ts"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("app_settings")
    op.drop_table("accounts")
