"""What the paper engine hands its client after each step: events to publish, rows to persist.

The engine records events as plain tuples on its hot path and this module turns them into the
public :class:`~exchange_clients.types.Order` / :class:`~exchange_clients.types.Fill` objects
only when asked: building a frozen 17-field dataclass costs more than matching the order did,
and nobody needs it when no one subscribes to the streams (benchmarks, backtests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from exchange_clients.paper.state import AccountRecord, FundingPayment, OrderState, PositionRecord
from exchange_clients.types import Fill, Liquidity, Order, OrderStatus

OrderEvent = tuple[OrderState, OrderStatus, Decimal, Decimal, Decimal, Decimal, datetime]
"""``(order, status, size, filled_size, filled_notional, fee_paid, updated_at)`` at one moment."""

FillEvent = tuple[OrderState, int, Decimal, Decimal, Decimal, Liquidity, datetime]
"""``(order, fill number within the order, price, size, fee, liquidity, ts)``."""


@dataclass(slots=True)
class EngineChanges:
    """Everything that changed since the previous drain, in the order it happened.

    Handed over once per drain and never changed after; not frozen only because a frozen
    dataclass costs three times as much to build, once per request.
    """

    venue: str
    order_events: list[OrderEvent]
    fill_events: list[FillEvent]
    orders: list[OrderState]
    """Live states of the changed orders: persist them before the engine runs again."""
    positions: list[PositionRecord]
    funding: list[FundingPayment]
    account: AccountRecord

    def order_updates(self) -> list[Order]:
        """Each recorded order state as the public type, oldest first."""
        return [
            Order(
                client_order_id=order.client_order_id,
                venue_order_id=order.venue_order_id,
                symbol=order.symbol,
                side=order.side,
                order_type=order.order_type,
                size=size,
                price=order.price,
                status=status,
                filled_size=filled,
                avg_fill_price=notional / filled if filled else None,
                fee_paid=fee,
                post_only=order.post_only,
                reduce_only=order.reduce_only,
                time_in_force=order.time_in_force,
                created_at=order.created_at,
                updated_at=ts,
                trigger_price=order.trigger_price,
            )
            for order, status, size, filled, notional, fee, ts in self.order_events
        ]

    def fills(self) -> list[Fill]:
        """Each fill as the public type; ids are ``<venue order id>-<n>``, unique per venue."""
        return [fill_from_event(self.venue, event) for event in self.fill_events]


def fill_from_event(venue: str, event: FillEvent) -> Fill:
    """One recorded fill as the public type (the stream and the fill history share it)."""
    order, number, price, size, fee, liquidity, ts = event
    return Fill(
        venue=venue,
        fill_id=f"{order.venue_order_id}-{number}",
        client_order_id=order.client_order_id,
        venue_order_id=order.venue_order_id,
        symbol=order.symbol,
        side=order.side,
        price=price,
        size=size,
        fee=fee,
        liquidity=liquidity,
        ts=ts,
    )
