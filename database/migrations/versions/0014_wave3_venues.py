"""Wave-3 native venues: Paradex, EdgeX and GRVT.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

Literal rows (not an import of the catalogue), as in 0001 and 0006: this migration must insert
the same rows forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VENUE_ROWS: list[dict[str, object]] = [
    # one row per wave-3 venue, added with its catalogue entry in core/venues.py
    {"name": "edgex", "display_name": "EdgeX", "kind": "dex", "funding_interval_hours": 4},
    {"name": "grvt", "display_name": "GRVT", "kind": "dex", "funding_interval_hours": 8},
    {"name": "paradex", "display_name": "Paradex", "kind": "dex", "funding_interval_hours": 8},
]

_venues = sa.table(
    "venues",
    sa.column("name", sa.String),
    sa.column("display_name", sa.String),
    sa.column("kind", sa.String),
    sa.column("funding_interval_hours", sa.Integer),
)


def upgrade() -> None:
    if VENUE_ROWS:
        op.bulk_insert(_venues, VENUE_ROWS)


def downgrade() -> None:
    op.execute(_venues.delete().where(_venues.c.name.in_([row["name"] for row in VENUE_ROWS])))
