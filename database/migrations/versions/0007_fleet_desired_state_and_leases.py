"""Fleet desired state, a status detail per bot, and one lease per bot name.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

``bots.desired_state`` is what the operator asked for (``fleet up`` starts only ``running``
bots); rows the fleet was running get ``running`` so an upgrade changes nothing for them.
``bots.status_detail`` says why a bot failed or stopped. ``bot_leases`` holds, per bot name,
the process that runs it (host, pid, heartbeat) and a fencing token. Types are spelled out
(not imported) for the same reason as in 0001: this migration must create the same schema
forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# database.types.UTCDateTime
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("bots", sa.Column("status_detail", sa.Text(), nullable=True))
    op.add_column("bots", sa.Column("desired_state", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE bots SET desired_state = CASE WHEN status IN ('running', 'starting') "
        "THEN 'running' ELSE 'stopped' END WHERE supervisor_program IS NOT NULL"
    )
    op.create_table(
        "bot_leases",
        sa.Column("bot_name", sa.String(length=64), nullable=False),
        sa.Column("fencing_token", sa.Integer(), nullable=False),
        sa.Column("holder_host", sa.String(length=255), nullable=True),
        sa.Column("holder_pid", sa.Integer(), nullable=True),
        sa.Column("acquired_at", TIMESTAMP, nullable=True),
        sa.Column("heartbeat_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("bot_name", name=op.f("pk_bot_leases")),
    )


def downgrade() -> None:
    op.drop_table("bot_leases")
    with op.batch_alter_table("bots") as batch:
        batch.drop_column("desired_state")
        batch.drop_column("status_detail")
