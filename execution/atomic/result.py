"""What an atomic operation did: per leg, every order, fills, fees, slippage; what is left.

The result is built up while the operation runs and concluded exactly once: whatever happens
on the way out (an exception, a rollback, recovery after a crash) adds to it and never
replaces it, so the fills of the legs that did trade are never lost from the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from exchange_clients.types import Order
from execution.atomic.legs import Leg
from execution.order_state import merge_order_state

ZERO = Decimal(0)
BPS = Decimal(10_000)


class AtomicStatus(StrEnum):
    COMPLETED = "completed"  # every leg filled in full, net exposure within tolerance
    PARTIAL = "partial"  # hedged, at less than the requested size
    ROLLED_BACK = "rolled_back"  # flat again
    PREFLIGHT_FAILED = "preflight_failed"  # nothing was sent
    FAILED = "failed"  # exposure beyond tolerance is left; see residual_exposure


class ResultAlreadyConcluded(RuntimeError):
    """A second conclusion would overwrite the first: a bug in the caller."""


@dataclass
class LegResult:
    """One leg: its target, and every order sent for it, in its latest known state."""

    leg: Leg
    reference_price: Decimal | None = None  # the touch at preflight, for slippage
    orders: dict[str, Order] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    position_before: Decimal | None = None
    position_after: Decimal | None = None
    # The venue refused a reduce-only order of this leg (or showed no position left to
    # reduce): nothing remains to close on this venue in the direction that would help.
    flat: bool = False

    def apply(self, order: Order) -> None:
        """Record the latest state of one of this leg's orders (merged, never regressing)."""
        known = self.orders.get(order.client_order_id)
        self.orders[order.client_order_id] = (
            order if known is None else merge_order_state(known, order)
        )

    @property
    def opened(self) -> Decimal:
        """Filled in the leg's own direction."""
        return sum((o.filled_size for o in self.orders.values() if o.side == self.leg.side), ZERO)

    @property
    def closed(self) -> Decimal:
        """Filled against the leg's direction (hedging down, rolling back)."""
        return sum((o.filled_size for o in self.orders.values() if o.side != self.leg.side), ZERO)

    @property
    def net(self) -> Decimal:
        """What the leg holds now, in its own direction."""
        return self.opened - self.closed

    @property
    def signed_net(self) -> Decimal:
        return self.leg.direction * self.net

    @property
    def remaining(self) -> Decimal:
        return self.leg.size - self.net

    @property
    def complete(self) -> bool:
        return self.net >= self.leg.size

    @property
    def done(self) -> bool:
        """Nothing more to do on this leg: filled in full, or (closing) the position is gone."""
        return self.complete or self.flat

    @property
    def closable_before(self) -> Decimal:
        """How much of this closing leg the position before allowed (reduce-only caps it)."""
        held = -self.leg.direction * (self.position_before or ZERO)
        return max(ZERO, min(self.leg.size, held))

    def close_residual(self) -> Decimal | None:
        """Signed exposure this closing leg left beyond its target (None: position unknown).

        The target is the position before, moved toward zero by the leg's size and never past
        it: a close reduces what is there, it never opens. A leg that was already flat has
        nothing to close and is on target.
        """
        if self.position_after is None:
            return None
        target = (self.position_before or ZERO) + self.leg.direction * self.closable_before
        return self.position_after - target

    @property
    def fees(self) -> Decimal:
        return sum((o.fee_paid for o in self.orders.values()), ZERO)

    @property
    def entry_price(self) -> Decimal | None:
        """Average price of what was opened."""
        opening = [o for o in self.orders.values() if o.side == self.leg.side and o.avg_fill_price]
        size = sum((o.filled_size for o in opening), ZERO)
        if not size:
            return None
        return sum((o.filled_size * (o.avg_fill_price or ZERO) for o in opening), ZERO) / size

    @property
    def slippage_bps(self) -> Decimal | None:
        """Entry price against the preflight touch, in basis points; positive = worse."""
        entry, reference = self.entry_price, self.reference_price
        if entry is None or not reference:
            return None
        return self.leg.direction * (entry - reference) / reference * BPS

    @property
    def unfinished(self) -> list[str]:
        return [cid for cid, o in self.orders.items() if not o.status.is_final]

    def to_json(self) -> dict[str, Any]:
        return {
            "leg": self.leg.to_json(),
            "reference_price": self.reference_price,
            "opened": self.opened,
            "closed": self.closed,
            "net": self.net,
            "entry_price": self.entry_price,
            "fees": self.fees,
            "slippage_bps": self.slippage_bps,
            "position_before": self.position_before,
            "position_after": self.position_after,
            "flat": self.flat,
            "orders": [
                {
                    "client_order_id": o.client_order_id,
                    "venue_order_id": o.venue_order_id,
                    "side": o.side,
                    "type": o.order_type.value,
                    "reduce_only": o.reduce_only,
                    "size": o.size,
                    "filled_size": o.filled_size,
                    "avg_fill_price": o.avg_fill_price,
                    "fee": o.fee_paid,
                    "status": o.status.value,
                }
                for o in self.orders.values()
            ],
            "rejected": list(self.rejected),
        }


@dataclass
class AtomicResult:
    """The whole operation. ``status`` is None until :meth:`conclude` is called, once."""

    operation_id: str
    legs: list[LegResult]
    status: AtomicStatus | None = None
    problems: list[str] = field(default_factory=list)  # preflight refusals
    events: list[str] = field(default_factory=list)  # what happened, in order
    residual_exposure: Decimal | None = None  # net, from venue positions after the operation
    verified: bool | None = None  # venue positions agree with the orders' fills
    recovered: bool = False  # finished by recovery after the original process died
    # A close (every leg reduce-only): its legs only ever move toward flat, see executor.
    closing: bool = False

    def leg(self, venue: str) -> LegResult:
        for leg in self.legs:
            if leg.leg.venue == venue:
                return leg
        raise KeyError(f"no leg on {venue!r} in operation {self.operation_id}")

    def note(self, event: str) -> None:
        self.events.append(event)

    @property
    def net_exposure(self) -> Decimal:
        """Net exposure according to the orders' fills (venue positions: ``residual_exposure``)."""
        return sum((leg.signed_net for leg in self.legs), ZERO)

    @property
    def fees(self) -> Decimal:
        return sum((leg.fees for leg in self.legs), ZERO)

    @property
    def order_ids(self) -> list[str]:
        return [cid for leg in self.legs for cid in (*leg.orders, *leg.rejected)]

    @property
    def balanced(self) -> bool:
        """Every leg holds the same fraction of its target."""
        ratios = {leg.net / leg.leg.size for leg in self.legs}
        return len(ratios) == 1

    def conclude(self, status: AtomicStatus) -> None:
        if self.status is not None:
            raise ResultAlreadyConcluded(
                f"operation {self.operation_id} already concluded {self.status}, not {status}"
            )
        self.status = status

    def to_json(self) -> dict[str, Any]:
        return {
            "operation_id": self.operation_id,
            "status": self.status.value if self.status else None,
            "legs": [leg.to_json() for leg in self.legs],
            "net_exposure": self.net_exposure,
            "residual_exposure": self.residual_exposure,
            "verified": self.verified,
            "fees": self.fees,
            "problems": list(self.problems),
            "events": list(self.events),
            "recovered": self.recovered,
            "closing": self.closing,
        }
