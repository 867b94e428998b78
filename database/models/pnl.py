"""Equity and PnL over time, one row per bot per sample, for charts and reports.

The control API tells the PnL *now*; history has to be sampled and kept. Rows are written by
whoever watches the running bots (the Telegram service's fleet watcher) and read back for
``/pnl`` charts. Money is :class:`~database.types.ExactDecimal`: exact on both backends.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from database.models.base import Base
from database.types import BigIntId, ExactDecimal, UTCDateTime, utcnow


class PnlSnapshot(Base):
    """A bot's equity and PnL components at ``ts`` (aware UTC).

    ``realized``, ``unrealized`` and ``funding`` are the bot's running totals as its control
    API reports them; ``equity`` is the account value across its venues.
    """

    __tablename__ = "pnl_snapshots"
    __table_args__ = (Index(None, "bot_id", "ts"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    equity: Mapped[Decimal] = mapped_column(ExactDecimal())
    realized: Mapped[Decimal] = mapped_column(ExactDecimal())
    unrealized: Mapped[Decimal] = mapped_column(ExactDecimal())
    funding: Mapped[Decimal] = mapped_column(ExactDecimal())
