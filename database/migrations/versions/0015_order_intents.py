"""Pending order intents: the durable write before a send, on a table of its own.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

``order_intents`` holds an order's intent from the moment it is committed (before the order
is sent) until the journal moves it into ``orders`` (its next transaction, or the next start):
one b-tree keyed by the client order id, no foreign key, and on SQLite no rowid, so the write
on every order's critical path is one small page instead of the ``orders`` row's five b-trees
and three foreign-key checks (see database.models.trading.PendingIntent). Types are spelled
out, as in 0001, so this migration creates the same schema forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_intents",
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("order_row", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("client_order_id", name="pk_order_intents"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    pending = op.get_bind().execute(sa.text("SELECT count(*) FROM order_intents")).scalar()
    if pending:
        raise RuntimeError(
            f"{pending} order intent(s) are not in the orders table yet: start each bot once "
            "(its journal moves them at start-up) before downgrading, or they are lost"
        )
    op.drop_table("order_intents")
