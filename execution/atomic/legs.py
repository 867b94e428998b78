"""The legs of one atomic operation: the same underlying on several venues, hedging each other.

The executor's invariant is stated in net exposure (long legs minus short legs of the same
asset), so the legs must be one symbol (internal symbols are the same on every venue), at most
one leg per venue, and their signed sizes must sum to zero when all of them fill.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from exchange_clients.types import Side


@dataclass(frozen=True)
class Leg:
    """Trade ``size`` (base units) of ``symbol`` on ``venue`` in direction ``side``."""

    venue: str
    symbol: str
    side: Side
    size: Decimal
    reduce_only: bool = False  # closing legs: never open (or flip) a position

    def __post_init__(self) -> None:
        if self.side not in ("buy", "sell"):
            raise ValueError(f"leg on {self.venue}: side must be buy or sell, not {self.side!r}")
        if not self.size.is_finite() or self.size <= 0:
            raise ValueError(f"leg on {self.venue}: size must be positive, not {self.size}")

    @property
    def direction(self) -> int:
        """+1 for a buy, -1 for a sell: signed exposure is ``direction * size``."""
        return 1 if self.side == "buy" else -1

    def resized(self, size: Decimal) -> Leg:
        return Leg(self.venue, self.symbol, self.side, size, self.reduce_only)

    def to_json(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "symbol": self.symbol,
            "side": self.side,
            "size": self.size,
            "reduce_only": self.reduce_only,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Leg:
        side: Side = "buy" if data["side"] == "buy" else "sell"
        return cls(
            str(data["venue"]),
            str(data["symbol"]),
            side,
            Decimal(data["size"]),
            bool(data.get("reduce_only", False)),
        )


def check_legs(legs: Sequence[Leg]) -> None:
    """Raise ``ValueError`` unless ``legs`` form one hedged set (a caller's bug, not the market)."""
    if len(legs) < 2:
        raise ValueError(f"an atomic operation needs at least two legs, not {len(legs)}")
    venues = [leg.venue for leg in legs]
    if len(set(venues)) != len(venues):
        raise ValueError(f"at most one leg per venue, got {', '.join(venues)}")
    symbols = {leg.symbol for leg in legs}
    if len(symbols) != 1:
        raise ValueError(f"all legs must trade the same symbol, got {', '.join(sorted(symbols))}")
    net = sum((leg.direction * leg.size for leg in legs), Decimal(0))
    if net != 0:
        raise ValueError(f"the legs do not hedge each other: net size {net} (expected 0)")
