"""Market data kept over time: the funding-rate history and each pair's latest row.

Written by the funding-rate service (``funding_rate_service.storage`` holds the queries and the
upsert rules); the shape and its indexes are explained in migration 0010.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from database.models.base import Base
from database.types import ExactDecimal, UTCDateTime


class _FundingColumns:
    """The columns of one venue/symbol/funding-time observation (history and latest alike).

    ``rate_per_interval`` is what the venue quotes for its ``interval_hours``, ``hourly_rate``
    the same per hour; positive means longs pay shorts. ``funding_time`` is the settlement the
    rate belongs to. ``source`` is ``estimate`` (collected live before the settlement) or
    ``settled`` (the venue's published history).
    """

    venue: Mapped[str] = mapped_column(String(32))
    symbol: Mapped[str] = mapped_column(String(32))
    funding_time: Mapped[datetime] = mapped_column(UTCDateTime())
    rate_per_interval: Mapped[Decimal] = mapped_column(ExactDecimal())
    interval_hours: Mapped[Decimal] = mapped_column(ExactDecimal())
    hourly_rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    predicted_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    mark_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    index_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    open_interest_usd: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    volume_24h_usd: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    next_funding_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    maker_fee: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    taker_fee: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    fee_source: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FundingRate(_FundingColumns, Base):
    """History: one row per venue, symbol and funding time (DESIGN.md §3 ``FundingRate``)."""

    __tablename__ = "funding_rates"
    # Key order matters: (venue, symbol, funding_time) is the index of one pair's range.
    __table_args__ = (
        PrimaryKeyConstraint("venue", "symbol", "funding_time"),
        Index(None, "funding_time"),  # B-tree: BRIN measured and refused (migration 0010)
    )


class FundingRateLatest(_FundingColumns, Base):
    """The newest row of each venue/symbol, kept with the history by the same upsert."""

    __tablename__ = "funding_rates_latest"
    __table_args__ = (PrimaryKeyConstraint("venue", "symbol"),)
