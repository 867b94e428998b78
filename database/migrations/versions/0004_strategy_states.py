"""Saved strategy state, one row per bot, so a restarted bot resumes instead of starting over.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21

Types are spelled out here (not imported from ``database.types``) for the same reason as in
0001: this migration must create the same schema forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# database.types.UTCDateTime
TIMESTAMP = sa.DateTime(timezone=True)
# database.types.JSONDocument
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "strategy_states",
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("state", JSON_DOCUMENT, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_strategy_states_bot_id_bots")
        ),
        sa.PrimaryKeyConstraint("bot_id", name=op.f("pk_strategy_states")),
    )


def downgrade() -> None:
    op.drop_table("strategy_states")
