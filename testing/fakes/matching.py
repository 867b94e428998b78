"""Matching and position bookkeeping the fake venues share (each keeps its own wire shapes).

Book sides are ``{price: size}`` dicts; positions keep the exact cost of their open amount,
so the average entry is exact and realised PnL is computed on it, as venues report it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)
Level = tuple[Decimal, Decimal]


def take_liquidity(
    side: dict[Decimal, Decimal], qty: Decimal, *, buying: bool, limit: Decimal | None = None
) -> list[Level]:
    """Take up to ``qty`` from ``side`` (the asks for a buyer), best price first, never past
    ``limit``; emptied levels are removed. Returns the ``(price, qty)`` taken."""
    taken: list[Level] = []
    remaining = qty
    for price in sorted(side, reverse=not buying):
        if remaining <= 0:
            break
        if limit is not None and (price > limit if buying else price < limit):
            break
        take = min(side[price], remaining)
        taken.append((price, take))
        remaining -= take
        side[price] -= take
    for price, _ in taken:
        if side[price] == 0:
            del side[price]
    return taken


@dataclass
class NetPosition:
    """A one-way position: signed ``amount`` and the exact ``cost`` of what is open."""

    amount: Decimal = ZERO
    cost: Decimal = ZERO

    @property
    def entry(self) -> Decimal:
        return self.cost / abs(self.amount) if self.amount else ZERO

    def fill(self, signed_qty: Decimal, price: Decimal) -> Decimal:
        """Apply one fill (positive buys); returns the PnL it realised."""
        if self.amount == 0 or (self.amount > 0) == (signed_qty > 0):
            self.amount += signed_qty
            self.cost += price * abs(signed_qty)
            return ZERO
        closing = min(abs(signed_qty), abs(self.amount))
        entry = self.entry
        direction = 1 if self.amount > 0 else -1
        realized = (price - entry) * closing * direction
        self.cost -= entry * closing
        self.amount += signed_qty
        if self.amount == 0:
            self.cost = ZERO
        elif (self.amount > 0) != (direction > 0):  # flipped: the rest opened at this price
            self.cost = price * abs(self.amount)
        return realized
