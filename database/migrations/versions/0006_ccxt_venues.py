"""Venues served through the generic ccxt client: ccxt_binanceusdm, ccxt_bybit, ccxt_okx.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21

Literal rows (not an import of the catalogue), as in 0001: this migration must insert the
same rows forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VENUE_ROWS = [
    {
        "name": "ccxt_binanceusdm",
        "display_name": "Binance USD-M via ccxt",
        "kind": "cex",
        "funding_interval_hours": 8,
    },
    {
        "name": "ccxt_bybit",
        "display_name": "Bybit USDT perpetuals via ccxt",
        "kind": "cex",
        "funding_interval_hours": 8,
    },
    {
        "name": "ccxt_okx",
        "display_name": "OKX USDT swaps via ccxt",
        "kind": "cex",
        "funding_interval_hours": 8,
    },
]

_venues = sa.table(
    "venues",
    sa.column("name", sa.String),
    sa.column("display_name", sa.String),
    sa.column("kind", sa.String),
    sa.column("funding_interval_hours", sa.Integer),
)


def upgrade() -> None:
    op.bulk_insert(_venues, VENUE_ROWS)


def downgrade() -> None:
    op.execute(_venues.delete().where(_venues.c.name.in_([row["name"] for row in VENUE_ROWS])))
