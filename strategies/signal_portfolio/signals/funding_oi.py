"""Fade crowded positioning confirmed by size: extreme funding while open interest is high.

Funding beyond +-``threshold_pct`` says which side is crowded; open interest at or above its
``oi_percentile`` (of the recent readings, at least ``min_oi_history`` of them) says the crowd
is large. Both together: fade the side paying funding.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from strategies.signal_portfolio.signals.indicators import percentile_rank, scaled_confidence
from strategies.signal_portfolio.signals.registry import (
    SignalParams,
    SignalStrategy,
    signal_strategy,
)
from strategies.signal_portfolio.signals.types import Direction, MarketSnapshot, Signal

HUNDRED = Decimal(100)


class FundingOiParams(SignalParams):
    threshold_pct: Annotated[Decimal, Field(gt=0, lt=10)] = Field(
        default=Decimal("0.15"), description="funding per interval, %, beyond which to fade"
    )
    oi_percentile: Annotated[Decimal, Field(gt=0, lt=100)] = Field(
        default=Decimal(85), description="open interest must rank at or above this percentile"
    )
    min_oi_history: Annotated[int, Field(ge=2)] = Field(
        default=20, description="open-interest readings needed before the percentile counts"
    )


@signal_strategy("funding_oi")
class FundingOi(SignalStrategy[FundingOiParams]):
    params_model = FundingOiParams

    def evaluate(self, snapshot: MarketSnapshot) -> Signal | None:
        funding, oi = snapshot.funding_rate, snapshot.open_interest
        history = snapshot.open_interest_history
        if funding is None or oi is None or len(history) < self.params.min_oi_history:
            return None
        funding_pct = funding * HUNDRED
        threshold = self.params.threshold_pct
        if abs(funding_pct) <= threshold:
            return None
        rank = percentile_rank(history, oi)
        if rank is None or rank < self.params.oi_percentile:
            return None
        direction = Direction.SHORT if funding_pct > 0 else Direction.LONG
        return self.signal(
            snapshot,
            direction,
            scaled_confidence(abs(funding_pct) - threshold, threshold),
            funding_pct=str(funding_pct),
            oi_percentile=str(rank),
        )
