"""Market data kept over time: the funding-rate history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from database.models.base import Base
from database.types import BigIntId, ExactDecimal, UTCDateTime


class FundingRate(Base):
    """One observation of a venue's funding rate for a symbol (DESIGN.md §3 ``FundingRate``).

    ``rate_per_interval`` is what the venue quotes for its ``interval_hours``;
    positive means longs pay shorts. Queries are "latest/history for venue and
    symbol", hence the (venue, symbol, observed_at) index.
    """

    __tablename__ = "funding_rates"
    __table_args__ = (Index(None, "venue", "symbol", "observed_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    venue: Mapped[str] = mapped_column(ForeignKey("venues.name"))
    symbol: Mapped[str] = mapped_column(String(32))
    rate_per_interval: Mapped[Decimal] = mapped_column(ExactDecimal())
    interval_hours: Mapped[int] = mapped_column(Integer)
    predicted_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    next_funding_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())
