"""Signal strategies' market data: candles, Polymarket snapshots and the signals table.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

Placeholder revision in the chain; the signal-strategy change fills it.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Tables are added here by the change that builds the feature."""


def downgrade() -> None:
    pass
