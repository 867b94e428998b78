"""Client order ids reserved ahead of the orders that will use them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

``order_id_reservations`` holds client order ids a bot committed while waiting for its next
signal, so an order can be sent under one without a database write between its decision and
its send (see database.models.trading.ReservedOrderId and execution.reserved_ids). One b-tree
keyed by the id, no foreign key, and on SQLite no rowid, as ``order_intents``. Types are
spelled out, as in 0001, so this migration creates the same schema forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# database.types.UTCDateTime
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "order_id_reservations",
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("venue", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=True),
        sa.Column("reserved_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("client_order_id", name="pk_order_id_reservations"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    held = op.get_bind().execute(sa.text("SELECT count(*) FROM order_id_reservations")).scalar()
    if held:
        raise RuntimeError(
            f"{held} reserved client order id(s) are still held: start each bot once (its "
            "journal resolves them against the venue at start-up) and stop it cleanly before "
            "downgrading, or an order sent under one could be lost"
        )
    op.drop_table("order_id_reservations")
