"""Atomic multi-leg operations (execution/atomic): plan before the first order, result after.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

Types are spelled out here (not imported from ``database.types``) for the same reason as in
0001: this migration must create the same schema forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# database.types.UTCDateTime
TIMESTAMP = sa.DateTime(timezone=True)
# database.types.JSONDocument
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# database.types.BigIntId
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STATUSES = "'running', 'completed', 'partial', 'rolled_back', 'preflight_failed', 'failed'"


def upgrade() -> None:
    op.create_table(
        "atomic_operations",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("operation_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("plan", JSON_DOCUMENT, nullable=False),
        sa.Column("result", JSON_DOCUMENT, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_atomic_operations_status")),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_atomic_operations_bot_id_bots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atomic_operations")),
        sa.UniqueConstraint("operation_id", name=op.f("uq_atomic_operations_operation_id")),
    )
    op.create_index(
        op.f("ix_atomic_operations_bot_id"), "atomic_operations", ["bot_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_atomic_operations_bot_id"), table_name="atomic_operations")
    op.drop_table("atomic_operations")
