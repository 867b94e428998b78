"""Dashboard users (password hashes, roles) and their sessions.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

Placeholder revision in the chain; the dashboard change fills it.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Tables are added here by the change that builds the feature."""


def downgrade() -> None:
    pass
