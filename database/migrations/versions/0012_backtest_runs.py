"""Backtest runs, their trades and equity points.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

Placeholder revision in the chain; the backtest change fills it.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Tables are added here by the change that builds the feature."""


def downgrade() -> None:
    pass
