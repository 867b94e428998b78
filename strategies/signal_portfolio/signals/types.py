"""What a signal strategy reads (:class:`MarketSnapshot`) and what it says (:class:`Signal`).

A snapshot is built once per tick per asset and shared by every signal strategy: the closed
candles per interval, funding and open interest (with the OI history its percentile needs)
and the Polymarket crowd's view of the asset. Strategies never fetch anything themselves, so
seven of them cost one build, and a test builds a snapshot by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from exchange_clients.market_data.candles import Candle


class Direction(StrEnum):
    LONG = "LONG"
    SHORT = "SHORT"
    CLOSE = "CLOSE"

    @property
    def opposite(self) -> Direction:
        if self is Direction.CLOSE:
            return self
        return Direction.SHORT if self is Direction.LONG else Direction.LONG


@dataclass(frozen=True, slots=True)
class Signal:
    """A strategy's call on one asset: go LONG or SHORT, or CLOSE what it holds."""

    strategy: str
    asset: str
    venue: str
    direction: Direction
    confidence: Decimal
    entry_price: Decimal
    ts: datetime
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.confidence <= Decimal(1):
            raise ValueError(f"{self.strategy}: confidence {self.confidence} is outside 0..1")
        if self.entry_price <= 0:
            raise ValueError(f"{self.strategy}: entry_price {self.entry_price} must be positive")
        if self.ts.tzinfo is None:
            raise ValueError(f"{self.strategy}: a signal needs a timezone-aware ts")


@dataclass(frozen=True, slots=True)
class PolymarketView:
    """The crowd's view of one asset's direction, from its prediction markets.

    ``up_probability`` is the liquidity-weighted probability the markets give a rise (an
    Up/Down market's Up price; a "will X be above/higher" market's YES price); ``liquidity``
    and ``volume_24h`` are summed over the markets counted (USD).
    """

    up_probability: Decimal
    liquidity: Decimal
    volume_24h: Decimal
    markets: int
    ts: datetime


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """Everything the signal strategies may read about one asset at one tick."""

    venue: str
    asset: str
    ts: datetime
    price: Decimal
    candles: Mapping[str, tuple[Candle, ...]]
    """Closed candles per interval ("1m", "5m", "1h"), oldest first."""
    funding_rate: Decimal | None = None
    """Funding per funding interval, as a fraction (0.0001 = 0.01 %); positive: longs pay."""
    open_interest: Decimal | None = None
    open_interest_history: tuple[Decimal, ...] = ()
    """Recent open-interest readings, oldest first (the current one included)."""
    polymarket: PolymarketView | None = None

    def closes(self, interval: str) -> list[Decimal]:
        return [c.close for c in self.candles.get(interval, ())]
