"""Positions (possibly spanning venues), their legs, and funding paid or received."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database.models.base import Base, Timestamps, one_of
from database.types import BigIntId, ExactDecimal, UTCDateTime, utcnow

POSITION_STATUSES = ("opening", "open", "closing", "closed", "failed")
LEG_SIDES = ("long", "short")


class Position(Timestamps, Base):
    """One logical position of a bot: a grid inventory, or both sides of an arbitrage.

    A cross-venue arbitrage is one ``positions`` row with a long leg on one venue
    and a short leg on another, so its P&L and lifecycle are tracked as a unit.
    """

    __tablename__ = "positions"
    __table_args__ = (one_of("status", POSITION_STATUSES),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id"), index=True)
    status: Mapped[str] = mapped_column(String(8), default="opening")
    operation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    realized_pnl: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal(0))

    legs: Mapped[list[PositionLeg]] = relationship(
        back_populates="position", cascade="all, delete-orphan", passive_deletes=True
    )


class PositionLeg(Timestamps, Base):
    """One venue/symbol side of a position, with its own entry, exit, fees and funding."""

    __tablename__ = "position_legs"
    __table_args__ = (
        UniqueConstraint("position_id", "venue", "account_id", "symbol"),
        one_of("side", LEG_SIDES),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    position_id: Mapped[int] = mapped_column(ForeignKey("positions.id", ondelete="CASCADE"))
    venue: Mapped[str] = mapped_column(ForeignKey("venues.name"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(5))
    size: Mapped[Decimal] = mapped_column(ExactDecimal())
    entry_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    exit_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    fees: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal(0))
    funding: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal(0))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    position: Mapped[Position] = relationship(back_populates="legs")


class FundingPayment(Base):
    """Funding actually paid (negative) or received (positive) on one venue position.

    Unique per venue/account/symbol/time so re-reading a venue's funding history
    does not double count.
    """

    __tablename__ = "funding_payments"
    __table_args__ = (UniqueConstraint("venue", "account_id", "symbol", "paid_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    venue: Mapped[str] = mapped_column(ForeignKey("venues.name"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    symbol: Mapped[str] = mapped_column(String(32))
    position_leg_id: Mapped[int | None] = mapped_column(
        ForeignKey("position_legs.id", ondelete="SET NULL"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    asset: Mapped[str] = mapped_column(String(16))
    rate: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    position_size: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
