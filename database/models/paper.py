"""The paper venue's own books: simulated accounts, their orders, positions and funding.

A paper venue is a venue we run ourselves, so its state has to live somewhere durable for a
restarted paper bot to resume with the same balance, resting orders (still matching) and
positions. These tables are that venue's storage, apart from the ``orders``/``fills`` tables,
which record what *our bots* sent to any venue.

One ``paper_accounts`` row per (paper venue, account name); everything else hangs off it and
goes with it (``ON DELETE CASCADE``). ``created_at``/``updated_at`` of orders are the paper
venue's clock (a test's manual clock included), not the database's.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from database.models.base import Base, Timestamps, one_of
from database.models.trading import ORDER_SIDES, ORDER_STATUSES, ORDER_TYPES
from database.types import BigIntId, ExactDecimal, JSONDocument, UTCDateTime

TIMES_IN_FORCE = ("gtc", "ioc")


class PaperAccount(Timestamps, Base):
    """One simulated account on one paper venue.

    ``leverage`` maps symbol to leverage (as a decimal string); ``next_order_seq`` numbers
    the account's orders across restarts; ``funding_settled_until`` is the last funding time
    already charged, so a restart neither skips nor repeats one.
    """

    __tablename__ = "paper_accounts"
    __table_args__ = (UniqueConstraint("venue", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venue: Mapped[str] = mapped_column(ForeignKey("venues.name"))
    name: Mapped[str] = mapped_column(String(64))
    wallet: Mapped[Decimal] = mapped_column(ExactDecimal())
    leverage: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    next_order_seq: Mapped[int] = mapped_column(BigInteger)
    funding_settled_until: Mapped[datetime] = mapped_column(UTCDateTime())


class PaperOrder(Base):
    """Every order a paper account ever accepted, finished ones included.

    Finished orders stay so that a client order id is never reused (unique per account) and
    ``order_status`` still answers after a restart. ``filled_notional`` (sum of price x size)
    keeps the average fill price exact; ``queue_ahead`` is the resting order's place in line.
    """

    __tablename__ = "paper_orders"
    __table_args__ = (
        UniqueConstraint("account_id", "client_order_id"),
        UniqueConstraint("account_id", "venue_order_id"),
        Index(None, "account_id", "status"),
        one_of("side", ORDER_SIDES),
        one_of("order_type", ORDER_TYPES),
        one_of("time_in_force", TIMES_IN_FORCE),
        one_of("status", ORDER_STATUSES),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("paper_accounts.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    venue_order_id: Mapped[str] = mapped_column(String(128))
    client_order_id: Mapped[str] = mapped_column(String(128))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(16))
    time_in_force: Mapped[str] = mapped_column(String(3))
    price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    trigger_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    size: Mapped[Decimal] = mapped_column(ExactDecimal())
    filled_size: Mapped[Decimal] = mapped_column(ExactDecimal())
    filled_notional: Mapped[Decimal] = mapped_column(ExactDecimal())
    fee_paid: Mapped[Decimal] = mapped_column(ExactDecimal())
    fill_count: Mapped[int] = mapped_column(Integer)
    queue_ahead: Mapped[Decimal] = mapped_column(ExactDecimal())
    status: Mapped[str] = mapped_column(String(16))
    post_only: Mapped[bool] = mapped_column(Boolean)
    reduce_only: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PaperPosition(Base):
    """A paper account's position in one symbol (size 0 when flat; the row is reused).

    ``entry_notional`` is |size| x entry price, kept instead of the price so that adding to
    a position is an exact sum; ``accrued_funding`` > 0 was received.
    """

    __tablename__ = "paper_positions"
    __table_args__ = (UniqueConstraint("account_id", "symbol"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("paper_accounts.id", ondelete="CASCADE"))
    symbol: Mapped[str] = mapped_column(String(32))
    size: Mapped[Decimal] = mapped_column(ExactDecimal())
    entry_notional: Mapped[Decimal] = mapped_column(ExactDecimal())
    accrued_funding: Mapped[Decimal] = mapped_column(ExactDecimal())


class PaperFundingPayment(Base):
    """Funding a paper account paid (amount < 0) or received at one funding time."""

    __tablename__ = "paper_funding_payments"
    __table_args__ = (UniqueConstraint("account_id", "symbol", "paid_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("paper_accounts.id", ondelete="CASCADE"))
    symbol: Mapped[str] = mapped_column(String(32))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    position_size: Mapped[Decimal] = mapped_column(ExactDecimal())
    mark_price: Mapped[Decimal] = mapped_column(ExactDecimal())
    amount: Mapped[Decimal] = mapped_column(ExactDecimal())
