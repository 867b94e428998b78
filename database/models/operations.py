"""Multi-leg operations of the atomic executor, journaled so a restart can finish them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from database.models.base import Base, Timestamps, one_of
from database.types import BigIntId, JSONDocument

OPERATION_STATUSES = (
    "running",  # orders may be in flight: a restart must complete or unwind it
    "completed",  # every leg filled, net exposure within tolerance
    "partial",  # legs balanced at less than the requested size
    "rolled_back",  # unwound to flat
    "preflight_failed",  # refused before anything was sent
    "failed",  # residual exposure left: the result says exactly what, an alert was raised
)


class AtomicOperation(Timestamps, Base):
    """One call of the atomic multi-leg executor.

    ``plan`` (legs, policy, positions before the first order) is written before any order
    is sent; the orders of the operation carry its ``operation_id``. ``result`` is written
    once the operation ends. A row still ``running`` at start-up belongs to a process that
    died mid-way: recovery rebuilds its legs from the journaled orders and finishes it.
    """

    __tablename__ = "atomic_operations"
    __table_args__ = (one_of("status", OPERATION_STATUSES),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    operation_id: Mapped[str] = mapped_column(String(64), unique=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id"), index=True)
    purpose: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="running")
    plan: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    error: Mapped[str | None] = mapped_column(Text)
