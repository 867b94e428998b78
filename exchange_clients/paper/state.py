"""State the paper engine hands to persistence and takes back on restart.

:class:`OrderState` is the engine's own live order: mutable, because an order changes on
every fill and copying a frozen object each time would cost more than the matching itself.
The records are snapshots of the rest of the account, read-only by convention: those built on
every request (account, positions) are plain slotted dataclasses, three times cheaper to
build than frozen ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from exchange_clients.types import Order, OrderStatus, OrderType, Side, TimeInForce

_ZERO = Decimal(0)


class OrderState:
    """One order as the engine tracks it.

    ``filled_notional`` (sum of price x size of the fills) is kept instead of an average
    price so the average is one exact division, never an average of averages.
    ``queue_ahead`` is the size ahead of the order at its price level (resting orders only).
    ``trigger_price`` is set on STOP_MARKET orders only: they rest without a price, outside
    the price levels, until the mark crosses it.
    """

    __slots__ = (
        "client_order_id",
        "created_at",
        "fee_paid",
        "fill_count",
        "filled_notional",
        "filled_size",
        "is_buy",
        "order_type",
        "post_only",
        "price",
        "queue_ahead",
        "reduce_only",
        "seq",
        "side",
        "size",
        "status",
        "symbol",
        "time_in_force",
        "trigger_price",
        "updated_at",
        "venue_order_id",
    )

    def __init__(
        self,
        *,
        seq: int,
        venue_order_id: str,
        client_order_id: str,
        symbol: str,
        side: Side,
        order_type: OrderType,
        time_in_force: TimeInForce,
        size: Decimal,
        price: Decimal | None,
        status: OrderStatus,
        post_only: bool,
        reduce_only: bool,
        created_at: datetime,
        updated_at: datetime,
        filled_size: Decimal = _ZERO,
        filled_notional: Decimal = _ZERO,
        fee_paid: Decimal = _ZERO,
        fill_count: int = 0,
        queue_ahead: Decimal = _ZERO,
        trigger_price: Decimal | None = None,
    ) -> None:
        self.seq = seq
        self.venue_order_id = venue_order_id
        self.client_order_id = client_order_id
        self.symbol = symbol
        self.side: Side = side
        self.is_buy = side == "buy"
        self.order_type = order_type
        self.time_in_force = time_in_force
        self.size = size
        self.price = price
        self.status = status
        self.post_only = post_only
        self.reduce_only = reduce_only
        self.created_at = created_at
        self.updated_at = updated_at
        self.filled_size = filled_size
        self.filled_notional = filled_notional
        self.fee_paid = fee_paid
        self.fill_count = fill_count
        self.queue_ahead = queue_ahead
        self.trigger_price = trigger_price

    @property
    def remaining(self) -> Decimal:
        return self.size - self.filled_size

    def snapshot(self) -> Order:
        return Order(
            client_order_id=self.client_order_id,
            venue_order_id=self.venue_order_id,
            symbol=self.symbol,
            side=self.side,
            order_type=self.order_type,
            size=self.size,
            price=self.price,
            status=self.status,
            filled_size=self.filled_size,
            avg_fill_price=self.filled_notional / self.filled_size if self.filled_size else None,
            fee_paid=self.fee_paid,
            post_only=self.post_only,
            reduce_only=self.reduce_only,
            time_in_force=self.time_in_force,
            created_at=self.created_at,
            updated_at=self.updated_at,
            trigger_price=self.trigger_price,
        )


@dataclass(slots=True)
class PositionRecord:
    """A position for persistence; ``entry_notional`` = |size| x entry price, kept exact."""

    symbol: str
    size: Decimal
    entry_notional: Decimal
    accrued_funding: Decimal


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """Funding settled on one position at one funding time; ``amount`` > 0 was received."""

    symbol: str
    paid_at: datetime
    rate: Decimal
    position_size: Decimal
    mark_price: Decimal
    amount: Decimal


@dataclass(slots=True)
class AccountRecord:
    """The account-wide part of the state."""

    wallet: Decimal
    next_order_seq: int
    funding_settled_until: datetime
    leverage: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """What a restarted engine resumes from: resting orders, positions and every used id."""

    account: AccountRecord
    open_orders: list[OrderState]
    positions: list[PositionRecord]
    client_order_ids: set[str]
