"""Proxy health: egress IP and last check per proxy, failure count per account assignment.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

A proxy is checked through itself before a bot uses it and periodically after: the address
the venue sees (``egress_ip``), when it was last checked and why the last check failed
(``last_check_error``, NULL when it passed) are the proxy's. How often a proxy failed an
account (``failure_count``; at the pool's limit the assignment is marked ``burned``) is the
assignment's: a proxy banned by one venue account may still serve another. Types are spelled
out, as in 0001, so this migration creates the same schema forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# database.types.UTCDateTime
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("proxies") as batch:
        batch.add_column(sa.Column("egress_ip", sa.String(length=45), nullable=True))
        batch.add_column(sa.Column("last_checked_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("last_check_error", sa.String(length=200), nullable=True))
    with op.batch_alter_table("account_proxy_assignments") as batch:
        batch.add_column(
            sa.Column("failure_count", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("account_proxy_assignments") as batch:
        batch.drop_column("failure_count")
    with op.batch_alter_table("proxies") as batch:
        batch.drop_column("last_check_error")
        batch.drop_column("last_checked_at")
        batch.drop_column("egress_ip")
