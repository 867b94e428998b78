"""Telegram service: allowlisted users with roles, their alert subscriptions; PnL history.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21

Types are spelled out here (not imported from ``database.types``) for the same reason as in
0001: this migration must create the same schema forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# database.types.ExactDecimal: TEXT on SQLite (its NUMERIC is a float), NUMERIC elsewhere.
EXACT_DECIMAL = sa.Numeric().with_variant(sa.Text(), "sqlite")
# database.types.UTCDateTime
TIMESTAMP = sa.DateTime(timezone=True)
# database.types.BigIntId
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ROLES = "'admin', 'trader', 'viewer'"
EVENT_KINDS = "'fills', 'atomic_failures', 'kill_switch', 'bot_crash'"


def upgrade() -> None:
    op.create_table(
        "telegram_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(f"role IN ({ROLES})", name=op.f("ck_telegram_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telegram_users")),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_telegram_users_telegram_id")),
    )
    op.create_table(
        "telegram_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(f"kind IN ({EVENT_KINDS})", name=op.f("ck_telegram_subscriptions_kind")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["telegram_users.id"],
            name=op.f("fk_telegram_subscriptions_user_id_telegram_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telegram_subscriptions")),
        sa.UniqueConstraint("user_id", "kind", name=op.f("uq_telegram_subscriptions_user_id_kind")),
    )
    op.create_table(
        "pnl_snapshots",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("ts", TIMESTAMP, nullable=False),
        sa.Column("equity", EXACT_DECIMAL, nullable=False),
        sa.Column("realized", EXACT_DECIMAL, nullable=False),
        sa.Column("unrealized", EXACT_DECIMAL, nullable=False),
        sa.Column("funding", EXACT_DECIMAL, nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"],
            ["bots.id"],
            name=op.f("fk_pnl_snapshots_bot_id_bots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pnl_snapshots")),
    )
    op.create_index(op.f("ix_pnl_snapshots_bot_id_ts"), "pnl_snapshots", ["bot_id", "ts"])


def downgrade() -> None:
    op.drop_index(op.f("ix_pnl_snapshots_bot_id_ts"), table_name="pnl_snapshots")
    op.drop_table("pnl_snapshots")
    op.drop_table("telegram_subscriptions")
    op.drop_table("telegram_users")
