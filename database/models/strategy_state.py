"""What a strategy needs to pick up where it left off after a restart."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from database.models.base import Base, Timestamps
from database.types import JSONDocument


class StrategyState(Timestamps, Base):
    """One row per bot: its strategy's saved state (a JSON document the strategy defines)."""

    __tablename__ = "strategy_states"

    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id"), primary_key=True)
    strategy: Mapped[str] = mapped_column(String(64))
    state: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
